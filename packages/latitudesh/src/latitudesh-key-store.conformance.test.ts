import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { createLatitudeKeyStore } from './latitudesh-key-store.js'

describeKeyStoreConformance({
  vendor: 'latitudesh',
  createStore: (settings) => createLatitudeKeyStore(settings),
  unknownId: 'tok_zzzzzzzzzzzzz',
  // The suite makes more calls a minute than Latitude allows; its limits have their own tests.
  emulator: { rateLimit: false },
  successorSeed: () => ({ readOnly: true, allowedIps: ['203.0.113.0/24', '198.51.100.7'] }),
})
