import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { MemoryKeyStore } from '../rotation/memory-key-store.test-support.js'
import { memoryJournal } from '../rotation/rotation-journal.js'
import { Place } from '../targets/place-target.test-support.js'
import { createFleet } from './create-fleet.js'
import { storeBatchId } from './fleet-rotate.js'
import type { FleetStore } from './fleet-types.js'

const NOW = new Date('2026-06-01T00:00:00.000Z')
const DAY = 86_400_000

/** A memory store with keys of the given names and ages (days); its admin key is young. */
function storeWith(keys: Array<[name: string, ageDays: number]>, credential?: 'key') {
  const store = new MemoryKeyStore(credential === undefined ? {} : { credential })
  for (const entry of store.entries.values()) entry.key.createdAt = new Date(NOW.getTime() - DAY)
  const ids: Record<string, string> = {}
  for (const [name, ageDays] of keys) {
    const { id } = store.seed({ name })
    const entry = store.entries.get(id)
    if (entry !== undefined) entry.key.createdAt = new Date(NOW.getTime() - ageDays * DAY)
    ids[name] = id
  }
  return { store, ids }
}

const idOf = (store: MemoryKeyStore, name: string) =>
  [...store.entries.values()].find((entry) => entry.key.name === name)?.key.id

/** A store holding its own credential, an old and a new `ci-*` key, and an old manual key. */
const prodStore = () =>
  storeWith(
    [
      ['ci-old', 100],
      ['ci-new', 5],
      ['manual', 200],
    ],
    'key',
  )

describe('createFleet', () => {
  it('refuses duplicate labels, a store under two labels and bad fields, naming each', () => {
    const { store } = storeWith([])
    const other = storeWith([]).store
    expect.assertions(4)
    try {
      createFleet([
        { label: 'a', store },
        { label: 'a', store: other },
        { label: 'b', store },
      ])
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues).toEqual([
        { path: '1.label', message: 'the label is already used by store 0' },
        { path: '2.store', message: 'the same store object as a: give each store one label' },
      ])
    }
    expect(() => createFleet([{ label: 'has space', store }])).toThrow(/0\.label/)
    expect(() =>
      createFleet([{ label: 'a', store, select: { status: 'gone' } } as unknown as FleetStore]),
    ).toThrow(/0\.select\.status/)
  })

  it('lists and iterates every store, each key tagged with its label', async () => {
    const one = storeWith([['ci-1', 1]])
    const two = storeWith([['web-1', 1]])
    const fleet = createFleet([
      { label: 'one', store: one.store },
      { label: 'two', store: two.store },
    ])
    const listed = await fleet.list()
    expect(listed.map((entry) => [entry.label, entry.key.name])).toEqual([
      ['one', 'admin'],
      ['one', 'ci-1'],
      ['two', 'admin'],
      ['two', 'web-1'],
    ])
    const iterated = []
    for await (const entry of fleet.iterate()) iterated.push([entry.label, entry.key.id])
    expect(iterated).toEqual(listed.map((entry) => [entry.label, entry.key.id]))
  })
})

describe('Fleet.audit', () => {
  it('audits every key of every store under the given now; a failing store is an error entry', async () => {
    const prod = prodStore()
    const broken = storeWith([['x', 1]])
    broken.store.faults.push({ on: 'list', kind: 'fail' })
    const fleet = createFleet([
      { label: 'prod', store: prod.store, select: { name: 'ci-*' } },
      { label: 'broken', store: broken.store },
    ])
    const report = await fleet.audit({ maxAgeDays: 90 }, { now: NOW })
    expect(report.at).toBe(NOW)
    expect(
      report.entries.map((entry) => [
        entry.key.name,
        entry.ageDays,
        entry.managed,
        entry.findings.map((finding) => finding.kind),
      ]),
    ).toEqual([
      ['admin', 1, false, ['own-credential', 'unmanaged']],
      ['ci-old', 100, true, ['too-old']],
      ['ci-new', 5, true, []],
      ['manual', 200, false, ['too-old', 'unmanaged']],
    ])
    expect(report.errors).toEqual([
      {
        label: 'broken',
        provider: 'memory',
        error: {
          name: 'ProviderError',
          code: 'provider_error',
          message: 'memory list: 503 unavailable',
        },
      },
    ])
  })

  it('rejects a bad policy before reading anything', async () => {
    const { store } = storeWith([])
    const fleet = createFleet([{ label: 'a', store }])
    await expect(fleet.audit({ maxAgeDays: -1 })).rejects.toThrow(/policy\.maxAgeDays/)
    expect(store.reads).toEqual([])
  })

  it('rejects when the caller aborts', async () => {
    const { store } = storeWith([])
    const fleet = createFleet([{ label: 'a', store }])
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(fleet.audit({}, { signal: controller.signal })).rejects.toThrow('stop')
  })
})

