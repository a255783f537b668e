// The promises of rotation, each checked against the emulators as an operator would meet it:
// the same key with a new secret, nothing retired early, no lockout, reruns that change
// nothing, unknown batches refused, keys that cannot be rotated skipped, one grace period,
// and no redundant calls.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CreatedKey,
  fileJournal,
  memoryJournal,
  type RotateKeysProgress,
  rotateKey,
  rotateKeys,
  ValidationError,
} from '@keyway/core'
import { NOTEDX_SANDBOX_BLOCKED } from '@keyway/notedx'
import type { Emulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { makeRestrictedKey } from './restricted-keys.js'
import { activeIds, seedKey, storeFor, vendors, withEmulator } from './vendors.js'

const quick = { verifyIntervalMs: 5 }
const writes = (emulator: Emulator) =>
  emulator.requests.filter((request) => request.method !== 'GET').length

describe.each(vendors)('rotation at %s', (vendor) => {
  it('makes the same key with a new secret: every settable attribute carried over', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = await makeRestrictedKey(store, emulator, 'ci-restricted')
      const before = emulator.control.keyAttributes(old.secret)
      const result = await rotateKey(store, { ...quick, keyId: old.id, deliver: () => {} })
      expect(emulator.control.keyAttributes(result.secret?.reveal() as string)).toEqual(before)
      expect(emulator.control.works(old.secret)).toBe(false)
    }))

  it('reads the keys at most once before creating the successor', () =>
    withEmulator(vendor, async (emulator) => {
      const old = seedKey(emulator, 'single-read')
      const store = storeFor(emulator)
      const before = emulator.requests.length
      await rotateKey(store, { ...quick, keyId: old.id, deliver: () => {} })
      const sent = emulator.requests.slice(before)
      // NoteDx signs in with a POST before anything else: that is not a write.
      const firstWrite = sent.findIndex(
        (request) => request.method !== 'GET' && !/\/auth\/(login|refresh)$/.test(request.path),
      )
      // The old key (a listing where the vendor has no single-key read), which also names the
      // store's own key; OpenRouter reads the key's guardrail assignments besides.
      const reads = sent
        .slice(0, firstWrite)
        .filter((request) => request.method === 'GET' && !request.path.includes('/guardrails/'))
        .map((request) => `${request.method} ${request.path}`)
      expect(firstWrite).toBeGreaterThan(0)
      // Voiceable reads the old key by id, then lists once to check that the key named as its
      // credential is still listed (a stale name must not let a rotation retire the real one).
      expect(reads).toHaveLength(vendor === 'voiceable' ? 2 : 1)
    }))

  it('reruns a finished batch with no write at all', () =>
    withEmulator(vendor, async (emulator) => {
      const keys = [1, 2, 3].map((index) => seedKey(emulator, `nightly-${index}`))
      const ids = new Set(keys.map((key) => key.id))
      const journal = memoryJournal()
      const options = {
        ...quick,
        filter: (key: { id: string }) => ids.has(key.id),
        batchId: 'nightly-2026-11-24',
        journal,
        deliver: () => {},
      }
      const first = await rotateKeys(storeFor(emulator), options)
      expect(first.rotated).toBe(3)
      const sent = writes(emulator)
      const second = await rotateKeys(storeFor(emulator), options)
      expect(second.rotated).toBe(3)
      expect(second.outcomes.map((outcome) => outcome.keyId)).toEqual(
        first.outcomes.map((outcome) => outcome.keyId),
      )
      expect(writes(emulator)).toBe(sent)
    }))

  it('waits the grace period once for a batch, after every new key is made and before any old one goes', () =>
    withEmulator(vendor, async (emulator) => {
      const keys = [1, 2, 3].map((index) => seedKey(emulator, `grace-${index}`))
      const ids = new Set(keys.map((key) => key.id))
      const progress: RotateKeysProgress[] = []
      let requestsAtGrace = -1
      const result = await rotateKeys(storeFor(emulator), {
        ...quick,
        filter: (key) => ids.has(key.id),
        concurrency: 1,
        graceMs: 20,
        deliver: () => {},
        onProgress: (event) => {
          progress.push(event)
          if (event.kind === 'waiting' && event.reason === 'grace') {
            requestsAtGrace = emulator.requests.length
          }
        },
      })
      expect(result.rotated).toBe(3)
      expect(
        progress.filter((event) => event.kind === 'waiting' && event.reason === 'grace'),
      ).toHaveLength(1)
      const retires = emulator.requests
        .map((request, index) => ({ request, index }))
        .filter(({ request }) =>
          vendor === 'notedx'
            ? request.path.endsWith('/delete-api-key')
            : request.method === 'DELETE',
        )
      expect(retires).toHaveLength(3)
      expect(retires.every(({ index }) => index >= requestsAtGrace)).toBe(true)
    }))
})

