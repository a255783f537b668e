import { describe, expect, it } from 'vitest'
import { type PolicyRunSummary, ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { activeIds, storeOf, writesAt } from './fleet.js'
import { type OneKeyTest, waitForEnded, withOneKey } from './harness.js'

const postgres = usePostgres()

/** `withOneKey`, with the vendor refusing the new key whenever it is checked. */
function withNewKeysRefused(database: string, test: (oneKey: OneKeyTest) => Promise<void>) {
  return withOneKey(postgres, database, (oneKey) => {
    oneKey.setup.fleet.openrouter.inject({
      match: { method: 'GET', path: /\/key$/ },
      status: 401,
      times: 100,
    })
    return test(oneKey)
  })
}

describe('a new key that does not verify', () => {
  it('is rolled back for good, with no secret in DBOS records, and the key can be rotated again', async () => {
    await withNewKeysRefused(
      'verify_failure',
      async ({ setup, stores, keyId, workers, rotate }) => {
        const worker = await workers.start('worker-a', { stores })
        const failed = await rotate(worker, 'nightly')
        expect(failed?.status).toBe('ERROR')
        expect((failed?.error as Error | undefined)?.message).toContain('did not verify')
        // Rolled back once, not retried: one key made and deleted, the old one untouched.
        expect(await setup.trail(failed?.workflowID as string)).toEqual([
          { name: 'open', ran: 'open' },
          { name: 'create', ran: 'create' },
          { name: 'deliver', ran: 'deliver' },
          { name: 'verify', ran: 'error' },
        ])
        expect(writesAt(setup.fleet.openrouter)).toEqual({ creates: 1, deletes: 1 })
        expect(await activeIds(storeOf(setup.fleet, 'openrouter'))).toEqual([keyId])
        expect(await setup.leakedCredentials()).toEqual([])
        expect(await setup.sealedCount()).toBe(0)
        // Under a new batch, once the vendor takes new keys again, the key is rotated.
        setup.fleet.openrouter.clearFaults()
        await setup.expectReplacedBy(await rotate(worker, 'again'))
      },
    )
  }, 120_000)

  it('under a policy, is rotated again by its next firing, which names the failure', async () => {
    await withNewKeysRefused('policy_retry', async ({ setup, stores, keyId, workers }) => {
      const worker = await workers.start('worker-a', {
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
      const runs = await setup.ended(prefix, 2)
      expect(runs.map((run) => [run.workflowID, run.status]).sort()).toEqual([
        [`${prefix}${keyId}`, 'ERROR'],
        [`${prefix}${keyId}/2`, 'SUCCESS'],
      ])
      await setup.expectReplacedBy(runs.find((run) => run.status === 'SUCCESS'))
      expect(writesAt(setup.fleet.openrouter)).toEqual({ creates: 2, deletes: 2 })
    })
  }, 120_000)
})
