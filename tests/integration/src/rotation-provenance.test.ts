// Creates, rollbacks and resumes touch only keys they can prove they made: by the id the
// journal holds or by the create's marker, never by a name.
import { type CreatedKey, memoryJournal, RotationError, rotateKey, rotateKeys } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import { Crash, crashingJournal } from './crash-journal.js'
import { activeIds, seedKey, storeFor, vendors, withEmulator } from './vendors.js'

const quick = { verifyIntervalMs: 5 }

describe.each(vendors)('provenance at %s', (vendor) => {
  it('two rotations of keys that share a name, one create answer lost: both end with one delivered, working key', () =>
    withEmulator(vendor, async (emulator) => {
      const keys = [seedKey(emulator, 'ci-deploy'), seedKey(emulator, 'ci-deploy')]
      const delivered = new Map<string, string>()
      emulator.inject({ match: { method: 'POST' }, drop: 'after' })
      const result = await rotateKeys(storeFor(emulator), {
        ...quick,
        keyIds: keys.map((key) => key.id),
        concurrency: 2,
        deliver: (created) => void delivered.set(created.key.id, created.secret.reveal()),
      })
      expect(result.rotated).toBe(2)
      for (const outcome of result.outcomes) {
        const secret = outcome.status === 'rotated' ? delivered.get(outcome.result.newKeyId) : ''
        expect(emulator.control.works(secret as string)).toBe(true)
      }
      expect(keys.every((key) => !emulator.control.works(key.secret))).toBe(true)
    }))

  it("resuming a lost create never deletes another rotation's new key of the same name", () =>
    withEmulator(vendor, async (emulator) => {
      const mine = seedKey(emulator, 'ci-deploy')
      const theirs = seedKey(emulator, 'ci-deploy')
      // This rotation journals its create, then the process dies before the answer.
      const { journal } = crashingJournal({ state: 'creating', when: 'after' })
      const options = {
        ...quick,
        keyId: mine.id,
        rotationId: 'mine',
        journal,
        deliver: () => {},
      }
      await expect(rotateKey(storeFor(emulator), options)).rejects.toBeInstanceOf(Crash)
      // Meanwhile another rotation makes a key of the same name and delivers it.
      let theirSecret = ''
      await rotateKey(storeFor(emulator), {
        ...quick,
        keyId: theirs.id,
        deliver: (created: CreatedKey) => {
          theirSecret = created.secret.reveal()
        },
      })
      const result = await rotateKey(storeFor(emulator), options)
      expect(result.resumed).toBe(true)
      expect(emulator.control.works(theirSecret)).toBe(true)
      expect(emulator.control.works(result.secret?.reveal() as string)).toBe(true)
      expect(emulator.control.works(mine.secret)).toBe(false)
    }))

  it('a reconcile that cannot list leaves the rotation resumable, and the resume removes the orphan by its marker', () =>
    withEmulator(vendor, async (emulator) => {
      const old = seedKey(emulator, 'ci-deploy')
      const store = storeFor(emulator)
      const before = await activeIds(store)
      const journal = memoryJournal()
      const options = { ...quick, keyId: old.id, rotationId: 'r', journal, deliver: () => {} }
      const error = await rotateKey(store, {
        ...options,
        // Once the create is journalled: its answer is lost, and every list the reconcile tries fails.
        onStep: ({ state }) => {
          if (state !== 'creating') return
          emulator.inject({ match: { method: 'POST' }, drop: 'after' })
          emulator.inject({ match: { method: 'GET' }, status: 500, times: 40 })
        },
      }).catch((thrown: unknown) => thrown)
      emulator.clearFaults()
      expect(error).toBeInstanceOf(RotationError)
      expect(error).toMatchObject({ rolledBack: false })
      const record = journal.records.get('r')
      expect(record?.state).toBe('creating')
      expect((error as Error).message).toContain(record?.marker as string)
      expect((error as Error).message).toMatch(/run the rotation again/)
      const orphans = (await activeIds(store)).filter((id) => !before.includes(id))
      expect(orphans).toHaveLength(1)

      const result = await rotateKey(storeFor(emulator), options)
      const after = (await activeIds(store)).filter((id) => !before.includes(id))
      expect(after).toEqual([result.newKeyId])
      expect(result.warnings.join(' ')).toContain(orphans[0] as string)
    }))
})

