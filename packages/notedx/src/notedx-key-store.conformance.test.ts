import { startNoteDxEmulator } from '@keyway/testkit'
import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { expect, it } from 'vitest'
import { createNoteDxKeyStore, noteDxCapabilities } from './notedx-key-store.js'

describeKeyStoreConformance({
  vendor: 'notedx',
  startEmulator: startNoteDxEmulator,
  createRequest: { method: 'POST', path: /\/user\/create-api-key$/ },
  settleRequest: { method: 'POST', path: /\/user\/update-api-key-metadata$/ },
  createStore: (settings) => createNoteDxKeyStore(settings),
  capabilities: noteDxCapabilities,
  unknownId: 'ndx_000000000000000000000000',
  successorSeed: () => ({ type: 'live', metadata: { team: 'platform', purpose: 'ci' } }),
  additionalTests: (context) => {
    it('retries a delete sent by POST after a 503, as a delete', async () => {
      const { key, secret } = await context.store.create({})
      context.secrets.add(secret.reveal())
      const deleteRequest = { method: 'POST', path: /\/user\/delete-api-key$/ }
      context.emulator.inject({ match: deleteRequest, status: 503, times: 1 })
      await context.store.delete(key.id)
      const deletes = context.emulator.requests.filter((request) =>
        deleteRequest.path.test(request.path),
      )
      expect(deletes).toHaveLength(2)
      expect(context.emulator.control.works(secret.reveal())).toBe(false)
    })
  },
})
