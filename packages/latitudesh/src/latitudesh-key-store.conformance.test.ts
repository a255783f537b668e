import { ProviderError } from '@keyway/core'
import { startLatitudeEmulator } from '@keyway/testkit'
import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { expect, it } from 'vitest'
import { createLatitudeKeyStore, latitudeCapabilities } from './latitudesh-key-store.js'

describeKeyStoreConformance({
  vendor: 'latitudesh',
  startEmulator: startLatitudeEmulator,
  createRequest: { method: 'POST', path: /\/auth\/api_keys$/ },
  settleRequest: { method: 'PATCH', path: /\/auth\/api_keys\/[^/]+$/ },
  createStore: (settings) => createLatitudeKeyStore(settings),
  capabilities: latitudeCapabilities,
  unknownId: 'tok_zzzzzzzzzzzzz',
  // The suite makes more calls a minute than Latitude allows; its limits have their own tests.
  emulator: { rateLimit: false },
  successorSeed: () => ({ readOnly: true, allowedIps: ['203.0.113.0/24', '198.51.100.7'] }),
  additionalTests: (context) => {
    it('sends a regenerate once, even when it fails with a retryable 503', async () => {
      const { key, secret } = await context.store.create({ name: 'regenerate-once' })
      context.secrets.add(secret.reveal())
      context.emulator.inject({ match: { method: 'PUT' }, status: 503, times: 3 })
      await expect(context.store.regenerate(key.id)).rejects.toBeInstanceOf(ProviderError)
      const puts = context.emulator.requests.filter((request) => request.method === 'PUT')
      expect(puts).toHaveLength(1)
    })
  },
})
