import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { createOpenRouterKeyStore } from './openrouter-key-store.js'

describeKeyStoreConformance({
  vendor: 'openrouter',
  createStore: (settings) => createOpenRouterKeyStore(settings),
  unknownId: 'f'.repeat(64),
})
