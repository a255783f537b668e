import { startVoiceableEmulator } from '@keyway/testkit'
import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { createVoiceableKeyStore, voiceableCapabilities } from './voiceable-key-store.js'

describeKeyStoreConformance({
  vendor: 'voiceable',
  startEmulator: startVoiceableEmulator,
  createRequest: { method: 'POST', path: /\/api_keys$/ },
  settleRequest: { method: 'PUT', path: /\/api_keys\/[^/]+$/ },
  createStore: (settings) => createVoiceableKeyStore(settings),
  capabilities: voiceableCapabilities,
  unknownId: '999999',
  successorSeed: () => ({
    keyType: 'public',
    allowedOrigins: ['https://example.com'],
    allowedAssistants: ['17', '42'],
    transientAssistant: true,
  }),
})
