import { describe, expect, it } from 'vitest'
import { type PolicyRunSummary, ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
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

  it('under a policy, is rotated again by its next firing, which names the failure', async () => {
    const { setup, stores, keyId } = await startOneKeyHarness(postgres, 'policy_retry')
    let worker: WorkerProcess | undefined
    try {
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
        policy: { name: 'nightly', schedule: '0 0 1 1 *', maxAgeMs: 0, keyIds: [keyId] },
      })
      const prefix = `${ROTATION_WORKFLOW_PREFIX}nightly/openrouter/`
      const first = (await worker.send({ type: 'policy', name: 'nightly' })) as PolicyRunSummary
      expect(first.started).toEqual([`${prefix}${keyId}`])
      expect(first.retried).toEqual([])
      await waitForEnded(setup.client, prefix, 1)
      // The failure stays on record; the next firing starts a new attempt instead of being
      // refused for ever by the failed workflow's id.
      setup.fleet.openrouter.clearFaults()
      const second = (await worker.send({ type: 'policy', name: 'nightly' })) as PolicyRunSummary
      expect(second.due).toEqual([`openrouter/${keyId}`])
      expect(second.started).toEqual([`${prefix}${keyId}/2`])
      expect(second.retried).toHaveLength(1)
      expect(second.retried[0]).toContain(`openrouter/${keyId}: ${prefix}${keyId} ended ERROR:`)
      expect(second.retried[0]).toContain('did not verify')
      // Fired again while attempt 2 may still run, or after it: nothing more starts.
      const third = (await worker.send({ type: 'policy', name: 'nightly' })) as PolicyRunSummary
      expect(third.started).toEqual([])
      await waitForEnded(setup.client, prefix, 2)
      const runs = await setup.client.listWorkflows({ workflow_id_prefix: prefix })
      expect(runs.map((run) => [run.workflowID, run.status]).sort()).toEqual([
        [`${prefix}${keyId}`, 'ERROR'],
        [`${prefix}${keyId}/2`, 'SUCCESS'],
      ])
      const succeeded = runs.find((run) => run.status === 'SUCCESS')
      const newKeyId = (succeeded?.output as { newKeyId: string } | undefined)?.newKeyId
      expect(await activeIds(storeOf(setup.fleet, 'openrouter'))).toEqual([newKeyId])
      expect(writesAt(setup.fleet.openrouter)).toEqual({ creates: 2, deletes: 2 })
    } finally {
      await worker?.send({ type: 'stop' }).catch(() => {})
      await setup.close()
    }
  }, 120_000)
})