describe('Fleet.plan', () => {
  it('plans exactly the managed active keys that are too old or expiring, skipping the own credential', async () => {
    const prod = prodStore()
    const admin = idOf(prod.store, 'admin') as string
    const entry = prod.store.entries.get(admin)
    if (entry !== undefined) entry.key.createdAt = new Date(NOW.getTime() - 300 * DAY)
    const fleet = createFleet([
      { label: 'prod', store: prod.store, rotation: { retire: 'disable' } },
    ])
    const plan = await fleet.plan({ maxAgeDays: 90 }, { now: NOW })
    expect(
      plan.entries.map((item) => [item.key.name, item.reasons[0]?.kind, item.plan.retire]),
    ).toEqual([
      ['ci-old', 'too-old', 'disable'],
      ['manual', 'too-old', 'disable'],
    ])
    expect(plan.skipped.map((item) => [item.key.name, item.plan.action])).toEqual([
      ['admin', 'skip'],
    ])
    expect(plan.skipped[0]?.plan.reason).toMatch(
      /may be the credential this store authenticates with/,
    )
    expect(prod.store.writes).toEqual([])
  })

  it("plans the store's own credential with allowSelf: the store switches to the new key", async () => {
    const prod = storeWith([], 'key')
    const entry = prod.store.entries.get(idOf(prod.store, 'admin') as string)
    if (entry !== undefined) entry.key.createdAt = new Date(NOW.getTime() - 300 * DAY)
    const fleet = createFleet([{ label: 'prod', store: prod.store, rotation: { allowSelf: true } }])
    const plan = await fleet.plan({ maxAgeDays: 90 }, { now: NOW })
    expect(plan.skipped).toEqual([])
    expect(plan.entries.map((item) => [item.key.name, item.plan.switchesCredential])).toEqual([
      ['admin', true],
    ])
  })

  it("is a store's error entry when its retire mode is not supported, the others planned", async () => {
    const one = storeWith([['old', 100]])
    const two = storeWith([['old', 100]])
    Object.assign(one.store, { capabilities: { ...one.store.capabilities, disable: false } })
    const fleet = createFleet([
      { label: 'one', store: one.store, rotation: { retire: 'disable' } },
      { label: 'two', store: two.store },
    ])
    const plan = await fleet.plan({ maxAgeDays: 90 }, { now: NOW })
    expect(plan.entries.map((item) => item.label)).toEqual(['two'])
    expect(plan.errors).toEqual([
      {
        label: 'one',
        provider: 'memory',
        error: expect.objectContaining({ name: 'UnsupportedOperationError' }),
      },
    ])
  })
})

