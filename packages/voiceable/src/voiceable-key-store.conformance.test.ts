import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { createVoiceableKeyStore, voiceableCapabilities } from './voiceable-key-store.js'

describeKeyStoreConformance({
  vendor: 'voiceable',
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
