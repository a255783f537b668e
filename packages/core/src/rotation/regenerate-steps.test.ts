import { describe, expect, it } from 'vitest'
import type { CreatedKey } from '../types.js'
import { Crash, crashingJournal } from './crash-journal.test-support.js'
import { MemoryKeyStore } from './memory-key-store.test-support.js'
import { rotateKey } from './rotate-key.js'
import { memoryJournal } from './rotation-journal.js'

const quick = { verifyIntervalMs: 0, strategy: 'regenerate' as const }

describe('rotateKey with strategy regenerate', () => {
  it('replaces the secret in place and deletes nothing', async () => {
    const store = new MemoryKeyStore({ regenerate: true })
    const old = store.seed({ name: 'ci' })
    const result = await rotateKey(store, { ...quick, keyId: old.id, deliver: () => {} })
    expect(result).toMatchObject({ newKeyId: old.id, retired: 'replaced', verified: true })
    expect(store.works(old.secret)).toBe(false)
    expect(store.works(result.secret?.reveal() as string)).toBe(true)
    expect(store.writes.map((write) => write.operation)).toEqual(['regenerate'])
  })

  it('never deletes the key when delivery fails, says the old secret is dead, and a rerun regenerates once more', async () => {
    const store = new MemoryKeyStore({ regenerate: true })
    const old = store.seed({ name: 'ci' })
    const journal = memoryJournal()
    let calls = 0
    const delivered: CreatedKey[] = []
    const options = {
      ...quick,
      keyId: old.id,
      rotationId: 'r1',
      journal,
      deliver: (created: CreatedKey) => {
        calls++
        if (calls === 1) throw new Error('vault down')
        delivered.push(created)
      },
    }
    const error = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ step: 'deliver', rolledBack: false })
    expect((error as Error).message).toMatch(/old secret no longer works.*reached no one/)
    expect(store.entries.has(old.id)).toBe(true)
    const result = await rotateKey(store, options)
    expect(store.writes.map((write) => write.operation)).toEqual(['regenerate', 'regenerate'])
    expect(delivered.map((created) => created.secret.reveal())).toEqual([result.secret?.reveal()])
    expect(store.works(result.secret?.reveal() as string)).toBe(true)
    expect(result.warnings.join(' ')).toContain('never delivered')
  })

  it('marks a delivered secret that does not verify as failed, and a rerun sends nothing', async () => {
    const store = new MemoryKeyStore({ regenerate: true })
    const old = store.seed({ name: 'ci' })
    const journal = memoryJournal()
    const options = {
      ...quick,
      keyId: old.id,
      rotationId: 'r1',
      journal,
      deliver: () => {},
      verify: () => false,
      verifyAttempts: 1,
    }
    const error = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ step: 'verify', rolledBack: false })
    expect((error as Error).message).toMatch(/was delivered but did not work/)
    expect(journal.records.get('r1')?.state).toBe('failed')
    const writes = store.writes.length
    await expect(rotateKey(store, options)).rejects.toThrow(/left as it is/)
    expect(store.writes.length).toBe(writes)
    expect(store.entries.has(old.id)).toBe(true)
  })

  it('never regenerates again a key whose secret was delivered', async () => {
    const store = new MemoryKeyStore({ regenerate: true })
    const old = store.seed({ name: 'ci' })
    const { journal } = crashingJournal('verified', 'before')
    const delivered: string[] = []
    const options = {
      ...quick,
      keyId: old.id,
      rotationId: 'r1',
      journal,
      deliver: (created: CreatedKey) => void delivered.push(created.secret.reveal()),
    }
    await expect(rotateKey(store, options)).rejects.toBeInstanceOf(Crash)
    const result = await rotateKey(store, options)
    expect(store.writes.map((write) => write.operation)).toEqual(['regenerate'])
    expect(store.works(delivered[0] as string)).toBe(true)
    expect(result.retired).toBe('replaced')
  })

  it("refuses the store's own key without allowSelf, and with it switches the store at once", async () => {
    const store = new MemoryKeyStore({ regenerate: true, credential: 'key' })
    const [own] = (await store.credentialKeyIds?.()) ?? []
    const refused = await rotateKey(store, {
      ...quick,
      keyId: own as string,
      deliver: () => {},
    }).catch((thrown: unknown) => thrown)
    expect((refused as Error).message).toMatch(/regenerating it would kill that credential/)
    expect(store.writes).toEqual([])
    await rotateKey(store, { ...quick, keyId: own as string, deliver: () => {}, allowSelf: true })
    // The store carried on with the new secret.
    await expect(store.list()).resolves.toHaveLength(1)
  })

  it('after a lost answer, says the old secret may be dead and regenerates once more on rerun', async () => {
    const store = new MemoryKeyStore({ regenerate: true })
    const old = store.seed({ name: 'ci' })
    const journal = memoryJournal()
    const options = { ...quick, keyId: old.id, rotationId: 'r1', journal, deliver: () => {} }
    store.faults.push({ on: 'regenerate', kind: 'lost' })
    const error = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect((error as Error).message).toMatch(/answer was lost.*may already be dead/)
    expect(journal.records.get('r1')?.state).toBe('creating')
    const result = await rotateKey(store, options)
    expect(store.works(result.secret?.reveal() as string)).toBe(true)
  })
})
