import { createFleet, historyChanges, type RotationSchedule } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import {
  type PolicyRunSummary,
  ROTATION_WORKFLOW_PREFIX,
  readPostgresHistory,
} from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { storeOf, writesAt } from './fleet.js'
import { startHarness, waitForEnded, withWorkers } from './harness.js'

const postgres = usePostgres()
const DAY = 86_400_000

/** A due time as a schedule policy's batch names it: `YYYYMMDDTHHMMZ`. */
const stamp = (time: number) => `${new Date(time).toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`

describe('a policy that rotates by the stores’ schedules', () => {
  it('rotates what core’s plan finds due by the same schedules, once per due time, with the schedule’s lifetime', async () => {
    const setup = await startHarness(postgres, 'schedules', 0)
    const schedule: RotationSchedule = { keys: { name: 'svc-*' }, every: '30d', lifetime: '45d' }
    const latitudeSchedule: RotationSchedule = { keys: { name: 'svc-*' }, every: '30d' }
    const created = Date.now() - 31 * DAY
    const seeded: Record<string, { id: string }> = {}
    for (const vendor of ['openrouter', 'latitudesh'] as const) {
      const control = setup.fleet[vendor].control
      seeded[vendor] = control.seedKey({ name: 'svc-due', createdAt: new Date(created) })
      control.seedKey({ name: 'svc-young', createdAt: new Date(Date.now() - 2 * DAY) })
      control.seedKey({ name: 'legacy', createdAt: new Date(Date.now() - 400 * DAY) })
    }
    // What `keyway plan` (core's fleet plan) finds due by the same schedules.
    const plan = await createFleet([
      { label: 'openrouter', store: storeOf(setup.fleet, 'openrouter'), schedule },
      {
        label: 'latitudesh',
        store: storeOf(setup.fleet, 'latitudesh'),
        schedule: latitudeSchedule,
      },
    ]).plan({})
    const expected = [`openrouter/${seeded.openrouter?.id}`, `latitudesh/${seeded.latitudesh?.id}`]
    expect(plan.entries.map((entry) => `${entry.label}/${entry.key.id}`)).toEqual(expected)
    await withWorkers(setup, async (workers) => {
      const worker = await workers.start('worker-a', {
        stores: {
          openrouter: { vendor: 'openrouter', settings: setup.fleet.openrouter.settings, schedule },
          latitudesh: {
            vendor: 'latitudesh',
            settings: setup.fleet.latitudesh.settings,
            schedule: latitudeSchedule,
          },
        },
        policy: { name: 'sched', schedule: '* * * * *', fromSchedules: true },
      })
      const first = (await worker.send({ type: 'policy', name: 'sched' })) as PolicyRunSummary
      const second = (await worker.send({ type: 'policy', name: 'sched' })) as PolicyRunSummary
      expect(first.due).toEqual(expected)
      // Each rotation is named by its policy and the moment the key fell due.
      const batch = `sched~${stamp(Math.floor(created / 60_000) * 60_000 + 30 * DAY)}`
      expect(first.started.sort()).toEqual(
        expected
          .map((entry) => `${ROTATION_WORKFLOW_PREFIX}${encodeURIComponent(batch)}/${entry}`)
          .sort(),
      )
      expect(second.started).toEqual([])
      await waitForEnded(setup.client, `${ROTATION_WORKFLOW_PREFIX}sched~`, 2)
      const third = (await worker.send({ type: 'policy', name: 'sched' })) as PolicyRunSummary
      expect(third).toEqual({ policy: 'sched', due: [], started: [], retried: [], errors: [] })
      for (const vendor of ['openrouter', 'latitudesh'] as const)
        expect(writesAt(setup.fleet[vendor])).toMatchObject({ creates: 1, deletes: 1 })
      // The OpenRouter successor expires after the schedule's lifetime.
      const create = setup.fleet.openrouter.requests.find((request) => request.method === 'POST')
      const expiresAt = Date.parse(
        (create?.body as { expires_at?: string } | undefined)?.expires_at ?? '',
      )
      expect(Math.abs(expiresAt - (Date.now() + 45 * DAY))).toBeLessThan(DAY / 24)
      const creates = historyChanges(await readPostgresHistory(setup.db, { actions: ['create'] }))
      expect(creates.map((change) => change.outcome?.outcome)).toEqual(['succeeded', 'succeeded'])
    })
  }, 240_000)

  it('counts a key regenerated in place from the history table: it is not due again after its regenerate', async () => {
    const setup = await startHarness(postgres, 'schedules_regenerate', 0)
    const schedule: RotationSchedule = { keys: { name: 'svc-*' }, every: '30d' }
    const key = setup.fleet.latitudesh.control.seedKey({
      name: 'svc-due',
      createdAt: new Date(Date.now() - 31 * DAY),
    })
    await withWorkers(setup, async (workers) => {
      const worker = await workers.start('worker-a', {
        stores: {
          latitudesh: { vendor: 'latitudesh', settings: setup.fleet.latitudesh.settings, schedule },
        },
        rotation: { strategy: 'regenerate' },
        policy: { name: 'sched', schedule: '* * * * *', fromSchedules: true },
      })
      const first = (await worker.send({ type: 'policy', name: 'sched' })) as PolicyRunSummary
      expect(first.due).toEqual([`latitudesh/${key.id}`])
      await waitForEnded(setup.client, `${ROTATION_WORKFLOW_PREFIX}sched~`, 1)
      // Same id, same creation date: only the history table tells it was rotated.
      const listed = await storeOf(setup.fleet, 'latitudesh').get(key.id)
      expect(listed.createdAt?.getTime()).toBeLessThan(Date.now() - 30 * DAY)
      const again = (await worker.send({ type: 'policy', name: 'sched' })) as PolicyRunSummary
      expect(again.due).toEqual([])
      const regenerates = setup.fleet.latitudesh.requests.filter(
        (request) => request.method === 'PUT',
      )
      expect(regenerates).toHaveLength(1)
    })
  }, 240_000)
})
