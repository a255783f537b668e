import {
  ResponseValidationError,
  rotateKey,
  rotateKeys,
  UnsupportedOperationError,
  ValidationError,
} from '@keyway/core'
import { type AnthropicEmulatorControl, startAnthropicEmulator } from '@keyway/testkit'
import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { expect, it } from 'vitest'
import { anthropicCapabilities, createAnthropicKeyStore } from './anthropic-key-store.js'

describeKeyStoreConformance({
  vendor: 'anthropic',
  startEmulator: startAnthropicEmulator,
  createStore: (settings) => createAnthropicKeyStore(settings),
  capabilities: anthropicCapabilities,
  unknownId: 'apikey_01NoSuchKey0000000000000',
  additionalTests: (context) => {
    const control = () => context.emulator.control as AnthropicEmulatorControl

    it('archives a key: it stops working, and no later update can bring it back', async () => {
      const { id, secret } = control().seedKey({ name: 'to-archive' })
      const archived = await context.store.update(id, { status: 'archived' })
      expect(archived.status).toBe('archived')
      expect(control().works(secret)).toBe(false)
      expect(context.emulator.requests.at(-1)).toMatchObject({
        method: 'POST',
        path: `/v1/organizations/api_keys/${id}`,
        body: { status: 'archived' },
      })
      const error = await context.store.update(id, { status: 'active' }).catch((thrown) => thrown)
      expect(error).toBeInstanceOf(ValidationError)
      expect(error).toMatchObject({
        status: 400,
        vendorCode: 'invalid_request_error',
        message: expect.stringContaining('An archived API key cannot be changed'),
      })
      expect((await context.store.get(id)).status).toBe('archived')
    })

    it('reads expired keys as expired and shows the expiry', async () => {
      const expiresAt = new Date(Date.now() - 86_400_000)
      const { id } = control().seedKey({ name: 'expired', expiresAt })
      const key = await context.store.get(id)
      expect(key.status).toBe('expired')
      expect(key.expiresAt?.toISOString()).toBe(expiresAt.toISOString())
    })

    it('lists only active keys without disabled ones, using the vendor filter', async () => {
      const { id } = control().seedKey({ name: 'inactive', status: 'inactive' })
      const listed = await context.store.list({ includeDisabled: false })
      expect(listed.map((key) => key.id)).not.toContain(id)
      expect(listed.every((key) => key.status === 'active')).toBe(true)
      expect(context.emulator.requests.at(-1)?.path).toBe(
        '/v1/organizations/api_keys?limit=100&status=active',
      )
    })

    it('sends the admin key as x-api-key with anthropic-version, and reads the hint', async () => {
      const { id, secret } = control().seedKey({ name: 'hinted' })
      const key = await context.store.get(id)
      expect(key.hint).toBe(`sk-ant-api03-${secret.slice(13, 16)}...${secret.slice(-4)}`)
      const request = context.emulator.requests.at(-1)
      expect(request?.headers['anthropic-version']).toBe('2023-06-01')
      expect(request?.headers['x-api-key']).toBeDefined()
      expect(request?.headers['x-api-key']).not.toBe(context.settings.adminKey)
    })

    it('refuses a rotation outright, naming what the vendor still allows', async () => {
      const [key] = await context.store.list()
      const before = context.emulator.requests.length
      const single = await rotateKey(context.store, {
        keyId: key?.id as string,
        deliver: () => {},
      }).catch((thrown) => thrown)
      const batch = await rotateKeys(context.store, { deliver: () => {} }).catch((thrown) => thrown)
      for (const error of [single, batch]) {
        expect(error).toBeInstanceOf(UnsupportedOperationError)
        expect(error).toMatchObject({
          feature: 'create',
          message: 'anthropic cannot create keys through its API: audit and disable only',
        })
      }
      expect(context.emulator.requests.length).toBe(before)
    })

    it('plans every key as skipped, saying why, and writes nothing', async () => {
      const listed = await context.store.list()
      const before = context.emulator.requests.length
      const result = await rotateKeys(context.store, { dryRun: true })
      expect(result.plans.length).toBe(listed.filter((key) => key.status === 'active').length)
      for (const plan of result.plans) {
        expect(plan).toMatchObject({
          action: 'skip',
          reason: 'anthropic cannot create keys through its API: audit and disable only',
        })
      }
      expect(
        context.emulator.requests.slice(before).every((request) => request.method === 'GET'),
      ).toBe(true)
    })

    it('refuses a page that says it has more but names no last key', async () => {
      context.emulator.inject({
        match: { method: 'GET' },
        status: 200,
        body: { data: [], has_more: true, first_id: null, last_id: null },
      })
      await expect(context.store.list()).rejects.toBeInstanceOf(ResponseValidationError)
    })
  },
})
