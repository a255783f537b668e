import { historyChanges, type RotationState } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import { readPostgresHistory } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { rotatableIds, storeOf } from './fleet.js'
import { startHarness, summaryOf, withWorkers } from './harness.js'

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
      const base = {
        stores: { latitudesh: { vendor: 'latitudesh', settings: setup.fleet.latitudesh.settings } },
        rotation: { strategy: 'regenerate' as const },
      }
      await withWorkers(
        setup,
        async (workers) => {
          const keyIds = await rotatableIds(storeOf(setup.fleet, 'latitudesh'))
          expect(keyIds).toHaveLength(3)
          const a = await workers.startDoomed('worker-a', { crashAt: { state, nth: 1 } })
          void a.send({ type: 'enqueue', batchId: 'nightly', label: 'latitudesh', keyIds })
          const cutOff = await a.killed()
          const b = await workers.start('worker-b')
          await b.send({ type: 'recover', executorId: 'worker-a' })
          const runs = await setup.succeeded(3)
          expect((await setup.trail(cutOff)).map((step) => step.ran)).toEqual(trail)
          const summary = summaryOf(runs.find((run) => run.workflowID === cutOff))
          // The token A delivered is the one B checked at the vendor: sealed when it was minted.
          expect(summary).toMatchObject({ retired: 'replaced', resumed: true })
          if (state === 'delivered') expect(summary?.verified).toBe(true)
          expect(summary?.warnings.filter((text) => text.includes('not verified'))).toEqual([])
          // Regenerated once and delivered once: a second regenerate would kill the delivered token.
          const regenerates = setup.fleet.latitudesh.requests.filter(
            (request) =>
              request.method === 'PUT' &&
              request.path.split('?')[0] === `/auth/api_keys/${summary?.oldKeyId}`,
          )
          expect(regenerates).toHaveLength(1)
          expect(await setup.deliveriesFor(summary?.oldKeyId)).toEqual([
            { new_key_id: summary?.oldKeyId, executor: 'worker-a' },
          ])
          expect(await setup.sealedCount()).toBe(0)
          // History holds every regenerate: the cut key's once, as the killed worker's; a change
          // the kill cut short has no outcome, and only the killed worker left such a change.
          const changes = historyChanges(await readPostgresHistory(setup.db))
          const regenerated = changes.filter((change) => change.attempt.action === 'regenerate')
          const cut = regenerated.filter((change) => change.attempt.rotationId === cutOff)
          expect(cut).toHaveLength(1)
          expect(cut[0]?.attempt).toMatchObject({
            store: 'latitudesh',
            batchId: 'nightly',
            keyId: summary?.oldKeyId,
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
                request.method === 'PUT' &&
                request.path.split('?')[0] === `/auth/api_keys/${keyId}`,
            )
            expect(mine.length).toBe(sent.length)
          }
          for (const change of regenerated.filter((change) => change.outcome === undefined))
            expect(change.attempt.actor).toEqual({ worker: 'worker-a' })
          await expect(setup.db.query('DELETE FROM keyway.history')).rejects.toThrow(/append-only/)
          // No token (the store's own, the regenerated ones) in DBOS's records, the journal or history.
          expect(await setup.leakedCredentials()).toEqual([])
        },
        base,
      )
    },
    120_000,
  )
})
