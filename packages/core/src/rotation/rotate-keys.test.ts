import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import type { RotateKeysProgress } from './batch-outcome.js'
import { crashingJournal } from './crash-journal.test-support.js'
import { MemoryKeyStore } from './memory-key-store.test-support.js'
import { rotateKeys } from './rotate-keys.js'
import { type BatchRecord, fileJournal, memoryJournal } from './rotation-journal.js'

const quick = { verifyIntervalMs: 0 }
const byName = (prefix: string) => (key: { name: string | null }) =>
  key.name?.startsWith(prefix) ?? false

describe('rotateKeys', () => {
  it('creates, delivers and verifies every key, waits the grace once, then retires them all', async () => {
    const store = new MemoryKeyStore()
    const keys = [1, 2, 3].map((index) => store.seed({ name: `ci-${index}` }))
    const order: string[] = []
    const progress: RotateKeysProgress[] = []
    const result = await rotateKeys(store, {
      ...quick,
      filter: byName('ci-'),
      graceMs: 5,
      concurrency: 2,
      deliver: (created) => void order.push(`deliver ${created.key.name}`),
      onProgress: (event) => {
        progress.push(event)
        if (event.kind === 'waiting') order.push(`wait ${event.reason}`)
      },
      onStep: (event) => event.state === 'done' && order.push(`retired ${event.keyId}`),
    })
    expect(result.rotated).toBe(3)
    expect(order.slice(0, 4)).toEqual([
      'deliver ci-1',
      'deliver ci-2',
      'deliver ci-3',
      'wait grace',
    ])
    expect(order.slice(4).sort()).toEqual(keys.map((key) => `retired ${key.id}`).sort())
    expect(progress.filter((event) => event.kind === 'waiting')).toEqual([
      {
        kind: 'waiting',
        batchId: result.batchId,
        keyId: null,
        reason: 'grace',
        ms: expect.any(Number),
      },
    ])
    expect(progress.filter((event) => event.kind === 'key').map((event) => event.done)).toEqual([
      1, 2, 3,
    ])
  })

  it('lists once for the whole batch and never reads each old key again', async () => {
    const store = new MemoryKeyStore()
    for (const index of [1, 2, 3]) store.seed({ name: `ci-${index}` })
    await rotateKeys(store, { ...quick, filter: byName('ci-'), deliver: () => {} })
    expect(store.reads.filter((read) => read === 'list')).toHaveLength(1)
    expect(store.reads.filter((read) => read.startsWith('get'))).toEqual([])
  })

  it('reruns a finished batch with no write, and an interrupted one for exactly the unfinished keys', async () => {
    const store = new MemoryKeyStore()
    const keys = [1, 2, 3].map((index) => store.seed({ name: `ci-${index}` }))
    const journal = memoryJournal()
    let deliveries = 0
    const options = {
      ...quick,
      filter: byName('ci-'),
      batchId: 'nightly',
      journal,
      concurrency: 1,
      deliver: () => {
        deliveries++
        if (deliveries === 2) throw new Error('vault down')
      },
    }
    const first = await rotateKeys(store, options)
    expect(first.outcomes.map((outcome) => outcome.status)).toEqual([
      'rotated',
      'failed',
      'rotated',
    ])
    const second = await rotateKeys(store, { ...options, resume: true })
    expect(second.resumed).toBe(true)
    expect(second.outcomes.map((outcome) => [outcome.keyId, outcome.status])).toEqual(
      keys.map((key) => [key.id, 'rotated']),
    )
    // Three creates on the first run (one rolled back), one more for the failed key.
    expect(store.writes.filter((write) => write.operation === 'create')).toHaveLength(4)
    const writes = store.writes.length
    const reads = store.reads.length
    const third = await rotateKeys(store, options)
    expect(third.rotated).toBe(3)
    expect(store.writes.length).toBe(writes)
    expect(store.reads.length).toBe(reads)
  })

  it('finishes an interrupted batch without rotating the keys it made', async () => {
    const store = new MemoryKeyStore()
    for (const index of [1, 2, 3]) store.seed({ name: `ci-${index}` })
    const { journal } = crashingJournal('done', 'before')
    const options = { ...quick, filter: byName('ci-'), batchId: 'b', journal, deliver: () => {} }
    await expect(rotateKeys(store, options)).rejects.toThrow(/simulated crash/)
    const result = await rotateKeys(store, options)
    expect(result.rotated).toBe(3)
    expect(store.writes.filter((write) => write.operation === 'create')).toHaveLength(3)
    expect(
      [...store.entries.values()].filter((entry) => entry.key.name?.startsWith('ci-')),
    ).toHaveLength(3)
  })

  it('refuses to resume a batch the journal does not know, naming the journal', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'keyway-batch-'))
    try {
      const store = new MemoryKeyStore()
      const journal = fileJournal(join(folder, 'j.json'))
      const error = await rotateKeys(store, {
        batchId: 'b-unknown',
        resume: true,
        journal,
        deliver: () => {},
      }).catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as Error).message).toContain(`is not in the journal ${join(folder, 'j.json')}`)
      expect(store.reads).toEqual([])
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })

  it('skips the keys that may be the store’s own credential, with the reason', async () => {
    const store = new MemoryKeyStore({ credential: 'key' })
    const [own] = (await store.credentialKeyIds?.()) ?? []
    const result = await rotateKeys(store, { ...quick, deliver: () => {} })
    const outcome = result.outcomes.find((item) => item.keyId === own)
    expect(outcome?.status).toBe('skipped')
    expect(outcome?.status === 'skipped' && outcome.reason).toMatch(/allowSelf/)
    await expect(store.list()).resolves.toBeDefined()
  })

  it('shows the plan, writes nothing on a dry run, and nothing when confirm declines', async () => {
    const store = new MemoryKeyStore({ credential: 'key' })
    store.seed({ name: 'ci-1', scope: 'read' })
    store.seed({ kind: 'sandbox' })
    const dry = await rotateKeys(store, { dryRun: true })
    expect(dry.dryRun).toBe(true)
    expect(dry.plans.map((plan) => [plan.name, plan.action, plan.credential])).toEqual([
      ['admin', 'skip', 'own'],
      ['ci-1', 'rotate', 'other'],
      [null, 'skip', 'other'],
    ])
    expect(dry.plans[1]?.input).toEqual({ name: 'ci-1', scope: 'read' })
    let shown = 0
    const declined = await rotateKeys(store, {
      deliver: () => {},
      confirm: (plans) => {
        shown = plans.length
        return false
      },
    })
    expect(shown).toBe(3)
    expect(declined.cancelled).toBe(true)
    expect(store.writes).toEqual([])
  })

  it('marks a revoke’s batch and refuses to resume it as a rotation (and the other way round), before any request; an unmarked batch resumes as before', async () => {
    const store = new MemoryKeyStore()
    const leaked = store.seed({ name: 'leaked' })
    const due = store.seed({ name: 'due' })
    const journal = memoryJournal()
    const deliver = () => {}
    const revoke = { ...quick, journal, deliver, replaceDisabled: true }
    await store.update(leaked.id, { status: 'disabled' })
    expect(
      (await rotateKeys(store, { ...revoke, batchId: 'leak', keyIds: [leaked.id] })).rotated,
    ).toBe(1)
    expect(
      (
        await rotateKeys(store, {
          ...quick,
          journal,
          deliver,
          batchId: 'nightly',
          keyIds: [due.id],
        })
      ).rotated,
    ).toBe(1)
    expect(journal.batches.get('leak')?.kind).toBe('revoke')
    expect(journal.batches.get('nightly')?.kind).toBe('rotate')
    const seen = { reads: store.reads.length, writes: store.writes.length }
    const asRotation = rotateKeys(store, {
      ...quick,
      journal,
      deliver,
      batchId: 'leak',
      resume: true,
    })
    await expect(asRotation).rejects.toThrow(ValidationError)
    await expect(asRotation).rejects.toThrow(/batch leak .* was started by a revoke/)
    await expect(
      rotateKeys(store, { ...revoke, batchId: 'nightly', resume: true }),
    ).rejects.toThrow(/batch nightly .* is a rotation, not a revoke/)
    expect({ reads: store.reads.length, writes: store.writes.length }).toEqual(seen)
    // Each resumes with its own settings.
    expect((await rotateKeys(store, { ...revoke, batchId: 'leak', resume: true })).resumed).toBe(
      true,
    )
    // A batch journalled before the mark was kept resumes with either.
    for (const batchId of ['leak', 'nightly']) {
      const { kind: _kind, ...unmarked } = journal.batches.get(batchId) as BatchRecord
      await journal.writeBatch(unmarked)
    }
    const resumed = await rotateKeys(store, {
      ...quick,
      journal,
      deliver,
      batchId: 'leak',
      resume: true,
    })
    expect(resumed.resumed).toBe(true)
    expect((await rotateKeys(store, { ...revoke, batchId: 'nightly', resume: true })).resumed).toBe(
      true,
    )
  })
})
