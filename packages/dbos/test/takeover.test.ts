import { describe, expect, it } from 'vitest'
import type { TakeoverEvent } from '../src/index.js'
import {
  handOverWorker,
  resolveTakeover,
  type TakeoverSettings,
  WorkerTakeover,
} from '../src/worker-takeover.js'
import { usePostgres } from './embedded-postgres.js'
import { useKeywayPool } from './harness.js'

const pool = useKeywayPool(usePostgres(), 'takeover', 8)

const settings: TakeoverSettings = { heartbeatMs: 1_000, deadAfterMs: 60_000 }

/** A worker's takeover whose hand-over records what it was asked to recover. */
function watcher(executorId: string, recovered: string[], events: TakeoverEvent[]) {
  return new WorkerTakeover(
    pool(),
    executorId,
    { ...settings, onTakeover: (event) => void events.push(event) },
    async (silent) => {
      recovered.push(silent)
      return { workflowIds: [`keyway-rotate/nightly/${silent}/1`], left: 0 }
    },
  )
}

/** Records a worker last heard from `secondsAgo` seconds ago (by the database's clock). */
async function heardFrom(executorId: string, secondsAgo: number): Promise<void> {
  await pool().query(
    `INSERT INTO keyway.workers (executor_id, seen_at)
     VALUES ($1, now() - make_interval(secs => $2))
     ON CONFLICT (executor_id) DO UPDATE SET seen_at = EXCLUDED.seen_at`,
    [executorId, secondsAgo],
  )
}

async function workers(): Promise<string[]> {
  const result = await pool().query<{ executor_id: string }>(
    'SELECT executor_id FROM keyway.workers ORDER BY executor_id',
  )
  return result.rows.map((row) => row.executor_id)
}

describe('taking over a silent worker', () => {
  it('hands a silent worker on exactly once, though every live worker sees it at the same moment', async () => {
    await pool().query('DELETE FROM keyway.workers')
    await heardFrom('gone', 120)
    const recovered: string[] = []
    const events: TakeoverEvent[] = []
    const live = ['b', 'c', 'd', 'e'].map((id) => watcher(id, recovered, events))
    const results = await Promise.all(live.map((each) => each.beat()))
    expect(recovered).toEqual(['gone'])
    expect(results.flat()).toEqual([
      { executorId: 'gone', workflowIds: ['keyway-rotate/nightly/gone/1'] },
    ])
    expect(events).toEqual(results.flat())
    expect(await workers()).toEqual(['b', 'c', 'd', 'e'])
    // Handed on: the next heartbeats find nobody to take over.
    await Promise.all(live.map((each) => each.beat()))
    expect(recovered).toEqual(['gone'])
  })

  it('leaves a worker heard from within deadAfterMs, and never takes over itself', async () => {
    await pool().query('DELETE FROM keyway.workers')
    await heardFrom('busy', 59)
    await heardFrom('me', 600)
    const recovered: string[] = []
    const me = watcher('me', recovered, [])
    // Its own beat first makes it alive again; the silent check skips itself anyway.
    expect(await me.takeOver()).toEqual([])
    expect(await me.beat()).toEqual([])
    expect(recovered).toEqual([])
    expect(await workers()).toEqual(['busy', 'me'])
  })

  it('keeps a silent worker listed when the hand-over fails, so the next heartbeat tries again', async () => {
    await pool().query('DELETE FROM keyway.workers')
    await heardFrom('gone', 120)
    let failing = true
    const recovered: string[] = []
    const live = new WorkerTakeover(pool(), 'b', settings, async (silent) => {
      if (failing) throw new Error('system database away')
      recovered.push(silent)
      return { workflowIds: [], left: 0 }
    })
    await expect(live.beat()).rejects.toThrow('system database away')
    expect(await workers()).toEqual(['b', 'gone'])
    failing = false
    expect(await live.beat()).toEqual([{ executorId: 'gone', workflowIds: [] }])
    expect(recovered).toEqual(['gone'])
    expect(await workers()).toEqual(['b'])
  })

  it('hands a worker on once when recoverExecutor and a takeover come at the same moment', async () => {
    await pool().query('DELETE FROM keyway.workers')
    await heardFrom('gone', 120)
    // DBOS as a hand-over sees it: the gone worker's unfinished workflows are listed, then
    // each is resumed. Resuming one already handed on would run it twice (DBOS re-enqueues
    // any workflow not yet ended, wherever it runs now).
    const pending = new Set(['w1', 'w2'])
    const resumed: string[] = []
    let listings = 0
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const recover = async (executorId: string) => {
      expect(executorId).toBe('gone')
      const listed = [...pending]
      listings++
      await gate
      for (const id of listed) {
        pending.delete(id)
        resumed.push(id)
      }
      return { workflowIds: listed, left: 0 }
    }
    const byHand = handOverWorker(pool(), 'gone', recover)
    while (listings === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    let beatDone = false
    const byBeat = new WorkerTakeover(pool(), 'b', settings, recover).beat().finally(() => {
      beatDone = true
    })
    // Let the takeover reach its listing, or give up the worker being handed on, or wait.
    const waiting = async () =>
      (
        await pool().query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        )
      ).rows[0]?.n ?? 0
    while (listings < 2 && !beatDone && (await waiting()) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    release()
    const [workflowIds, events] = await Promise.all([byHand, byBeat])
    expect(workflowIds).toEqual(['w1', 'w2'])
    expect(events).toEqual([])
    expect(resumed.sort()).toEqual(['w1', 'w2'])
    expect(await workers()).toEqual(['b'])
    // Called again by hand once the takeover is done: nothing is left to hand on.
    expect(await handOverWorker(pool(), 'gone', recover)).toEqual([])
    expect(resumed).toHaveLength(2)
  })

  it('leaves the workflows a silent worker took up within deadAfterMs (it is back under its id) for a later look', async () => {
    await pool().query('DELETE FROM keyway.workers')
    await heardFrom('back', 120)
    // A worker restarted under its own executor id takes its workflows up again as DBOS
    // launches, before its first heartbeat: those changed hands just now, so the takeover
    // leaves them (and the worker listed) rather than run them a second time.
    const asked: Array<number | undefined> = []
    const events: TakeoverEvent[] = []
    const live = new WorkerTakeover(
      pool(),
      'b',
      { ...settings, onTakeover: (event) => void events.push(event) },
      async (_silent, changedBefore) => {
        asked.push(changedBefore)
        return { workflowIds: [], left: 1 }
      },
    )
    const clock = async () =>
      Number(
        (
          await pool().query<{ ms: string }>(
            'SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms',
          )
        ).rows[0]?.ms,
      )
    const before = await clock()
    expect(await live.beat()).toEqual([])
    const after = await clock()
    expect(asked).toHaveLength(1)
    expect(asked[0]).toBeGreaterThanOrEqual(before - settings.deadAfterMs)
    expect(asked[0]).toBeLessThanOrEqual(after - settings.deadAfterMs)
    expect(events).toEqual([])
    expect(await workers()).toEqual(['b', 'back'])
  })

  it('refuses settings that would take over live workers, before anything starts', () => {
    expect(resolveTakeover({ heartbeatMs: 5_000, deadAfterMs: 10_000 })).toEqual({
      path: 'takeover.deadAfterMs',
      message: 'must be a whole number of milliseconds, at least three heartbeats (15000)',
    })
    expect(resolveTakeover({ heartbeatMs: 0 })).toMatchObject({ path: 'takeover.heartbeatMs' })
    expect(resolveTakeover()).toEqual({ heartbeatMs: 5_000, deadAfterMs: 60_000 })
  })
})
