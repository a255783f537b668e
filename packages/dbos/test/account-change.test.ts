import { storeFingerprint } from '@keyway/core/adapter'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { startEmulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { ROTATION_WORKFLOW_PREFIX, rotationQueueName, rotationWorkflowId } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { activeIds, storeOf, writesAt } from './fleet.js'
import { waitForEnded, withOneKey } from './harness.js'

const postgres = usePostgres()

describe('a store label pointed at another account', () => {
  it('between a kill and its takeover: the worker that reaches the other account is refused at start, touching nothing', async () => {
    const other = await startEmulator('openrouter', { seedKeys: 1, rateLimit: false })
    await withOneKey(postgres, 'label_moved', async ({ setup, stores, keyId, workers }) => {
      const a = await workers.startDoomed('worker-a', {
        stores,
        crashAt: { state: 'delivered', nth: 1 },
      })
      await a.send({ type: 'enqueue', batchId: 'nightly', label: 'openrouter', keyIds: [keyId] })
      await a.killed()
      // The same label, another account (a config pointed at staging by mistake).
      const moved = { openrouter: { vendor: 'openrouter', settings: other.settings } }
      await expect(workers.start('worker-b', { stores: moved })).rejects.toThrow(
        `openrouter store "openrouter": start refused: the label now reaches another account than recorded (the base URL changed from ${setup.fleet.openrouter.settings.baseUrl} to ${other.settings.baseUrl} and the credential changed)`,
      )
      expect(other.requests).toEqual([])
      // A worker that reaches the recorded account finishes the rotation.
      const c = await workers.start('worker-c', { stores })
      await c.send({ type: 'recover', executorId: 'worker-a' })
      const [run] = await setup.ended(ROTATION_WORKFLOW_PREFIX, 1)
      await setup.expectReplacedBy(run)
      expect(other.requests).toEqual([])
    }).finally(() => other.close())
  }, 180_000)

  it('by two configs on one database: a rotation queued for one account is refused by a worker of the other, before it sends anything', async () => {
    const other = await startEmulator('openrouter', { seedKeys: 1, rateLimit: false })
    await withOneKey(postgres, 'two_configs', async ({ setup, keyId, workers }) => {
      // Only the worker of the other account runs; the rotation was queued by the first
      // config, for its own account (as its workers enqueue it).
      await workers.start('worker-b', {
        stores: { openrouter: { vendor: 'openrouter', settings: other.settings } },
      })
      const digestKey = await setup.db.query<{ value: string }>(
        "SELECT value FROM keyway.settings WHERE name = 'digest_key'",
      )
      const meant = storeFingerprint(
        createOpenRouterKeyStore(setup.fleet.openrouter.settings),
        digestKey.rows[0]?.value as string,
      )
      const seenBefore = setup.fleet.openrouter.requests.length
      const workflowId = rotationWorkflowId('nightly', 'openrouter', keyId)
      await setup.client.enqueue(
        {
          workflowName: 'keyway.rotateKey',
          queueName: rotationQueueName('openrouter'),
          workflowID: workflowId,
        },
        'nightly',
        'openrouter',
        keyId,
        meant,
      )
      await waitForEnded(setup.client, ROTATION_WORKFLOW_PREFIX, 1)
      const [run] = await setup.client.listWorkflows({ workflowIDs: [workflowId] })
      expect(run?.status).toBe('ERROR')
      expect(run?.executorId).toBe('worker-b')
      expect((run?.error as Error | undefined)?.message).toBe(
        `openrouter store "openrouter": rotate refused: the label now reaches another account than recorded (the base URL changed from ${setup.fleet.openrouter.settings.baseUrl} to ${other.settings.baseUrl} and the credential changed)`,
      )
      // Neither account saw a request for it; nothing was claimed or journalled.
      expect(other.requests).toEqual([])
      expect(setup.fleet.openrouter.requests).toHaveLength(seenBefore)
      const kept = await setup.db.query(
        'SELECT (SELECT count(*) FROM keyway.key_claims)::int AS claims, (SELECT count(*) FROM keyway.rotations)::int AS rotations',
      )
      expect(kept.rows[0]).toEqual({ claims: 0, rotations: 0 })
    }).finally(() => other.close())
  }, 180_000)

  it('two labels at one account with selections that cannot overlap: each rotates only keys of its own selection', async () => {
    await withOneKey(postgres, 'shared_account', async ({ setup, keyId, workers }) => {
      const control = setup.fleet.openrouter.control
      const ci = control.seedKey({ name: 'ci-deploy' }).id
      const web = control.seedKey({ name: 'web-frontend' }).id
      const settings = setup.fleet.openrouter.settings
      const worker = await workers.start('worker-a', {
        stores: {
          ci: { vendor: 'openrouter', settings, select: { name: 'ci-*' } },
          web: { vendor: 'openrouter', settings, select: { name: 'web-*' } },
        },
      })
      // Asked by mistake to rotate the other label's key and one outside both: refused.
      await worker.send({ type: 'enqueue', batchId: 'b', label: 'ci', keyIds: [web, keyId, ci] })
      const runs = await setup.ended(ROTATION_WORKFLOW_PREFIX, 3)
      const outcome = Object.fromEntries(runs.map((run) => [run.workflowID, run.status]))
      expect(outcome).toEqual({
        [rotationWorkflowId('b', 'ci', web)]: 'ERROR',
        [rotationWorkflowId('b', 'ci', keyId)]: 'ERROR',
        [rotationWorkflowId('b', 'ci', ci)]: 'SUCCESS',
      })
      const refused = runs.find((run) => run.workflowID === rotationWorkflowId('b', 'ci', web))
      expect((refused?.error as Error | undefined)?.message).toBe(
        `ci rotate ${web}: skipped, nothing was created or changed: the key is outside this store's select, and another store reaches the same account`,
      )
      const live = await activeIds(storeOf(setup.fleet, 'openrouter'))
      expect(live).toContain(web)
      expect(live).toContain(keyId)
      expect(live).not.toContain(ci)
      expect(writesAt(setup.fleet.openrouter)).toEqual({ creates: 1, deletes: 1 })
    })
  }, 180_000)
})
