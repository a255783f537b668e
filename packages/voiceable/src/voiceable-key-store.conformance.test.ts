import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { createVoiceableKeyStore } from './voiceable-key-store.js'

describeKeyStoreConformance({
  vendor: 'voiceable',
  createStore: (settings) => createVoiceableKeyStore(settings),
  unknownId: '999999',
})