describe('Fleet.rotate', () => {
  const fleetOf = () => {
    const one = storeWith([
      ['ci-1', 100],
      ['ci-2', 120],
      ['ci-new', 1],
    ])
    const two = storeWith([
      ['web-1', 95],
      ['web-new', 2],
    ])
    const fleet = createFleet([
      { label: 'one', store: one.store, rotation: { concurrency: 1 } },
      { label: 'two', store: two.store, rotation: { retire: 'disable', graceMs: 0 } },
    ])
    return { one, two, fleet }
  }

  it('delivers each key to the targets its store gives it, and plans show them', async () => {
    const { fleet } = fleetOf()
    const place = new Place('github')
    const options = {
      batchId: 'nightly-targets',
      journal: memoryJournal(),
      policy: { maxAgeDays: 90 },
      now: NOW,
      targets: ({ key }: { key: { name: string | null } | null }, store: FleetStore) => [
        place.target(`${store.label}_${key?.name}`.toUpperCase().replace(/-/g, '_')),
      ],
    }
    const dry = await fleet.rotate({ ...options, dryRun: true })
    expect(
      dry.stores.flatMap((store) => store.result?.plans.map((plan) => plan.targets[0]?.name) ?? []),
    ).toEqual(['github:ONE_CI_1', 'github:ONE_CI_2', 'github:TWO_WEB_1'])
    expect(place.writes).toEqual([])
    const result = await fleet.rotate(options)
    expect(result.rotated).toBe(3)
    expect([...place.variables.keys()].sort()).toEqual(['ONE_CI_1', 'ONE_CI_2', 'TWO_WEB_1'])
    await expect(
      fleet.rotate({ journal: memoryJournal(), policy: { maxAgeDays: 90 }, now: NOW }),
    ).rejects.toThrow(ValidationError)
  })

  it('rotates exactly the due keys of every store; a rerun of the batch sends no write', async () => {
    const { one, two, fleet } = fleetOf()
    const journal = memoryJournal()
    const delivered: string[] = []
    const progress: string[] = []
    const options = {
      batchId: 'nightly',
      journal,
      policy: { maxAgeDays: 90 },
      now: NOW,
      deliver: (created: { key: { name: string | null } }, store: FleetStore) =>
        void delivered.push(`${store.label}:${created.key.name}`),
      onProgress: (event: { kind: string; label: string }) =>
        void progress.push(`${event.label}:${event.kind}`),
    }
    const fleetOptions = { ...options }
    const result = await fleet.rotate(fleetOptions)
    expect(result.batchId).toBe('nightly')
    expect({ rotated: result.rotated, failed: result.failed, skipped: result.skipped }).toEqual({
      rotated: 3,
      failed: 0,
      skipped: 0,
    })
    expect(result.stores.map((store) => [store.label, store.result?.batchId])).toEqual([
      ['one', 'nightly:one'],
      ['two', 'nightly:two'],
    ])
    expect(delivered.sort()).toEqual(['one:ci-1', 'one:ci-2', 'two:web-1'])
    expect(progress.filter((event) => event.endsWith(':key')).sort()).toEqual([
      'one:key',
      'one:key',
      'two:key',
    ])
    expect(
      one.store.writes
        .filter((write) => write.operation === 'delete')
        .map((write) => write.id)
        .sort(),
    ).toEqual([one.ids['ci-1'], one.ids['ci-2']].sort())
    expect(two.store.entries.get(two.ids['web-1'] as string)?.key.status).toBe('disabled')
    expect(two.store.entries.get(two.ids['web-new'] as string)?.key.status).toBe('active')

    const writes = [one.store.writes.length, two.store.writes.length]
    const reads = [one.store.reads.length, two.store.reads.length]
    const rerun = await fleet.rotate(fleetOptions)
    expect([one.store.writes.length, two.store.writes.length]).toEqual(writes)
    expect([one.store.reads.length, two.store.reads.length]).toEqual(reads)
    expect(rerun.rotated).toBe(3)
    expect(rerun.stores.every((store) => store.result?.resumed)).toBe(true)
  })

  it('resumes an interrupted batch by its id and finishes exactly the rest', async () => {
    const { one, two, fleet } = fleetOf()
    const journal = memoryJournal()
    const controller = new AbortController()
    const delivered: string[] = []
    const base = { batchId: 'b1', journal, policy: { maxAgeDays: 90 }, now: NOW }
    await expect(
      fleet.rotate({
        ...base,
        signal: controller.signal,
        deliver: (created, store) => {
          delivered.push(`${store.label}:${created.key.name}`)
          // The first delivery of store one stops the whole batch.
          if (store.label === 'one') controller.abort(new Error('interrupted'))
        },
      }),
    ).rejects.toThrow('interrupted')
    const firstRun = [...delivered]
    expect(firstRun).toContain('one:ci-1')

    const resumed = await fleet.rotate({
      ...base,
      resume: true,
      deliver: (created, store) => void delivered.push(`${store.label}:${created.key.name}`),
    })
    expect(resumed.rotated).toBe(3)
    expect(resumed.failed).toBe(0)
    // Each key's new secret went out once over both runs: nothing rotated twice.
    expect([...delivered].sort()).toEqual(['one:ci-1', 'one:ci-2', 'two:web-1'])
    expect(idOf(one.store, 'ci-new')).toBe(one.ids['ci-new'])
    expect(one.store.entries.has(one.ids['ci-1'] as string)).toBe(false)
    expect(one.store.entries.has(one.ids['ci-2'] as string)).toBe(false)
    expect(two.store.entries.get(two.ids['web-1'] as string)?.key.status).toBe('disabled')
    // Every managed name is held by exactly one active key.
    const active = (store: MemoryKeyStore) =>
      [...store.entries.values()]
        .filter((entry) => entry.key.status === 'active')
        .map((entry) => entry.key.name)
        .sort()
    expect(active(one.store)).toEqual(['admin', 'ci-1', 'ci-2', 'ci-new'])
    expect(active(two.store)).toEqual(['admin', 'web-1', 'web-new'])
  })

  it('goes on with the other stores when one fails, and reports it', async () => {
    const { one, two, fleet } = fleetOf()
    one.store.faults.push({ on: 'list', kind: 'fail' })
    const result = await fleet.rotate({
      journal: memoryJournal(),
      policy: { maxAgeDays: 90 },
      now: NOW,
      deliver: () => {},
    })
    expect(result.stores[0]).toEqual({
      label: 'one',
      provider: 'memory',
      result: null,
      error: {
        name: 'ProviderError',
        code: 'provider_error',
        message: 'memory list: 503 unavailable',
      },
    })
    expect(result.stores[1]?.result?.rotated).toBe(1)
    expect(result.rotated).toBe(1)
    expect(one.store.writes).toEqual([])
    expect(two.store.writes.length).toBeGreaterThan(0)
  })

  it('stops every store and rejects when the journal fails: nothing rotates on without it', async () => {
    const { one, two, fleet } = fleetOf()
    const journal = memoryJournal()
    const broken = { ...journal, write: async () => Promise.reject(new Error('disk full')) }
    await expect(
      fleet.rotate({ journal: broken, policy: { maxAgeDays: 90 }, now: NOW, deliver: () => {} }),
    ).rejects.toThrow('disk full')
    // No key was made without its journal record.
    expect([...one.store.writes, ...two.store.writes]).toEqual([])
  })

  it('rotates exactly the keyIds given per label, and leaves out the stores not named', async () => {
    const { one, two, fleet } = fleetOf()
    const result = await fleet.rotate({
      journal: memoryJournal(),
      keyIds: { one: [one.ids['ci-new'] as string] },
      deliver: () => {},
    })
    expect(result.stores.map((store) => store.label)).toEqual(['one'])
    expect(
      result.stores[0]?.result?.outcomes.map((outcome) => [outcome.keyId, outcome.status]),
    ).toEqual([[one.ids['ci-new'], 'rotated']])
    expect(two.store.writes).toEqual([])
  })

  it('sends nothing on a dry run', async () => {
    const { one, two, fleet } = fleetOf()
    const journal = memoryJournal()
    const result = await fleet.rotate({
      journal,
      batchId: 'dry',
      dryRun: true,
      policy: { maxAgeDays: 90 },
      now: NOW,
      deliver: () => {},
    })
    expect(result.stores.flatMap((store) => store.result?.plans.map((plan) => plan.name))).toEqual([
      'ci-1',
      'ci-2',
      'web-1',
    ])
    expect([...one.store.writes, ...two.store.writes]).toEqual([])
    expect(await journal.list()).toEqual([])
    expect(await journal.readBatch('dry.one')).toBeUndefined()
  })

  it('refuses a resume of an unknown batch, a label no store has, and no policy nor keyIds', async () => {
    const { one, fleet } = fleetOf()
    const journal = memoryJournal()
    const deliver = () => {}
    await expect(
      fleet.rotate({ journal, deliver, batchId: 'nope', resume: true, policy: {} }),
    ).rejects.toThrow(/batch nope is not in the journal given/)
    await expect(fleet.rotate({ journal, deliver, keyIds: { three: ['x'] } })).rejects.toThrow(
      /keyIds\.three: no store has this label/,
    )
    await expect(fleet.rotate({ journal, deliver })).rejects.toBeInstanceOf(ValidationError)
    expect(one.store.writes).toEqual([])
  })
})

describe('storeBatchId', () => {
  it('keeps two fleet batches apart even when a batch id and a label both hold dots', () => {
    expect(storeBatchId('b.x', 'y')).not.toBe(storeBatchId('b', 'x.y'))
    expect(storeBatchId('nightly', 'openrouter-prod')).toBe('nightly:openrouter-prod')
  })
})
