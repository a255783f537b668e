import { describe, expect, it } from 'vitest'
import { ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { activeIds, storeOf, testSealingKey, writesAt } from './fleet.js'
import { startOneKeyHarness, waitForEnded } from './harness.js'
import { startWorker, type WorkerProcess } from './worker-process.js'

const postgres = usePostgres()

describe('one key in two batches at once', () => {
  it('is rotated by one of them: the other refuses before it makes anything', async () => {
    const { setup, stores, keyId } = await startOneKeyHarness(postgres, 'same_key')
    let worker: WorkerProcess | undefined
    try {
      // The first retire waits at the vendor until the test lets it go, so both batches
      // reach the key while it is still there, however the machine schedules them.
      let release = () => {}
      setup.fleet.openrouter.inject({
        match: { method: 'DELETE' },
        until: new Promise<void>((resolve) => {
          release = resolve
        }),
      })
      worker = await startWorker({
        executorId: 'worker-a',
        databaseUrl: setup.url,
        sealingKey: testSealingKey(),
        stores,
      })
      // A policy and an incident batch, say, both due to rotate the same key.
      for (const batchId of ['nightly', 'incident']) {
        await worker.send({ type: 'enqueue', batchId, label: 'openrouter', keyIds: [keyId] })
      }
      for (;;) {
        const opened = await setup.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM keyway.rotations WHERE record->>'oldKeyId' = $1`,
          [keyId],
        )
        const refused = await setup.client.listWorkflows({
          workflow_id_prefix: ROTATION_WORKFLOW_PREFIX,
          status: 'ERROR',
        })
        if ((opened.rows[0]?.n ?? 0) >= 2 || refused.length > 0) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      release()
      await waitForEnded(setup.client, ROTATION_WORKFLOW_PREFIX, 2)
      const runs = await setup.client.listWorkflows({
        workflow_id_prefix: ROTATION_WORKFLOW_PREFIX,
      })
      expect(runs.map((run) => run.status).sort()).toEqual(['ERROR', 'SUCCESS'])
      const refused = runs.find((run) => run.status === 'ERROR')
      const rotated = runs.find((run) => run.status === 'SUCCESS')
      expect((refused?.error as Error | undefined)?.message).toContain(
        `skipped, nothing was created or changed: rotation ${rotated?.workflowID} of this key is under way`,
      )
      // One key made, one delivered, the old one gone: one live successor.
      expect(writesAt(setup.fleet.openrouter).creates).toBe(1)
      const delivered = await setup.db.query<{ new_key_id: string }>(
        'SELECT new_key_id FROM deliveries WHERE old_key_id = $1',
        [keyId],
      )
      const newKeyId = (rotated?.output as { newKeyId: string } | undefined)?.newKeyId
      expect(delivered.rows).toEqual([{ new_key_id: newKeyId }])
      expect(await activeIds(storeOf(setup.fleet, 'openrouter'))).toEqual([newKeyId])
    } finally {
      await worker?.send({ type: 'stop' }).catch(() => {})
      await setup.close()
    }
  }, 120_000)
})
