import type { Pool } from 'pg'
import { KEYWAY_SCHEMA } from './keyway-tables.js'
import { inTransaction } from './transaction.js'

/** A takeover: the unfinished rotations of a worker that was gone, handed to the live workers. */
export interface TakeoverEvent {
  /** The worker that was not heard from. */
  executorId: string
  /** The workflows handed on, each back on its own queue. */
  workflowIds: string[]
}

/**
 * What one hand-over of a worker's workflows did: the workflows handed on, and how many it
 * left with the worker for a later look (taken up too recently, see `Recover`).
 */
export interface HandOver {
  workflowIds: string[]
  left: number
}

/**
 * Hands a worker's unfinished workflows to the queues. With `changedBefore` (epoch ms, the
 * database's clock) it hands on only workflows whose status last changed before then, and
 * counts the others as `left`: a worker restarted under its own executor id takes its
 * workflows up again as DBOS launches, before its first heartbeat, and those must stay
 * with it.
 */
export type Recover = (executorId: string, changedBefore?: number) => Promise<HandOver>

/**
 * How the workers notice one of them is gone and take over its unfinished rotations. Every
 * worker records that it is alive every `heartbeatMs`; a worker not heard from for
 * `deadAfterMs` is taken for dead, and the first live worker to see it hands its unfinished
 * workflows to the queues (as `recoverExecutor` does), exactly once.
 */
export interface TakeoverOptions {
  /** How often each worker records that it is alive. Default `5_000`. */
  heartbeatMs?: number
  /**
   * How long a worker may stay silent before the others take over its work. Default
   * `60_000`; at least three heartbeats. A worker only pauses this long if it lost its
   * process, its machine or its database, so keep it well above any stall you expect: a
   * stalled worker that comes back stops at its next journal write, but finishes the vendor
   * request it was sending first.
   */
  deadAfterMs?: number
  /** Told of each takeover. Never a secret. */
  onTakeover?: (event: TakeoverEvent) => void
}

/** Resolved takeover settings. */
export interface TakeoverSettings {
  heartbeatMs: number
  deadAfterMs: number
  onTakeover?: (event: TakeoverEvent) => void
}

/** The settings with their defaults, or the first one that is wrong (its path and why). */
export function resolveTakeover(
  options: TakeoverOptions = {},
): TakeoverSettings | { path: string; message: string } {
  const heartbeatMs = options.heartbeatMs ?? 5_000
  const deadAfterMs = options.deadAfterMs ?? 60_000
  if (!Number.isInteger(heartbeatMs) || heartbeatMs <= 0) {
    return {
      path: 'takeover.heartbeatMs',
      message: 'must be a whole number of milliseconds above 0',
    }
  }
  if (!Number.isInteger(deadAfterMs) || deadAfterMs < 3 * heartbeatMs) {
    return {
      path: 'takeover.deadAfterMs',
      message: `must be a whole number of milliseconds, at least three heartbeats (${3 * heartbeatMs})`,
    }
  }
  return {
    heartbeatMs,
    deadAfterMs,
    ...(options.onTakeover ? { onTakeover: options.onTakeover } : {}),
  }
}

/**
 * The lock that makes the hand-overs of one worker happen one at a time. A hand-over lists
 * the worker's unfinished workflows, then resumes each; DBOS re-enqueues any workflow that
 * has not ended, wherever it runs now, so a second hand-over working from a listing taken
 * before the first resumed would run those workflows twice at once.
 */
const HAND_OVER_LOCK = "hashtext('keyway-hand-over'), hashtext($1)"

/**
 * Hands the unfinished workflows of a worker that is gone to the live workers (`recover`),
 * then forgets the worker. It waits for any hand-over of the same worker under way (a
 * takeover, or another call), and lists only after that, so it finds nothing that was
 * already handed on.
 */
export async function handOverWorker(
  pool: Pool,
  executorId: string,
  recover: Recover,
): Promise<string[]> {
  return inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(${HAND_OVER_LOCK})`, [executorId])
    const { workflowIds } = await recover(executorId)
    await client.query(`DELETE FROM ${KEYWAY_SCHEMA}.workers WHERE executor_id = $1`, [executorId])
    return workflowIds
  })
}

/**
 * One worker's part: it records that it is alive and takes over the work of workers gone
 * silent. The row lock makes each takeover happen once, whichever workers see it.
 */
export class WorkerTakeover {
  readonly #pool: Pool
  readonly #executorId: string
  readonly #settings: TakeoverSettings
  readonly #recover: Recover
  #timer: NodeJS.Timeout | undefined
  #beating: Promise<void> = Promise.resolve()

  constructor(pool: Pool, executorId: string, settings: TakeoverSettings, recover: Recover) {
    this.#pool = pool
    this.#executorId = executorId
    this.#settings = settings
    this.#recover = recover
  }

  /** Records this worker as alive, then keeps doing so (and watching the others) until `stop`. */
  async start(): Promise<void> {
    await this.beat()
    this.#timer = setInterval(() => {
      // A failed beat (the database away for a moment) is retried at the next one.
      this.#beating = this.#beating
        .then(async () => {
          await this.beat()
        })
        .catch(() => {})
    }, this.#settings.heartbeatMs)
    this.#timer.unref()
  }

  /** Stops beating (the others take over this worker's unfinished work once it is silent). */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.#beating
  }

  /** One heartbeat: record this worker alive, then take over any worker silent for too long. */
  async beat(): Promise<TakeoverEvent[]> {
    await this.#pool.query(
      `INSERT INTO ${KEYWAY_SCHEMA}.workers (executor_id, seen_at) VALUES ($1, now())
       ON CONFLICT (executor_id) DO UPDATE SET seen_at = now()`,
      [this.#executorId],
    )
    return this.takeOver()
  }

  /** Takes over the work of every worker silent for `deadAfterMs` that no other worker is taking over. */
  async takeOver(): Promise<TakeoverEvent[]> {
    const events = await inTransaction(this.#pool, async (client) => {
      const taken: TakeoverEvent[] = []
      // Locked rows are being taken over by another worker: skipped, not waited for.
      // A workflow whose status changed within deadAfterMs was taken up by a live worker: by
      // the silent one itself, restarted under its id and not yet beating.
      const silent = await client.query<{ executor_id: string; changed_before: string }>(
        `SELECT executor_id,
           (extract(epoch FROM now()) * 1000)::bigint - $3::bigint AS changed_before
         FROM ${KEYWAY_SCHEMA}.workers
         WHERE executor_id <> $1 AND seen_at < now() - make_interval(secs => $2)
         FOR UPDATE SKIP LOCKED`,
        [this.#executorId, this.#settings.deadAfterMs / 1000, this.#settings.deadAfterMs],
      )
      for (const { executor_id: executorId, changed_before: changedBefore } of silent.rows) {
        // Being handed on by `handOverWorker`, which forgets it when done: not waited for.
        const free = await client.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_xact_lock(${HAND_OVER_LOCK}) AS locked`,
          [executorId],
        )
        if (free.rows[0]?.locked !== true) continue
        const { workflowIds, left } = await this.#recover(executorId, Number(changedBefore))
        // A worker that left workflows stays listed: a later heartbeat looks again, and hands
        // them on unless it beats by then.
        if (left === 0) {
          await client.query(`DELETE FROM ${KEYWAY_SCHEMA}.workers WHERE executor_id = $1`, [
            executorId,
          ])
        }
        if (workflowIds.length > 0 || left === 0) taken.push({ executorId, workflowIds })
      }
      return taken
    })
    for (const event of events) this.#settings.onTakeover?.(event)
    return events
  }
}
