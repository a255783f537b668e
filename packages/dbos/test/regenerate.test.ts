import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { historyChanges, type RotationState } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import {
  type DurableRotationSummary,
  ROTATION_WORKFLOW_PREFIX,
  readPostgresHistory,
} from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { rotatableIds, storeOf, testSealingKey } from './fleet.js'
import { checkpointTrail, leakedCredentials, startHarness, waitForEnded } from './harness.js'
import { startWorker, type WorkerProcess } from './worker-process.js'

const postgres = usePostgres()

// Latitude replaces a token in place: the old one dies the moment the vendor answers, so a
// rotation cut off after it delivered the new token must go on with that token, on any worker.
const cuts: Array<{ state: RotationState; trail: string[] }> = [
  { state: 'delivered', trail: ['open', 'create', 'resume*', 'verify', 'retire'] },
  { state: 'verified', trail: ['open', 'create', 'deliver', 'resume*', 'retire'] },
]

describe('regenerate rotations cut off by a killed worker', () => {
  it.each(cuts)(
    'a worker killed once a regenerate journalled $state: the other finishes it with the delivered token, regenerating once',
    async ({ state, trail }) => {
      const setup = await startHarness(postgres, `regenerate_${state}`, 3)
      const sealingKey = testSealingKey()
      const stores = {
        latitudesh: { vendor: 'latitudesh', settings: setup.fleet.latitudesh.settings },
      }
      const rotation = { strategy: 'regenerate' as const }
      let b: WorkerProcess | undefined
      try {
        const keyIds = await rotatableIds(storeOf(setup.fleet, 'latitudesh'))
        expect(keyIds).toHaveLength(3)
        const crashNote = join(await mkdtemp(join(tmpdir(), 'keyway-crash-')), 'rotation-id')
        const a = await startWorker({
          executorId: 'worker-a',
          databaseUrl: setup.url,
          sealingKey,
          stores,
          rotation,
          crashAt: { state, nth: 1 },
          crashNote,
        })
        void a.send({ type: 'enqueue', batchId: 'nightly', label: 'latitudesh', keyIds })
        expect(await a.exited).toBe('SIGKILL')
        b = await startWorker({
          executorId: 'worker-b',
          databaseUrl: setup.url,
          sealingKey,
          stores,
          rotation,
        })
        await b.send({ type: 'recover', executorId: 'worker-a' })
        await waitForEnded(setup.client, `${ROTATION_WORKFLOW_PREFIX}nightly/`, 3)
        const runs = await setup.client.listWorkflows({
          workflow_id_prefix: ROTATION_WORKFLOW_PREFIX,
        })
        const cutOff = await readFile(crashNote, 'utf8')
        const cutRun = runs.find((run) => run.workflowID === cutOff)
        expect(cutRun?.status).toBe('SUCCESS')
        expect((await checkpointTrail(setup.client, cutOff)).map((step) => step.ran)).toEqual(trail)
        const summary = cutRun?.output as DurableRotationSummary
        // The token A delivered is the one B checked at the vendor: sealed when it was minted.
        expect(summary).toMatchObject({ retired: 'replaced', resumed: true })
        if (state === 'delivered') expect(summary.verified).toBe(true)
        expect(summary.warnings.filter((text) => text.includes('not verified'))).toEqual([])
        // Regenerated once and delivered once: a second regenerate would kill the delivered token.
        const regenerates = setup.fleet.latitudesh.requests.filter(
          (request) =>
            request.method === 'PUT' &&
            request.path.split('?')[0] === `/auth/api_keys/${summary.oldKeyId}`,
        )
        expect(regenerates).toHaveLength(1)
        const delivered = await setup.db.query<{ new_key_id: string; executor: string }>(
          'SELECT new_key_id, executor FROM deliveries WHERE old_key_id = $1',
          [summary.oldKeyId],
        )
        expect(delivered.rows).toEqual([{ new_key_id: summary.oldKeyId, executor: 'worker-a' }])
        expect(runs.filter((run) => run.status !== 'SUCCESS')).toEqual([])
        const sealed = await setup.db.query('SELECT count(*)::int AS n FROM keyway.sealed_secrets')
        expect(sealed.rows[0].n).toBe(0)
        // History holds every regenerate: the cut key's once, as the killed worker's; a change
        // the kill cut short has no outcome, and only the killed worker left such a change.
        const changes = historyChanges(await readPostgresHistory(setup.db))
        const regenerated = changes.filter((change) => change.attempt.action === 'regenerate')
        const cut = regenerated.filter((change) => change.attempt.rotationId === cutOff)
        expect(cut).toHaveLength(1)
        expect(cut[0]?.attempt).toMatchObject({
          store: 'latitudesh',
          batchId: 'nightly',
          keyId: summary.oldKeyId,
          actor: { worker: 'worker-a' },
        })
        expect(cut[0]?.outcome?.outcome).toBe('succeeded')
        expect(cut[0]?.attempt.account).toMatchObject({ credential: expect.any(String) })
        for (const keyId of keyIds) {
          const mine = regenerated.filter((change) => change.attempt.keyId === keyId)
          expect(mine.some((change) => change.outcome?.outcome === 'succeeded')).toBe(true)
          // As many regenerates as the vendor was sent for this key.
          const sent = setup.fleet.latitudesh.requests.filter(
            (request) =>
              request.method === 'PUT' && request.path.split('?')[0] === `/auth/api_keys/${keyId}`,
          )
          expect(mine.length).toBe(sent.length)
        }
        for (const change of regenerated.filter((change) => change.outcome === undefined))
          expect(change.attempt.actor).toEqual({ worker: 'worker-a' })
        await expect(setup.db.query('DELETE FROM keyway.history')).rejects.toThrow(/append-only/)
        // No token (the store's own, the regenerated ones) in DBOS's records, the journal or history.
        expect(await leakedCredentials(setup)).toEqual([])
      } finally {
        await b?.send({ type: 'stop' }).catch(() => {})
        await setup.close()
      }
    },
    120_000,
  )
})
