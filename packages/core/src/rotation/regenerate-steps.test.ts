import { describe, expect, it } from 'vitest'
import { MemoryKeyStore } from './memory-key-store.test-support.js'
import { rotateKey } from './rotate-key.js'
import { crashThenResume, quick, rotation, secretsOf } from './rotation-harness.test-support.js'

const regenerate = { strategy: 'regenerate' as const }
/** A store that regenerates in place, its key `old`, and a regenerate rotation `r1` of it. */
const regenerating = (setup?: Parameters<typeof rotation>[1]) => {
  const run = rotation({ regenerate: true }, setup)
  return { ...run, options: { ...run.options, ...regenerate } }
}

describe('rotateKey with strategy regenerate', () => {
  it('replaces the secret in place and deletes nothing', async () => {
    const { store, old } = regenerating()
    const result = await rotateKey(store, {
      ...quick,
      ...regenerate,
      keyId: old.id,
      deliver: () => {},
    })
    expect(result).toMatchObject({ newKeyId: old.id, retired: 'replaced', verified: true })
    expect(store.works(old.secret)).toBe(false)
    expect(store.works(result.secret?.reveal() as string)).toBe(true)
    expect(store.writes.map((write) => write.operation)).toEqual(['regenerate'])
  })

  it('never deletes the key when delivery fails, says the old secret is dead, and a rerun regenerates once more', async () => {
    const { store, old, delivered, options } = regenerating()
    let calls = 0
    const failingOnce = {
      ...options,
      deliver: (created: Parameters<typeof options.deliver>[0]) => {
        calls++
        if (calls === 1) throw new Error('vault down')
        options.deliver(created)
      },
    }
    const error = await rotateKey(store, failingOnce).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ step: 'deliver', rolledBack: false })
    expect((error as Error).message).toMatch(/old secret no longer works.*reached no one/)
    expect(store.entries.has(old.id)).toBe(true)
    const result = await rotateKey(store, failingOnce)
    expect(store.writes.map((write) => write.operation)).toEqual(['regenerate', 'regenerate'])
    expect(secretsOf(delivered)).toEqual([result.secret?.reveal()])
    expect(store.works(result.secret?.reveal() as string)).toBe(true)
    expect(result.warnings.join(' ')).toContain('never delivered')
  })

  it('marks a delivered secret that does not verify as failed, and a rerun sends nothing', async () => {
    const { store, old, records, options } = regenerating()
    const unverified = { ...options, verify: () => false, verifyAttempts: 1 }
    const error = await rotateKey(store, unverified).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ step: 'verify', rolledBack: false })
    expect((error as Error).message).toMatch(/was delivered but did not work/)
    expect(records.get('r1')?.state).toBe('failed')
    const writes = store.writes.length
    await expect(rotateKey(store, unverified)).rejects.toThrow(/left as it is/)
    expect(store.writes.length).toBe(writes)
    expect(store.entries.has(old.id)).toBe(true)
  })

  it('never regenerates again a key whose secret was delivered', async () => {
    const { store, delivered, options } = regenerating({ crash: ['verified', 'before'] })
    const result = await crashThenResume(store, options)
    expect(store.writes.map((write) => write.operation)).toEqual(['regenerate'])
    expect(store.works(secretsOf(delivered)[0] as string)).toBe(true)
    expect(result.retired).toBe('replaced')
  })

  it("refuses the store's own key without allowSelf, and with it switches the store at once", async () => {
    const store = new MemoryKeyStore({ regenerate: true, credential: 'key' })
    const [own] = (await store.credentialKeyIds?.()) ?? []
    const options = { ...quick, ...regenerate, keyId: own as string, deliver: () => {} }
    const refused = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect((refused as Error).message).toMatch(/regenerating it would kill that credential/)
    expect(store.writes).toEqual([])
    await rotateKey(store, { ...options, allowSelf: true })
    // The store carried on with the new secret.
    await expect(store.list()).resolves.toHaveLength(1)
  })

  it('after a lost answer, says the old secret may be dead and regenerates once more on rerun', async () => {
    const { store, records, options } = regenerating()
    store.faults.push({ on: 'regenerate', kind: 'lost' })
    const error = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect((error as Error).message).toMatch(/answer was lost.*may already be dead/)
    expect(records.get('r1')?.state).toBe('creating')
    const result = await rotateKey(store, options)
    expect(store.works(result.secret?.reveal() as string)).toBe(true)
  })
})
