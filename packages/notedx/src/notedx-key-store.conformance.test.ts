import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { createNoteDxKeyStore } from './notedx-key-store.js'

describeKeyStoreConformance({
  vendor: 'notedx',
  createStore: (settings) => createNoteDxKeyStore(settings),
  unknownId: 'ndx_000000000000000000000000',
  successorSeed: () => ({ type: 'live', metadata: { team: 'platform', purpose: 'ci' } }),
})
