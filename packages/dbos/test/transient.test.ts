import { describe, expect, it } from 'vitest'
import { ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { activeIds, storeOf, testSealingKey } from './fleet.js'
import { checkpointTrail, startOneKeyHarness, waitForEnded } from './harness.js'
import { startWorker, type WorkerProcess } from './worker-process.js'

const postgres = usePostgres()

describe('a vendor failure part way through a rotation', () => {
  it('is retried from the journal: the rotation finishes instead of ending with both keys live', async () => {
    const { setup, stores, keyId } = await startOneKeyHarness(postgres, 'transient')
    let worker: WorkerProcess | undefined
    try {
      // Retiring the old key fails for longer than the store's own retries last.
      setup.fleet.openrouter.inject({ match: { method: 'DELETE' }, status: 503, times: 4 })
      worker = await startWorker({
        executorId: 'worker-a',
        databaseUrl: setup.url,
        sealingKey: testSealingKey(),
        stores,
      })
      await worker.send({
        type: 'enqueue',
        batchId: 'nightly',
        label: 'openrouter',
        keyIds: [keyId],
      })
      await waitForEnded(setup.client, ROTATION_WORKFLOW_PREFIX, 1)
      const [run] = await setup.client.listWorkflows({
        workflow_id_prefix: ROTATION_WORKFLOW_PREFIX,
      })
      expect(run?.status).toBe('SUCCESS')
      const newKeyId = (run?.output as { newKeyId: string } | undefined)?.newKeyId
      expect(await activeIds(storeOf(setup.fleet, 'openrouter'))).toEqual([newKeyId])
      const delivered = await setup.db.query<{ new_key_id: string }>(
        'SELECT new_key_id FROM deliveries WHERE old_key_id = $1',
        [keyId],
      )
      expect(delivered.rows).toEqual([{ new_key_id: newKeyId }])
      // The retire checkpoint was run again, reopening the rotation from the journal.
      expect(await checkpointTrail(setup.client, run?.workflowID as string)).toEqual([
        { name: 'open', ran: 'open' },
        { name: 'create', ran: 'create' },
        { name: 'deliver', ran: 'deliver' },
        { name: 'verify', ran: 'verify' },
        { name: 'retire', ran: 'retire*' },
      ])
    } finally {
      await worker?.send({ type: 'stop' }).catch(() => {})
      await setup.close()
    }
  }, 120_000)
})