describe('Latitude regenerate', () => {
  it('never deletes the key when delivery fails, and says the old secret is dead', () =>
    withEmulator('latitudesh', async (emulator) => {
      const old = seedKey(emulator, 'ci-regenerate')
      const journal = memoryJournal()
      let deliveries = 0
      const delivered: string[] = []
      const options = {
        ...quick,
        keyId: old.id,
        rotationId: 'r',
        journal,
        strategy: 'regenerate' as const,
        deliver: (created: CreatedKey) => {
          deliveries++
          if (deliveries === 1) throw new Error('vault down')
          delivered.push(created.secret.reveal())
        },
      }
      const error = await rotateKey(storeFor(emulator), options).catch((thrown: unknown) => thrown)
      expect(error).toMatchObject({ name: 'RotationError', step: 'deliver', rolledBack: false })
      expect((error as Error).message).toMatch(/old secret no longer works/)
      expect(emulator.control.keyIds()).toContain(old.id)
      const result = await rotateKey(storeFor(emulator), options)
      expect(result.newKeyId).toBe(old.id)
      expect(delivered).toHaveLength(1)
      expect(emulator.control.works(delivered[0] as string)).toBe(true)
    }))

  it('a resume after a crash past delivery neither deletes nor regenerates the key', () =>
    withEmulator('latitudesh', async (emulator) => {
      const old = seedKey(emulator, 'ci-regenerate')
      const { journal } = crashingJournal({ state: 'verified', when: 'before' })
      const delivered: string[] = []
      const options = {
        ...quick,
        keyId: old.id,
        rotationId: 'r',
        journal,
        strategy: 'regenerate' as const,
        deliver: (created: CreatedKey) => void delivered.push(created.secret.reveal()),
      }
      await expect(rotateKey(storeFor(emulator), options)).rejects.toBeInstanceOf(Crash)
      const puts = () => emulator.requests.filter((request) => request.method === 'PUT').length
      const regenerates = puts()
      await rotateKey(storeFor(emulator), options)
      expect(puts()).toBe(regenerates)
      expect(emulator.control.keyIds()).toContain(old.id)
      expect(emulator.control.works(delivered[0] as string)).toBe(true)
    }))

  it('a resume after a crash between delivery and its journal entry never deletes the key', () =>
    withEmulator('latitudesh', async (emulator) => {
      const old = seedKey(emulator, 'ci-regenerate')
      const { journal } = crashingJournal({ state: 'delivered', when: 'before' })
      const delivered: string[] = []
      const options = {
        ...quick,
        keyId: old.id,
        rotationId: 'r',
        journal,
        strategy: 'regenerate' as const,
        deliver: (created: CreatedKey) => void delivered.push(created.secret.reveal()),
      }
      await expect(rotateKey(storeFor(emulator), options)).rejects.toBeInstanceOf(Crash)
      const result = await rotateKey(storeFor(emulator), options)
      expect(emulator.requests.filter((request) => request.method === 'DELETE')).toHaveLength(0)
      expect(emulator.control.keyIds()).toContain(old.id)
      // The journal never heard of the first delivery: the key was regenerated once more and delivered again.
      expect(delivered.at(-1)).toBe(result.secret?.reveal())
      expect(emulator.control.works(delivered.at(-1) as string)).toBe(true)
    }))

  it("guards the store's own token, and with allowSelf switches the store to the new one", () =>
    withEmulator('latitudesh', async (emulator) => {
      const store = storeFor(emulator)
      const [own] = (await store.credentialKeyIds?.()) ?? []
      const options = {
        ...quick,
        keyId: own as string,
        strategy: 'regenerate' as const,
        deliver: () => {},
      }
      const refused = await rotateKey(store, options).catch((thrown: unknown) => thrown)
      expect((refused as Error).message).toMatch(/regenerating it would kill that credential/)
      expect(emulator.requests.filter((request) => request.method === 'PUT')).toHaveLength(0)
      const result = await rotateKey(store, { ...options, allowSelf: true })
      expect(emulator.control.works(emulator.settings.token as string)).toBe(false)
      expect(emulator.control.works(result.secret?.reveal() as string)).toBe(true)
      // The store carried on with the new token.
      await expect(store.list()).resolves.toBeDefined()
    }))
})