describe("the store's own credential", () => {
  it('Voiceable without a named credential key: every private key is skipped with the way out, and the store keeps working', () =>
    withEmulator('voiceable', async (emulator) => {
      const { credentialKeyId: _named, ...settings } = emulator.settings
      const store = storeFor({ ...emulator, settings } as Emulator)
      seedKey(emulator, 'worker-1')
      const privateIds = (await store.list())
        .filter((key) => (key.raw as { key_type?: string }).key_type === 'private')
        .map((key) => key.id)
      const result = await rotateKeys(store, { ...quick, deliver: () => {} })
      const skipped = result.outcomes.filter((outcome) => outcome.status === 'skipped')
      expect(skipped.map((outcome) => outcome.keyId).sort()).toEqual(privateIds.sort())
      for (const outcome of skipped) {
        expect(outcome.reason).toMatch(/credentialKeyId, or VOICEABLE_API_KEY_ID/)
        expect(outcome.reason).toMatch(/pass allowSelf/)
      }
      expect(result.failed).toBe(0)
      await expect(store.list()).resolves.toBeDefined()
      expect(emulator.control.works(emulator.settings.apiKey as string)).toBe(true)
    }))

  it('Voiceable with the credential key named: the others rotate, it is skipped, the store keeps working', () =>
    withEmulator('voiceable', async (emulator) => {
      const store = storeFor(emulator)
      const others = [seedKey(emulator, 'worker-1'), seedKey(emulator, 'worker-2')]
      const result = await rotateKeys(store, { ...quick, deliver: () => {} })
      const skipped = result.outcomes.filter((outcome) => outcome.status === 'skipped')
      expect(skipped.map((outcome) => outcome.keyId)).toEqual([emulator.settings.credentialKeyId])
      expect(others.every((key) => !emulator.control.works(key.secret))).toBe(true)
      await expect(store.list()).resolves.toBeDefined()
    }))

  it('Voiceable with allowSelf: the store switches to the new key before the old one goes', () =>
    withEmulator('voiceable', async (emulator) => {
      const store = storeFor(emulator)
      const own = emulator.settings.credentialKeyId as string
      const delivered: CreatedKey[] = []
      const result = await rotateKey(store, {
        ...quick,
        keyId: own,
        allowSelf: true,
        deliver: (created) => void delivered.push(created),
      })
      expect(emulator.control.works(emulator.settings.apiKey as string)).toBe(false)
      expect(emulator.control.works(result.secret?.reveal() as string)).toBe(true)
      await expect(store.list()).resolves.toBeDefined()
    }))
})

describe('batches', () => {
  it('refuses to resume a batch the journal does not know, naming its absolute path', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'keyway-journal-'))
    const cwd = process.cwd()
    try {
      process.chdir(folder)
      await withEmulator('openrouter', async (emulator) => {
        const journal = fileJournal('rotations.json')
        expect(journal.path).toBe(join(folder, 'rotations.json'))
        const error = await rotateKeys(storeFor(emulator), {
          batchId: 'b-typo',
          resume: true,
          journal,
          deliver: () => {},
        }).catch((thrown: unknown) => thrown)
        expect(error).toBeInstanceOf(ValidationError)
        expect((error as Error).message).toContain(join(folder, 'rotations.json'))
        expect(emulator.requests).toHaveLength(0)
      })
    } finally {
      process.chdir(cwd)
      await rm(folder, { recursive: true, force: true })
    }
  })

  it('lists once for a batch: at most one list per rotation', () =>
    withEmulator('latitudesh', async (emulator) => {
      const keys = [1, 2, 3].map((index) => seedKey(emulator, `few-${index}`))
      const ids = new Set(keys.map((key) => key.id))
      const before = emulator.requests.length
      await rotateKeys(storeFor(emulator), {
        ...quick,
        filter: (key) => ids.has(key.id),
        deliver: () => {},
      })
      const sent = emulator.requests.slice(before)
      // One list for the batch (which also names the store's own key), one verification per new key.
      expect(sent.filter((request) => request.method === 'GET')).toHaveLength(1 + 3)
    }))
})

describe('keys that cannot be rotated side by side', () => {
  it("skips NoteDx's sandbox key before anything is created, saying why", () =>
    withEmulator('notedx', async (emulator) => {
      const store = storeFor(emulator)
      const sandbox = (await store.list()).find(
        (key) => (key.raw as { type?: string }).type === 'sandbox',
      )
      const sent = writes(emulator)
      const error = await rotateKey(store, {
        keyId: sandbox?.id as string,
        deliver: () => {},
      }).catch((thrown: unknown) => thrown)
      expect((error as Error).message).toContain(NOTEDX_SANDBOX_BLOCKED)
      expect(writes(emulator)).toBe(sent)
      const batch = await rotateKeys(store, { keyIds: [sandbox?.id as string], deliver: () => {} })
      expect(batch.outcomes).toEqual([
        { keyId: sandbox?.id, status: 'skipped', reason: NOTEDX_SANDBOX_BLOCKED },
      ])
      expect(writes(emulator)).toBe(sent)
      expect(await activeIds(store)).toContain(sandbox?.id)
    }))
})
