import { historyChanges } from '@keyway/core'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  type PolicyRunSummary,
  ROTATION_WORKFLOW_PREFIX,
  readPostgresHistory,
} from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { testSealingKey } from './fleet.js'
import { startHarness, waitForEnded } from './harness.js'
import { startWorker } from './worker-process.js'

const postgres = usePostgres()
const MINUTE = 60_000
const DAY = 86_400_000

/** The batch a `maxAgeMs: 0` policy names for a key whose last rotation was at `last`. */
const batchOf = (policy: string, last: number) =>
  `${policy}~${new Date(Math.floor(last / MINUTE) * MINUTE)
    .toISOString()
    .slice(0, 16)
    .replace(/[-:]/g, '')}Z`

describe('a maxAgeMs policy that regenerates keys in place', () => {
  it('rotates a key regenerated in place again once it is due again, each time under the batch of the moment it fell due', async () => {
    const setup = await startHarness(postgres, 'max_age_regenerate', 0)
    const created = Date.now() - 31 * DAY
    const key = setup.fleet.latitudesh.control.seedKey({
      name: 'svc',
      createdAt: new Date(created),
    })
    const regenerates = () =>
      setup.fleet.latitudesh.requests.filter((request) => request.method === 'PUT')
    onTestFinished(() => setup.close())
    // Due as soon as it was last rotated: each regenerate makes it due again at once, which
    // stands for the month a real policy waits.
    const base = { executorId: 'worker-a', databaseUrl: setup.url, sealingKey: testSealingKey() }
    const worker = await startWorker({
      ...base,
      stores: { latitudesh: { vendor: 'latitudesh', settings: setup.fleet.latitudesh.settings } },
      rotation: { strategy: 'regenerate' },
      policy: { name: 'aged', schedule: '0 0 1 1 *', maxAgeMs: 0, keyIds: [key.id] },
    })
    onTestFinished(() =>
      worker.send({ type: 'stop' }).then(
        () => {},
        () => {},
      ),
    )
    const fire = async () =>
      (await worker.send({ type: 'policy', name: 'aged' })) as PolicyRunSummary
    const workflow = (batch: string) => `${ROTATION_WORKFLOW_PREFIX}${batch}/latitudesh/${key.id}`
    const first = await fire()
    expect(first.started).toEqual([workflow(batchOf('aged', created))])
    await waitForEnded(setup.client, `${ROTATION_WORKFLOW_PREFIX}aged~`, 1)
    expect(regenerates()).toHaveLength(1)
    // Same id, same creation date: only the history table tells when it was rotated, and
    // the key is due again from then, under the batch of that moment.
    const regenerated = historyChanges(
      await readPostgresHistory(setup.db, { actions: ['regenerate'] }),
    ).map((change) => Date.parse(change.outcome?.at ?? ''))
    expect(regenerated).toHaveLength(1)
    const second = await fire()
    expect(second.due).toEqual([`latitudesh/${key.id}`])
    expect(second.started).toEqual([workflow(batchOf('aged', regenerated[0] as number))])
    await waitForEnded(setup.client, `${ROTATION_WORKFLOW_PREFIX}aged~`, 2)
    expect(regenerates()).toHaveLength(2)
  }, 240_000)
})
