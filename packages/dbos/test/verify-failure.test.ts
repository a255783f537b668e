import { describe, expect, it } from 'vitest'
import { ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { activeIds, storeOf, testSealingKey, writesAt } from './fleet.js'
import { checkpointTrail, leakedCredentials, startOneKeyHarness, waitForEnded } from './harness.js'
import { startWorker, type WorkerProcess } from './worker-process.js'

const postgres = usePostgres()

describe('a new key that does not verify', () => {
  it('is rolled back for good, with no secret in DBOS records, and the key can be rotated again', async () => {
    const { setup, stores, keyId } = await startOneKeyHarness(postgres, 'verify_failure')
    let worker: WorkerProcess | undefined
    try {
      // The vendor refuses the new key whenever it is checked.
      setup.fleet.openrouter.inject({
        match: { method: 'GET', path: /\/key$/ },
        status: 401,
        times: 100,
      })
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
      const [failed] = await setup.client.listWorkflows({
        workflow_id_prefix: ROTATION_WORKFLOW_PREFIX,
      })
      expect(failed?.status).toBe('ERROR')
      expect((failed?.error as Error | undefined)?.message).toContain('did not verify')
      // Rolled back once, not retried: one key made and deleted, the old one untouched.
      expect(await checkpointTrail(setup.client, failed?.workflowID as string)).toEqual([
        { name: 'open', ran: 'open' },
        { name: 'create', ran: 'create' },
        { name: 'deliver', ran: 'deliver' },
        { name: 'verify', ran: 'error' },
      ])
      expect(writesAt(setup.fleet.openrouter)).toEqual({ creates: 1, deletes: 1 })
      expect(await activeIds(storeOf(setup.fleet, 'openrouter'))).toEqual([keyId])
      expect(await leakedCredentials(setup)).toEqual([])
      const sealed = await setup.db.query('SELECT count(*)::int AS n FROM keyway.sealed_secrets')
      expect(sealed.rows[0].n).toBe(0)
      // Under a new batch, once the vendor takes new keys again, the key is rotated.
      setup.fleet.openrouter.clearFaults()
      await worker.send({ type: 'enqueue', batchId: 'again', label: 'openrouter', keyIds: [keyId] })
      await waitForEnded(setup.client, `${ROTATION_WORKFLOW_PREFIX}again/`, 1)
      const [again] = await setup.client.listWorkflows({
        workflow_id_prefix: `${ROTATION_WORKFLOW_PREFIX}again/`,
      })
      expect(again?.status).toBe('SUCCESS')
      const newKeyId = (again?.output as { newKeyId: string } | undefined)?.newKeyId
      expect(await activeIds(storeOf(setup.fleet, 'openrouter'))).toEqual([newKeyId])
    } finally {
      await worker?.send({ type: 'stop' }).catch(() => {})
      await setup.close()
    }
  }, 120_000)
})
