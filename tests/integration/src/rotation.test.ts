import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CreatedKey,
  fileJournal,
  RotationError,
  type RotationState,
  rotateKey,
} from '@keyway/core'
import { findSecrets } from '@keyway/testkit/conformance'
import { describe, expect, it } from 'vitest'
import { Crash, crashingJournal } from './crash-journal.js'
import { activeIds, seedKey, storeFor, vendors, withEmulator } from './vendors.js'

const quick = { verifyIntervalMs: 5 }

describe.each(vendors)('rotateKey at %s', (vendor) => {
  it('creates, delivers, verifies, then deletes the old key', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const before = await activeIds(store)
      const delivered: CreatedKey[] = []
      const result = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        deliver: (created) => void delivered.push(created),
      })
      expect(delivered).toHaveLength(1)
      expect(result.secret?.reveal()).toBe(delivered[0]?.secret.reveal())
      expect(result.retired).toBe('deleted')
      expect(result.verified).toBe(store.capabilities.verify)
      expect(emulator.control.works(old.secret)).toBe(false)
      expect(emulator.control.works(result.secret?.reveal() as string)).toBe(true)
      const after = await activeIds(store)
      expect(after.filter((id) => !before.includes(id))).toEqual([result.newKeyId])
      expect(after).not.toContain(old.id)
      if (store.capabilities.names) expect(result.newKey?.name).toBe('to-rotate')
      expect(findSecrets(result, [old.secret, result.secret?.reveal() as string])).toEqual([])
    }))

  it('deletes the new key and leaves the old one when delivery throws', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const before = await activeIds(store)
      let minted = ''
      const error = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        deliver: (created) => {
          minted = created.secret.reveal()
          throw new Error(`vault refused ${minted}`)
        },
      }).catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(RotationError)
      expect(error).toMatchObject({ step: 'deliver', rolledBack: true })
      expect(findSecrets(error, [minted, old.secret])).toEqual([])
      expect(emulator.control.works(old.secret)).toBe(true)
      expect(emulator.control.works(minted)).toBe(false)
      expect(await activeIds(store)).toEqual(before)
    }))

  it('deletes the new key and leaves the old one when verification fails', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const before = await activeIds(store)
      const error = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        deliver: () => {},
        verify: () => false,
        verifyAttempts: 2,
      }).catch((thrown: unknown) => thrown)
      expect(error).toMatchObject({ name: 'RotationError', step: 'verify', rolledBack: true })
      expect(emulator.control.works(old.secret)).toBe(true)
      expect(await activeIds(store)).toEqual(before)
    }))

  it('keeps both keys and says so when retiring the old key fails', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      let created: CreatedKey | undefined
      const retireMethod = vendor === 'notedx' ? 'POST' : 'DELETE'
      const error = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        deliver: (fresh) => {
          created = fresh
          emulator.inject({ match: { method: retireMethod }, status: 503, times: 10 })
        },
      }).catch((thrown: unknown) => thrown)
      expect(error).toMatchObject({ name: 'RotationError', step: 'retire', rolledBack: false })
      expect((error as Error).message).toContain(created?.key.id)
      expect(emulator.control.works(old.secret)).toBe(true)
      expect(emulator.control.works(created?.secret.reveal() as string)).toBe(true)
    }))

  it('leaves exactly one new key when the create is processed and its answer lost', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      await store.list()
      const before = await activeIds(store)
      emulator.inject({ match: { method: 'POST' }, drop: 'after' })
      const result = await rotateKey(store, { ...quick, keyId: old.id, deliver: () => {} })
      const after = await activeIds(store)
      expect(after.filter((id) => !before.includes(id))).toEqual([result.newKeyId])
      expect(emulator.control.works(old.secret)).toBe(false)
    }))

  const crashPoints: Array<[RotationState, 'before' | 'after']> = [
    ['started', 'after'],
    ['creating', 'after'],
    ['created', 'before'],
    ['created', 'after'],
    ['delivered', 'after'],
    ['verified', 'after'],
    ['done', 'before'],
  ]
  it.each(crashPoints)(
    'resumes after a crash %s writing "%s": one new key, the old one retired',
    (state, when) =>
      withEmulator(vendor, async (emulator) => {
        const old = seedKey(emulator)
        const before = await activeIds(storeFor(emulator))
        const { journal, records } = crashingJournal({ state, when })
        const delivered: string[] = []
        const options = {
          ...quick,
          keyId: old.id,
          rotationId: 'rotation-under-test',
          journal,
          deliver: (created: CreatedKey) => void delivered.push(created.secret.reveal()),
        }
        const first = await rotateKey(storeFor(emulator), options).catch((error: unknown) => error)
        expect(first).toBeInstanceOf(Crash)
        // A new process: a new store, nothing kept but the journal.
        const result = await rotateKey(storeFor(emulator), options)
        expect(result.resumed).toBe(true)
        const store = storeFor(emulator)
        const added = (await activeIds(store)).filter((id) => !before.includes(id))
        expect(added).toEqual([result.newKeyId])
        expect(emulator.control.works(old.secret)).toBe(false)
        expect(delivered.filter((secret) => emulator.control.works(secret))).toHaveLength(1)
        expect(findSecrets([...records.values()], [...delivered, old.secret])).toEqual([])
        // Finished means finished: running it again changes nothing.
        const again = await rotateKey(storeFor(emulator), options)
        expect(again.newKeyId).toBe(result.newKeyId)
        expect((await activeIds(store)).filter((id) => !before.includes(id))).toEqual([
          result.newKeyId,
        ])
      }),
  )
})

