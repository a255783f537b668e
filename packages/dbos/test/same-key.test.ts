import { describe, expect, it } from 'vitest'
import { ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { writesAt } from './fleet.js'
import { withOneKey } from './harness.js'

const postgres = usePostgres()

describe('one key in two batches at once', () => {
  it('is rotated by one of them: the other refuses before it makes anything', async () => {
    await withOneKey(postgres, 'same_key', async ({ setup, stores, keyId, workers }) => {
      // The first retire waits at the vendor until the test lets it go, so both batches
      // reach the key while it is still there, however the machine schedules them.
      let release = () => {}
      setup.fleet.openrouter.inject({
        match: { method: 'DELETE' },
        until: new Promise<void>((resolve) => {
          release = resolve
        }),
      })
      const worker = await workers.start('worker-a', { stores })
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
      const runs = await setup.ended(ROTATION_WORKFLOW_PREFIX, 2)
      expect(runs.map((run) => run.status).sort()).toEqual(['ERROR', 'SUCCESS'])
      const refused = runs.find((run) => run.status === 'ERROR')
      const rotated = runs.find((run) => run.status === 'SUCCESS')
      expect((refused?.error as Error | undefined)?.message).toContain(
        `skipped, nothing was created or changed: rotation ${rotated?.workflowID} of this key is under way`,
      )
      // One key made, one delivered, the old one gone: one live successor.
      expect(writesAt(setup.fleet.openrouter).creates).toBe(1)
      const newKeyId = await setup.expectReplacedBy(rotated)
      expect(await setup.deliveriesFor(keyId)).toEqual([
        { new_key_id: newKeyId, executor: 'worker-a' },
      ])
    })
  }, 120_000)
})
