// Rotation tried as an attacker of its promises would, against the emulators: overrides that
// would drop a restriction, and the store's own credential when the store is told, or shown,
// too little to name it.
import { memoryJournal, rotateKey, rotateKeys, ValidationError } from '@keyway/core'
import { noteDxKeyId } from '@keyway/notedx'
import type { Emulator } from '@keyway/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { makeRestrictedKey } from './restricted-keys.js'
import { seedKey, storeFor, vendors, withEmulator } from './vendors.js'

const quick = { verifyIntervalMs: 5 }

describe.each(vendors)('overrides at %s', (vendor) => {
  it('an override left undefined keeps the old key’s setting: no restriction is dropped', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = await makeRestrictedKey(store, emulator, 'restricted')
      const before = emulator.control.keyAttributes(old.secret)
      // As a caller passes unset options along: `{ readOnly: options.readOnly, … }`.
      const unset = Object.fromEntries(
        (store.capabilities.create || []).map((field) => [field, undefined]),
      )
      const result = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        deliver: () => {},
        input: unset,
      })
      expect(emulator.control.keyAttributes(result.secret?.reveal() as string)).toEqual(before)
    }))
})

describe.each(['openrouter', 'notedx'] as const)('a key that does not work at %s', (vendor) => {
  it('is skipped before anything is written: its successor would work where it does not', () =>
    withEmulator(vendor, async (emulator) => {
      const seeded = emulator.control.seedKey({ name: 'switched-off', disabled: true })
      const id = vendor === 'notedx' ? noteDxKeyId(seeded.secret) : seeded.id
      const store = storeFor(emulator)
      // NoteDx signs in with a POST: that is not a write.
      const writes = () =>
        emulator.requests.filter(
          (request) => request.method !== 'GET' && !/\/auth\/(login|refresh)$/.test(request.path),
        ).length
      const keysBefore = emulator.control.keyIds().length
      const error = await rotateKey(store, { ...quick, keyId: id, deliver: () => {} }).catch(
        (thrown: unknown) => thrown,
      )
      expect((error as Error).message).toMatch(/skipped, nothing was created.*enable it first/)
      const batch = await rotateKeys(store, { ...quick, keyIds: [id], deliver: () => {} })
      expect(batch.outcomes).toMatchObject([{ keyId: id, status: 'skipped' }])
      expect(writes()).toBe(0)
      expect(emulator.control.keyIds()).toHaveLength(keysBefore)
    }))
})

describe('an expired key at OpenRouter', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is skipped: its successor would never expire and work where it does not, unless an expiry is given', () =>
    withEmulator('openrouter', async (emulator) => {
      const store = storeFor(emulator)
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(new Date('2026-01-01T00:00:00Z'))
      const old = await store.create({ name: 'temp', expiresAt: new Date('2026-01-02T00:00:00Z') })
      vi.useRealTimers()
      expect(emulator.control.works(old.secret.reveal())).toBe(false)
      const keysBefore = emulator.control.keyIds().length
      const error = await rotateKey(store, {
        ...quick,
        keyId: old.key.id,
        deliver: () => {},
      }).catch((thrown: unknown) => thrown)
      expect((error as Error).message).toMatch(/expired at 2026-01-02T00:00:00.000Z/)
      const batch = await rotateKeys(store, { ...quick, deliver: () => {} })
      expect(batch.outcomes.find((outcome) => outcome.keyId === old.key.id)?.status).toBe('skipped')
      expect(emulator.control.keyIds()).toContain(old.key.id)
      const expiresAt = new Date(Date.now() + 86_400_000)
      const renewed = await rotateKey(store, {
        ...quick,
        keyId: old.key.id,
        deliver: () => {},
        input: { expiresAt },
      })
      expect(emulator.control.keyAttributes(renewed.secret?.reveal() as string)?.expires_at).toBe(
        expiresAt.toISOString(),
      )
      expect(emulator.control.keyIds().length).toBeLessThanOrEqual(keysBefore)
    }))
})

describe("the store's own credential", () => {
  it('Voiceable with a credential key id that is not listed (stale or mistyped): no private key is retired', () =>
    withEmulator('voiceable', async (emulator) => {
      // The id an earlier rotation retired, while VOICEABLE_API_KEY_ID still names it.
      const store = storeFor(emulator, undefined, { credentialKeyId: '999999' } as never)
      const worker = seedKey(emulator, 'worker-1')
      const result = await rotateKeys(store, { ...quick, deliver: () => {} })
      expect(result.failed).toBe(0)
      const own = emulator.settings.credentialKeyId as string
      const skipped = result.outcomes.filter((outcome) => outcome.status === 'skipped')
      expect(skipped.map((outcome) => outcome.keyId)).toContain(own)
      expect(emulator.control.works(emulator.settings.apiKey as string)).toBe(true)
      await expect(store.list()).resolves.toBeDefined()
      // The seeded worker key is private too: it may be the credential, so it stays.
      expect(emulator.control.works(worker.secret)).toBe(true)
    }))

  it('Latitude listing keys without their last characters (optional in its spec): the store keeps its own key', () =>
    withEmulator('latitudesh', async (emulator) => {
      const token = emulator.settings.token as string
      const response = await fetch(`${emulator.url}/auth/api_keys`, {
        headers: { authorization: token },
      })
      const body = (await response.json()) as {
        data: Array<{ attributes: Record<string, unknown> }>
      }
      for (const item of body.data) delete item.attributes.token_last_slice
      emulator.inject({ match: { method: 'GET', path: '/auth/api_keys' }, status: 200, body })
      const store = storeFor(emulator)
      const result = await rotateKeys(store, { ...quick, deliver: () => {} })
      expect(result.failed).toBe(0)
      expect(result.rotated).toBe(0)
      expect(emulator.control.works(token)).toBe(true)
      await expect(store.list()).resolves.toBeDefined()
    }))
})

