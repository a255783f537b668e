import { existsSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { activeIds, rotatableIds, storeOf, testSealingKey, writesAt } from './fleet.js'
import { startHarness, waitForEnded } from './harness.js'
import { startWorker, type WorkerProcess } from './worker-process.js'

const postgres = usePostgres()

const pause = () => new Promise((resolve) => setTimeout(resolve, 100))

describe('a worker that stalls mid-rotation and comes back after a takeover', () => {
  it('leaves the rotation to the worker that took it over: its late create is deleted, the record is not touched', async () => {
    const setup = await startHarness(postgres, 'stalled', 1)
    const stores = {
      openrouter: { vendor: 'openrouter', settings: setup.fleet.openrouter.settings },
    }
    const sealingKey = testSealingKey()
    const takeover = { heartbeatMs: 300, deadAfterMs: 1_500 }
    const workers: WorkerProcess[] = []
    try {
      const keyIds = await rotatableIds(storeOf(setup.fleet, 'openrouter'))
      expect(keyIds).toHaveLength(1)
      const directory = await mkdtemp(join(tmpdir(), 'keyway-stall-'))
      const crashNote = join(directory, 'rotation-id')
      const until = join(directory, 'go-on')
      // Worker A journals its create and stalls before sending it.
      const a = await startWorker({
        executorId: 'worker-a',
        databaseUrl: setup.url,
        sealingKey,
        stores,
        takeover,
        stallAt: { state: 'creating', nth: 1, until },
        crashNote,
      })
      workers.push(a)
      void a.send({ type: 'enqueue', batchId: 'nightly', label: 'openrouter', keyIds })
      while (!existsSync(crashNote)) await pause()
      const rotationId = await readFile(crashNote, 'utf8')
      // Worker B finds A silent, takes the rotation over and finishes it.
      workers.push(
        await startWorker({
          executorId: 'worker-b',
          databaseUrl: setup.url,
          sealingKey,
          stores,
          takeover,
        }),
      )
      await waitForEnded(setup.client, ROTATION_WORKFLOW_PREFIX, 1)
      const [run] = await setup.client.listWorkflows({ workflow_id_prefix: rotationId })
      expect(run).toMatchObject({ status: 'SUCCESS', executorId: 'worker-b' })
      const newKeyId = (run?.output as { newKeyId: string } | undefined)?.newKeyId
      const record = async () =>
        (
          await setup.db.query<{ record: { state: string; newKeyId: string } }>(
            'SELECT record FROM keyway.rotations WHERE rotation_id = $1',
            [rotationId],
          )
        ).rows[0]?.record
      const finished = await record()
      expect(finished).toMatchObject({ state: 'done', newKeyId })
      // A comes back and sends the create it journalled before it stalled.
      await writeFile(until, '')
      const store = storeOf(setup.fleet, 'openrouter')
      for (;;) {
        const creates = writesAt(setup.fleet.openrouter).creates
        const live = await activeIds(store)
        const now = await record()
        if (now?.newKeyId !== newKeyId || (creates === 2 && live.length === 1)) break
        await pause()
      }
      expect(await record()).toEqual(finished)
      expect(await activeIds(store)).toEqual([newKeyId])
      const delivered = await setup.db.query<{ new_key_id: string }>(
        'SELECT new_key_id FROM deliveries',
      )
      expect(delivered.rows).toEqual([{ new_key_id: newKeyId }])
    } finally {
      await Promise.all(workers.map((worker) => worker.send({ type: 'stop' }).catch(() => {})))
      await setup.close()
    }
  }, 120_000)
})
