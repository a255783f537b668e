import type { WorkflowStatus } from '@dbos-inc/dbos-sdk'
import { createFleet, type RotationState } from '@keyway/core'
import { hasReached } from '@keyway/core/adapter'
import { describe, expect, it } from 'vitest'
import { type PolicyRunSummary, ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import {
  activeIds,
  rotatableIds,
  storeOf,
  VENDORS,
  workerStores,
  writesAt,
  writesOverall,
} from './fleet.js'
import { type Harness, JOURNALLED_STATES, startHarness, summaryOf, withWorkers } from './harness.js'

const postgres = usePostgres()

type Setup = Harness & { before: Record<string, string[]> }

/** A harness with the ids each vendor's batch rotates (all but the store's own credential). */
async function setUp(database: string, seedKeys = 50): Promise<Setup> {
  // By default 200 keys to rotate: 50 at each vendor, beside each store's own credential.
  const harness = await startHarness(postgres, database, seedKeys)
  const before: Record<string, string[]> = {}
  for (const vendor of VENDORS) before[vendor] = await rotatableIds(storeOf(harness.fleet, vendor))
  return { ...harness, before }
}

/**
 * Every old key gone and replaced by exactly one live successor, which is the one key
 * delivered for it. A delivery that returned just before its worker died (before the rotation
 * journalled it) is made again, with the same key. Any other live key must be one a rotation
 * named as possibly made by a create the kill cut off after its marker was cleared: such a key
 * cannot be proven the rotation's, so it is left alone and never delivered (`unproven`).
 */
async function expectEachRotatedOnce(
  setup: Setup,
  unproven: ReadonlySet<string> = new Set(),
): Promise<{ deliveries: number; leftOver: number }> {
  const deliveries = await setup.db.query<{
    label: string
    old_key_id: string
    new_key_id: string
  }>('SELECT label, old_key_id, new_key_id FROM deliveries')
  let leftOver = 0
  for (const vendor of VENDORS) {
    const old = setup.before[vendor] as string[]
    const live = await rotatableIds(storeOf(setup.fleet, vendor))
    expect(live.filter((id) => old.includes(id))).toEqual([])
    const successor = new Map<string, Set<string>>()
    for (const row of deliveries.rows.filter((each) => each.label === vendor)) {
      const keys = successor.get(row.old_key_id) ?? new Set<string>()
      keys.add(row.new_key_id)
      successor.set(row.old_key_id, keys)
    }
    expect([...successor.keys()].sort()).toEqual([...old].sort())
    expect([...successor.values()].filter((keys) => keys.size !== 1)).toEqual([])
    const successors = new Set([...successor.values()].flatMap((keys) => [...keys]))
    expect(successors.size).toBe(old.length)
    expect([...successors].filter((id) => !live.includes(id))).toEqual([])
    const others = live.filter((id) => !successors.has(id))
    expect(others.filter((id) => !unproven.has(id))).toEqual([])
    leftOver += others.length
  }
  return { deliveries: deliveries.rows.length, leftOver }
}

/** The key ids rotations named as possibly made by an interrupted create, in their warnings. */
function unprovenKeys(runs: readonly WorkflowStatus[]): Set<string> {
  const ids = new Set<string>()
  for (const warning of runs.flatMap((run) => summaryOf(run)?.warnings ?? [])) {
    const match = /^(.+) may have been made by the interrupted create/.exec(warning)
    for (const id of match?.[1]?.split(', ') ?? []) ids.add(id)
  }
  return ids
}

/** The most rotations of one store that were under way at once, from their journalled times. */
async function mostAtOnce(setup: Setup, label: string): Promise<number> {
  const records = await setup.db.query<{
    record: { history: Array<{ state: string; at: string }> }
  }>('SELECT record FROM keyway.rotations WHERE rotation_id LIKE $1', [
    `${ROTATION_WORKFLOW_PREFIX}%/${label}/%`,
  ])
  const edges: Array<[number, number]> = []
  for (const { record } of records.rows) {
    const times = record.history.map((entry) => Date.parse(entry.at))
    edges.push([Math.min(...times), 1], [Math.max(...times), -1])
  }
  // An end sorts before a start at the same instant.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let running = 0
  let most = 0
  for (const [, change] of edges) {
    running += change
    most = Math.max(most, running)
  }
  return most
}

/** The states one rotation journalled, in order. */
async function statesOf(setup: Setup, rotationId: string): Promise<string[]> {
  const result = await setup.db.query<{ record: { history: Array<{ state: string }> } }>(
    'SELECT record FROM keyway.rotations WHERE rotation_id = $1',
    [rotationId],
  )
  return result.rows[0]?.record.history.map((entry) => entry.state) ?? []
}

/** Every takeover the workers recorded, once there is one; bounded by the test's timeout. */
async function waitForTakeover(
  setup: Setup,
): Promise<Array<{ executor_id: string; taken_by: string; workflow_ids: string[] }>> {
  for (;;) {
    const result = await setup.db.query<{
      executor_id: string
      taken_by: string
      workflow_ids: string[]
    }>('SELECT executor_id, taken_by, workflow_ids FROM takeovers')
    if (result.rows.length > 0) return result.rows
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

const EACH_STEP = ['open', 'create', 'deliver', 'verify', 'retire']

describe('two workers on one Postgres', () => {
  it('rotate 200 keys over the four vendors, each exactly once', async () => {
    const setup = await setUp('two_workers')
    // OpenRouter's queue runs at most 3 rotations at once, across both workers.
    const stores = workerStores(setup.fleet)
    stores.openrouter = {
      vendor: 'openrouter',
      settings: setup.fleet.openrouter.settings,
      limits: { concurrency: 3 },
    }
    await withWorkers(
      setup,
      async (workers) => {
        const a = await workers.start('worker-a')
        const b = await workers.start('worker-b')
        for (const vendor of VENDORS) {
          const keyIds = setup.before[vendor] as string[]
          // Both workers start the whole batch: the second start of each workflow is a no-op.
          await a.send({ type: 'enqueue', batchId: 'nightly', label: vendor, keyIds })
          await b.send({ type: 'enqueue', batchId: 'nightly', label: vendor, keyIds })
        }
        const total = VENDORS.reduce((sum, vendor) => sum + (setup.before[vendor]?.length ?? 0), 0)
        expect(total).toBe(200)
        const runs = await setup.succeeded(total)
        // Both workers took part.
        expect(new Set(runs.map((run) => run.executorId))).toEqual(
          new Set(['worker-a', 'worker-b']),
        )
        // Each rotation step is its own DBOS checkpoint, and each ran once.
        for (const run of runs) {
          expect(await setup.trail(run.workflowID)).toEqual(
            EACH_STEP.map((name) => ({ name, ran: name })),
          )
        }
        for (const vendor of VENDORS) {
          expect(writesAt(setup.fleet[vendor])).toEqual({ creates: 50, deletes: 50 })
        }
        expect(await expectEachRotatedOnce(setup)).toEqual({ deliveries: 200, leftOver: 0 })
        expect(await mostAtOnce(setup, 'openrouter')).toBeLessThanOrEqual(3)
        expect(await setup.sealedCount()).toBe(0)
      },
      { stores },
    )
  }, 240_000)

  it('takes over the work of a worker killed with SIGKILL mid-batch, resuming after delivery', async () => {
    const setup = await setUp('killed_worker')
    // Worker A dies once its 30th rotation journalled the delivery, before it verified.
    const base = {
      stores: workerStores(setup.fleet),
      takeover: { heartbeatMs: 500, deadAfterMs: 5_000 },
    }
    await withWorkers(
      setup,
      async (workers) => {
        const a = await workers.startDoomed('worker-a', {
          crashAt: { state: 'delivered', nth: 30 },
        })
        const b = await workers.start('worker-b')
        for (const vendor of VENDORS) {
          await b.send({
            type: 'enqueue',
            batchId: 'nightly',
            label: vendor,
            keyIds: setup.before[vendor] as string[],
          })
        }
        const cutOff = await a.killed()
        // Nobody tells worker B: it notices worker A's silence and takes over its workflows.
        await waitForTakeover(setup)
        const runs = await setup.succeeded(200)
        // Workflows worker A took up in its last deadAfterMs are handed on at a later heartbeat
        // than the others (a worker back under its own id keeps what it just took up): one
        // takeover or a few, each workflow handed on once.
        const takeovers = await waitForTakeover(setup)
        expect(
          takeovers.filter((row) => row.executor_id !== 'worker-a' || row.taken_by !== 'worker-b'),
        ).toEqual([])
        const stranded = takeovers.flatMap((row) => row.workflow_ids)
        expect(stranded.length).toBeGreaterThan(0)
        expect(new Set(stranded).size).toBe(stranded.length)
        // The rotation cut off after delivery resumed on worker B: its delivered key is the
        // one that stayed, and it was neither minted nor delivered again.
        const resumedRun = runs.find((run) => run.workflowID === cutOff)
        expect(resumedRun?.executorId).toBe('worker-b')
        const output = summaryOf(resumedRun)
        expect(output?.resumed).toBe(true)
        expect(await setup.deliveriesFor(output?.oldKeyId)).toEqual([
          { new_key_id: output?.newKeyId, executor: 'worker-a' },
        ])
        // Picked up at verification: worker B replayed A's checkpoints of opening and creating,
        // found the delivery journalled when it reached the deliver checkpoint (A died inside
        // it, before DBOS recorded it), and ran on from verification.
        expect(await setup.trail(cutOff)).toEqual([
          { name: 'open', ran: 'open' },
          { name: 'create', ran: 'create' },
          { name: 'deliver', ran: 'resume*' },
          { name: 'verify', ran: 'verify' },
          { name: 'retire', ran: 'retire' },
        ])
        // The new key's id is journalled (a note on 'creating') as soon as the vendor made it.
        expect(await statesOf(setup, cutOff)).toEqual(JOURNALLED_STATES)
        const { deliveries, leftOver } = await expectEachRotatedOnce(setup, unprovenKeys(runs))
        expect(deliveries - 200).toBeLessThanOrEqual(stranded.length)
        // The cut rotation was among those taken over, and none is left with worker A.
        expect(stranded).toContain(cutOff)
        expect(
          runs.filter((run) => stranded.includes(run.workflowID)).map((run) => run.executorId),
        ).toEqual(stranded.map(() => 'worker-b'))
        // A create cut off by the kill may have made a key that recovery deleted (and made
        // again), or one it could not prove its own, left over and named: every live key was
        // checked above. Requests are counted, so a delete cut off and sent again counts twice.
        const { creates, deletes } = writesOverall(setup.fleet)
        expect(deletes).toBeGreaterThanOrEqual(200 + (creates - 200 - leftOver))
        expect(creates - 200).toBeLessThanOrEqual(stranded.length)
        expect(await setup.sealedCount()).toBe(0)
      },
      base,
    )
  }, 240_000)

  // A worker killed right after a rotation journalled each state, before DBOS recorded the
  // step: the step that was cut off opens the rotation from the journal on the other worker.
  // `trail` is what each checkpoint ran; the one marked `*` opened it from the journal. A
  // rotation cut off before it journalled its delivery delivers on the worker that finishes it.
  const trails: Partial<Record<RotationState, string>> = {
    started: 'open* create deliver verify retire',
    creating: 'open create* deliver verify retire',
    created: 'open resume* deliver verify retire',
    delivered: 'open create resume* verify retire',
    verified: 'open create deliver resume* retire',
    done: 'open create deliver verify resume*',
  }
  const cuts = Object.entries(trails).map(([state, trail]) => ({
    state: state as RotationState,
    trail: trail.split(' '),
  }))
  it.each(cuts)(
    'a worker killed once a rotation journalled $state loses nothing: the other finishes it, minting and delivering once',
    async ({ state, trail }) => {
      const setup = await setUp(`cut_${state}`, 3)
      await withWorkers(
        setup,
        async (workers) => {
          // Worker A alone takes the batch, so the kill comes at a known rotation.
          const a = await workers.startDoomed('worker-a', { crashAt: { state, nth: 3 } })
          for (const vendor of VENDORS) {
            const keyIds = setup.before[vendor] as string[]
            void a.send({ type: 'enqueue', batchId: 'nightly', label: vendor, keyIds })
          }
          const cutOff = await a.killed()
          const stranded = await setup.client.listWorkflows({
            workflow_id_prefix: ROTATION_WORKFLOW_PREFIX,
            status: 'PENDING',
            executorId: 'worker-a',
          })
          const b = await workers.start('worker-b')
          await b.send({ type: 'recover', executorId: 'worker-a' })
          const total = VENDORS.length * 3
          const runs = await setup.succeeded(total)
          const seen = await setup.trail(cutOff)
          expect(seen.map((step) => step.name)).toEqual(EACH_STEP)
          expect(seen.map((step) => step.ran)).toEqual(trail)
          const output = summaryOf(runs.find((run) => run.workflowID === cutOff))
          expect(await setup.deliveriesFor(output?.oldKeyId)).toEqual([
            {
              new_key_id: output?.newKeyId,
              executor: hasReached(state, 'delivered') ? 'worker-a' : 'worker-b',
            },
          ])
          const { deliveries } = await expectEachRotatedOnce(setup, unprovenKeys(runs))
          // Only a delivery that returned just before the kill (in any rotation A was running)
          // is made again, with the same key: checked above, one successor per old key.
          expect(deliveries - total).toBeLessThanOrEqual(stranded.length)
          expect(await setup.sealedCount()).toBe(0)
        },
        { stores: workerStores(setup.fleet) },
      )
    },
    120_000,
  )

  it('runs a policy on its schedule; firing again right after rotates nothing', async () => {
    const setup = await setUp('policy', 5)
    await withWorkers(setup, async (workers) => {
      const worker = await workers.start('worker-a', {
        stores: workerStores(setup.fleet),
        // Fired by hand below, twice in a row; on its own only once a year.
        // The keys there were before: their successors (new ids) are not selected.
        policy: {
          name: 'max-age',
          schedule: '0 0 1 1 *',
          maxAgeMs: 0,
          keyIds: VENDORS.flatMap((vendor) => setup.before[vendor] as string[]),
        },
      })
      const due = VENDORS.flatMap((vendor) =>
        (setup.before[vendor] as string[]).map((id) => `${vendor}/${id}`),
      )
      const first = (await worker.send({ type: 'policy', name: 'max-age' })) as PolicyRunSummary
      // The second firing comes while the first one's rotations still run.
      const second = (await worker.send({ type: 'policy', name: 'max-age' })) as PolicyRunSummary
      expect(first.due.sort()).toEqual(due.sort())
      expect(first.started).toHaveLength(due.length)
      expect(second.started).toEqual([])
      await setup.succeeded(due.length, 'max-age')
      const third = (await worker.send({ type: 'policy', name: 'max-age' })) as PolicyRunSummary
      expect(third).toEqual({ policy: 'max-age', due: [], started: [], retried: [], errors: [] })
      const { creates, deletes } = writesOverall(setup.fleet)
      expect({ creates, deletes }).toEqual({ creates: due.length, deletes: due.length })
      expect(await expectEachRotatedOnce(setup)).toEqual({ deliveries: due.length, leftOver: 0 })
    })
  }, 240_000)
  it('runs a fleet audit policy on its schedule: it rotates exactly what a fleet plan finds due', async () => {
    const setup = await setUp('audit_policy', 2)
    const DAY = 86_400_000
    const stores = workerStores(setup.fleet)
    // Managed: keys named old-* (NoteDx keys have no names: all of them). Due: older than 90 days.
    const managed = { name: 'old-*' }
    for (const vendor of VENDORS) {
      if (vendor !== 'notedx') (stores[vendor] as { select?: object }).select = managed
    }
    for (const vendor of VENDORS) {
      const control = setup.fleet[vendor].control
      for (const name of ['old-a', 'old-b']) {
        control.seedKey({ name, createdAt: new Date(Date.now() - 200 * DAY) })
      }
      // Young, or outside the selector: not due.
      control.seedKey({ name: 'old-young', createdAt: new Date(Date.now() - 10 * DAY) })
      if (vendor !== 'notedx') {
        control.seedKey({ name: 'legacy', createdAt: new Date(Date.now() - 200 * DAY) })
      }
    }
    // The two old-a/old-b keys at each vendor, as its store lists them (NoteDx: by age alone).
    const expected: string[] = []
    for (const vendor of VENDORS) {
      for (const key of await storeOf(setup.fleet, vendor).list()) {
        const old = (key.createdAt?.getTime() ?? Date.now()) < Date.now() - 100 * DAY
        const named = vendor === 'notedx' || key.name === 'old-a' || key.name === 'old-b'
        if (old && named) expected.push(`${vendor}/${key.id}`)
      }
    }
    expect(expected).toHaveLength(8)
    const audit = { maxAgeDays: 90 }
    // What `keyway plan` (core's fleet plan) says is due, read before the policy fires.
    const plan = await createFleet(
      VENDORS.map((vendor) => ({
        label: vendor,
        store: storeOf(setup.fleet, vendor),
        ...(vendor === 'notedx' ? {} : { select: managed }),
      })),
    ).plan(audit)
    const planned = plan.entries.map((entry) => `${entry.label}/${entry.key.id}`)
    expect(planned.sort()).toEqual([...expected].sort())
    const idsBefore = new Map(
      await Promise.all(
        VENDORS.map(
          async (vendor) => [vendor, await activeIds(storeOf(setup.fleet, vendor))] as const,
        ),
      ),
    )
    await withWorkers(setup, async (workers) => {
      const worker = await workers.start('worker-a', {
        stores,
        policy: { name: 'fleet-age', schedule: '0 0 1 1 *', audit },
      })
      const first = (await worker.send({ type: 'policy', name: 'fleet-age' })) as PolicyRunSummary
      const second = (await worker.send({ type: 'policy', name: 'fleet-age' })) as PolicyRunSummary
      expect(first.due.sort()).toEqual(planned)
      expect(first.started).toHaveLength(planned.length)
      expect(first.errors).toEqual([])
      expect(second.started).toEqual([])
      await setup.ended(`${ROTATION_WORKFLOW_PREFIX}fleet-age/`, planned.length)
      const third = (await worker.send({ type: 'policy', name: 'fleet-age' })) as PolicyRunSummary
      expect(third).toEqual({ policy: 'fleet-age', due: [], started: [], retried: [], errors: [] })
      // The due keys were replaced; every other key is as it was.
      for (const vendor of VENDORS) {
        const now = await activeIds(storeOf(setup.fleet, vendor))
        const due = planned
          .filter((entry) => entry.startsWith(`${vendor}/`))
          .map((entry) => entry.slice(vendor.length + 1))
        const others = (idsBefore.get(vendor) ?? []).filter((id) => !due.includes(id))
        expect(now.filter((id) => due.includes(id))).toEqual([])
        expect(others.filter((id) => !now.includes(id))).toEqual([])
        expect(now.length).toBe(idsBefore.get(vendor)?.length)
      }
      const { creates, deletes } = writesOverall(setup.fleet)
      expect({ creates, deletes }).toEqual({ creates: planned.length, deletes: planned.length })
    })
  }, 240_000)
})