describe('batches', () => {
  it('a batch is never taken for another whose id it begins: its own filter, and an unknown resume refused', () =>
    withEmulator('openrouter', async (emulator) => {
      const journal = memoryJournal()
      const [first, second] = [seedKey(emulator, 'eu-1'), seedKey(emulator, 'us-1')]
      const options = { ...quick, journal, deliver: () => {} }
      const eu = await rotateKeys(storeFor(emulator), {
        ...options,
        batchId: 'nightly/eu',
        keyIds: [first.id],
      })
      expect(eu.rotated).toBe(1)
      const nightly = await rotateKeys(storeFor(emulator), {
        ...options,
        batchId: 'nightly',
        filter: (key) => key.id === second.id,
      })
      expect(nightly.resumed).toBe(false)
      expect(nightly.outcomes.map((outcome) => [outcome.keyId, outcome.status])).toEqual([
        [second.id, 'rotated'],
      ])
      await expect(
        rotateKeys(storeFor(emulator), { ...options, batchId: 'nightly/e', resume: true }),
      ).rejects.toThrow(ValidationError)
      const sent = emulator.requests.length
      await expect(
        rotateKeys(storeFor(emulator), { ...options, batchId: 'nightly', resume: true }),
      ).resolves.toMatchObject({ resumed: true, rotated: 1 })
      expect(emulator.requests.filter((request) => request.method !== 'GET')).toHaveLength(
        emulator.requests.slice(0, sent).filter((request) => request.method !== 'GET').length,
      )
    }))
})

describe('a journal of another account (Voiceable ids repeat across accounts)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  /** Seeds a key at each of two accounts; both get the same id, made a minute apart. */
  const seedBoth = (staging: Emulator, prod: Emulator) => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-01-05T10:00:00.123Z'))
    const stagingKey = seedKey(staging, 'worker')
    vi.setSystemTime(new Date('2026-01-05T10:01:00.456Z'))
    const prodKey = seedKey(prod, 'billing')
    const prodOther = seedKey(prod, 'other')
    vi.useRealTimers()
    expect(prodKey.id).toBe(stagingKey.id)
    return { stagingKey, prodKey, prodOther }
  }

  it('a resumed rotation touches no key that merely shares the journalled ids', () =>
    withEmulator('voiceable', (staging) =>
      withEmulator('voiceable', async (prod) => {
        const { stagingKey, prodKey, prodOther } = seedBoth(staging, prod)
        const journal = memoryJournal()
        const controller = new AbortController()
        await expect(
          rotateKey(storeFor(staging), {
            ...quick,
            keyId: stagingKey.id,
            rotationId: 'r-1',
            journal,
            deliver: () => {},
            signal: controller.signal,
            onStep: (event) => {
              if (event.state === 'verified') controller.abort()
            },
          }),
        ).rejects.toThrow(/stopped at "verified"/)
        // The new staging key's id is the id of another prod key.
        expect(journal.records.get('r-1')?.newKeyId).toBe(prodOther.id)
        const sent = prod.requests.filter((request) => request.method !== 'GET').length
        await expect(
          rotateKey(storeFor(prod), {
            ...quick,
            keyId: prodKey.id,
            rotationId: 'r-1',
            journal,
            deliver: () => {},
          }),
        ).rejects.toThrow(ValidationError)
        expect(prod.requests.filter((request) => request.method !== 'GET')).toHaveLength(sent)
        expect(prod.control.works(prodKey.secret)).toBe(true)
        expect(prod.control.works(prodOther.secret)).toBe(true)
      }),
    ))

  it('a resumed batch refuses keys that merely share its ids, before any write', () =>
    withEmulator('voiceable', (staging) =>
      withEmulator('voiceable', async (prod) => {
        const { stagingKey, prodKey } = seedBoth(staging, prod)
        const journal = memoryJournal()
        const options = { ...quick, journal, batchId: 'nightly', deliver: () => {} }
        const controller = new AbortController()
        await expect(
          rotateKeys(storeFor(staging), {
            ...options,
            keyIds: [stagingKey.id],
            signal: controller.signal,
            onStep: (event) => {
              if (event.state === 'created') controller.abort()
            },
          }),
        ).rejects.toThrow()
        expect(journal.records.get(`nightly/${stagingKey.id}`)?.newKeyId).not.toBeNull()
        const sent = prod.requests.filter((request) => request.method !== 'GET').length
        await expect(rotateKeys(storeFor(prod), { ...options, resume: true })).rejects.toThrow(
          /another account/,
        )
        expect(prod.requests.filter((request) => request.method !== 'GET')).toHaveLength(sent)
        expect(prod.control.works(prodKey.secret)).toBe(true)
      }),
    ))
})

describe('a key still named with a create marker', () => {
  it('gives the successor the plain name, so an earlier rotation’s marker never finds it', () =>
    withEmulator('openrouter', async (emulator) => {
      const marker = `kw${'1234567890'.repeat(2)}12`
      const old = seedKey(emulator, `deploy~${marker}`)
      const store = storeFor(emulator)
      const result = await rotateKey(store, { ...quick, keyId: old.id, deliver: () => {} })
      expect(result.newKey?.name).toBe('deploy')
      expect(await store.findCreated(marker)).toEqual([])
      expect(result.warnings.join(' ')).toContain('ends in a create marker')
    }))
})