describe('rotateKey options', () => {
  it("refuses to retire the store's own Latitude key unless allowSelf, then switches over first", () =>
    withEmulator('latitudesh', async (emulator) => {
      const store = storeFor(emulator)
      const [own] = (await store.credentialKeyIds?.()) ?? []
      expect(own).toBeDefined()
      const refused = await rotateKey(store, { keyId: own as string, deliver: () => {} }).catch(
        (error: unknown) => error,
      )
      expect(refused).toMatchObject({ name: 'RotationError', step: 'create', rolledBack: false })
      expect(emulator.control.works(emulator.settings.token as string)).toBe(true)

      const result = await rotateKey(store, {
        ...quick,
        keyId: own as string,
        deliver: () => {},
        allowSelf: true,
      })
      expect(emulator.control.works(emulator.settings.token as string)).toBe(false)
      // The store carried on with the new key.
      expect((await store.list()).map((key) => key.id)).toContain(result.newKeyId)
      expect(await store.credentialKeyIds?.()).toEqual([result.newKeyId])
    }))

  it('disables instead of deleting where asked, and refuses that where the vendor cannot', async () => {
    await withEmulator('openrouter', async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const result = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        deliver: () => {},
        retire: 'disable',
      })
      expect(result.retired).toBe('disabled')
      expect((await store.get(old.id)).status).toBe('disabled')
    })
    await withEmulator('voiceable', async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const before = emulator.requests.length
      await expect(
        rotateKey(store, { keyId: old.id, deliver: () => {}, retire: 'disable' }),
      ).rejects.toThrow(/does not support disable/)
      expect(emulator.requests.length).toBe(before)
    })
  })

  it('keeps the old key with retire: keep, and uses the given name', () =>
    withEmulator('openrouter', async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const result = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        deliver: () => {},
        retire: 'keep',
        input: { name: 'renamed-on-rotation' },
      })
      expect(result.retired).toBe('kept')
      expect(result.newKey?.name).toBe('renamed-on-rotation')
      expect(emulator.control.works(old.secret)).toBe(true)
    }))

  it('regenerates in place at Latitude only when asked, and says the old secret is gone', () =>
    withEmulator('latitudesh', async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const result = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        deliver: () => {},
        strategy: 'regenerate',
      })
      expect(result).toMatchObject({ retired: 'replaced', newKeyId: old.id, verified: true })
      expect(emulator.control.works(old.secret)).toBe(false)
      expect(emulator.control.works(result.secret?.reveal() as string)).toBe(true)
      await expect(
        withEmulator('openrouter', async (other) =>
          rotateKey(storeFor(other), {
            keyId: seedKey(other).id,
            deliver: () => {},
            strategy: 'regenerate',
          }),
        ),
      ).rejects.toThrow(/does not support regenerate/)
    }))

  it('journals to a file atomically, ids and steps only', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'keyway-journal-'))
    try {
      await withEmulator('openrouter', async (emulator) => {
        const path = join(folder, 'rotations.json')
        const old = seedKey(emulator)
        const result = await rotateKey(storeFor(emulator), {
          ...quick,
          keyId: old.id,
          deliver: () => {},
          journal: fileJournal(path),
          rotationId: 'r1',
        })
        const text = await readFile(path, 'utf8')
        const saved = JSON.parse(text) as {
          version: number
          rotations: Record<
            string,
            { state: string; newKeyId: string; history: { state: string }[] }
          >
        }
        expect(saved.version).toBe(2)
        expect(saved.rotations.r1?.state).toBe('done')
        expect(saved.rotations.r1?.newKeyId).toBe(result.newKeyId)
        expect(saved.rotations.r1?.history.map((entry) => entry.state)).toEqual([
          'started',
          'creating',
          'created',
          'delivered',
          'verified',
          'done',
        ])
        expect(text).not.toContain(result.secret?.reveal())
        expect(text).not.toContain(old.secret)
        expect(text).not.toContain(emulator.settings.managementKey)
      })
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})
