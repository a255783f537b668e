import { describe, expect, it } from 'vitest'
import { RotationError, ValidationError } from '../errors.js'
import { openRotation } from './rotate-key.js'
import { quick, rotation } from './rotation-harness.test-support.js'
import type { TimedStep } from './rotation-run.js'

describe('openRotation', () => {
  it('runs the same steps as rotateKey, one call each, journalling each before the next', async () => {
    const { store, old, records, delivered, options } = rotation(
      {},
      { seed: { name: 'ci', scope: 'read' } },
    )
    const stepped = await openRotation(store, options)
    expect(stepped).toMatchObject({ rotationId: 'r1', resumed: false, state: 'started' })
    const ran: TimedStep[] = []
    const states: string[] = []
    while (stepped.next !== null) {
      const next = stepped.next
      expect(await stepped.runNext()).toBe(next)
      ran.push(next)
      // Each step is in the journal when its call returns.
      states.push(records.get('r1')?.state ?? 'none')
    }
    expect(ran).toEqual(['create', 'deliver', 'verify', 'retire'])
    expect(states).toEqual(['created', 'delivered', 'verified', 'done'])
    const result = stepped.result()
    expect(result).toMatchObject({ oldKeyId: old.id, retired: 'deleted', verified: true })
    expect(delivered.map((created) => created.key.id)).toEqual([result.newKeyId])
    expect(store.writes.map((write) => write.operation)).toEqual(['create', 'delete'])
    expect(store.works(old.secret)).toBe(false)
    expect(store.works(result.secret?.reveal() ?? '')).toBe(true)
    await expect(stepped.runNext()).rejects.toThrow('every step of this rotation is done')
  })

  it('opened again after a crash past delivery, goes on at verification: no second key or delivery', async () => {
    const { store, old, delivered, options } = rotation({ reveal: true })
    const first = await openRotation(store, options)
    await first.runNext()
    await first.runNext()
    expect(first.state).toBe('delivered')
    // The process ends here; another opens the rotation from the journal.
    const second = await openRotation(store, options)
    expect(second).toMatchObject({ resumed: true, state: 'delivered', next: 'verify' })
    while (second.next !== null) await second.runNext()
    const result = second.result()
    expect(result).toMatchObject({ resumed: true, verified: true, retired: 'deleted' })
    expect(delivered.map((created) => created.key.id)).toEqual([result.newKeyId])
    expect(store.writes.map((write) => write.operation)).toEqual(['create', 'delete'])
    expect(store.works(delivered[0]?.secret.reveal() ?? '')).toBe(true)
    expect(store.works(old.secret)).toBe(false)
  })

  it('a rotation already done opens with nothing to run and sends nothing', async () => {
    const { store, options } = rotation()
    const first = await openRotation(store, options)
    while (first.next !== null) await first.runNext()
    const reads = store.reads.length
    const again = await openRotation(store, options)
    expect(again).toMatchObject({ next: null, state: 'done', resumed: true })
    expect(again.result()).toMatchObject({ newKeyId: first.result().newKeyId, secret: null })
    expect(store.reads.length).toBe(reads)
    expect(store.writes.map((write) => write.operation)).toEqual(['create', 'delete'])
  })

  it('a failing step is settled as rotateKey settles it: the new key deleted, the old untouched', async () => {
    const { store, old, options } = rotation()
    const stepped = await openRotation(store, {
      ...options,
      deliver: () => {
        throw new Error('vault is sealed')
      },
    })
    await stepped.runNext()
    const error = await stepped.runNext().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(RotationError)
    expect(error).toMatchObject({ step: 'deliver', rolledBack: true })
    expect(stepped.state).toBe('rolled-back')
    expect(store.writes.map((write) => write.operation)).toEqual(['create', 'delete'])
    expect(store.works(old.secret)).toBe(true)
  })

  it('refuses a dry run before anything is read or written', async () => {
    const { store, old } = rotation()
    const reads = store.reads.length
    await expect(
      openRotation(store, { keyId: old.id, dryRun: true, deliver: () => {} }),
    ).rejects.toBeInstanceOf(ValidationError)
    expect(store.reads.length).toBe(reads)
    expect(store.writes).toEqual([])
  })

  it('result() before the last step is an error, not a half result', async () => {
    const { store, old } = rotation()
    const stepped = await openRotation(store, { ...quick, keyId: old.id, deliver: () => {} })
    await stepped.runNext()
    expect(() => stepped.result()).toThrow('"deliver" is next')
  })
})
