import * as v from 'valibot'
import { atLeastOne, perSecond } from './setting-schemas.js'
import { sleep } from './sleep.js'
import { validateInput } from './validate.js'

/** Pacing for one store (or several sharing a `Scheduler`). */
export interface SchedulerOptions {
  /** Requests in flight at once, per store. Default `8`. */
  concurrency?: number
  /** Most read requests (GET) started per second. Default: no limit. */
  readsPerSecond?: number
  /** Most write requests (POST, PUT, PATCH, DELETE) started per second. Default: no limit. */
  writesPerSecond?: number
}

/** `SchedulerOptions` as checked before a store is built; unknown fields are refused. */
export const schedulerOptionsSchema = v.strictObject({
  concurrency: v.optional(atLeastOne),
  readsPerSecond: v.optional(perSecond),
  writesPerSecond: v.optional(perSecond),
})

/** Reads (GET) and writes (everything else) are paced separately. */
export type RequestKind = 'read' | 'write'

/**
 * Paces one store's requests: a concurrency cap, optional request rates for reads and
 * writes, and a store-wide pause when the vendor says to slow down (429).
 */
export class Scheduler {
  readonly #concurrency: number
  readonly #spacingMs: Record<RequestKind, number>
  readonly #nextStart: Record<RequestKind, number> = { read: 0, write: 0 }
  readonly #waiting: Array<() => void> = []
  #active = 0
  #pausedUntil = 0

  /** Throws `ValidationError` for an option out of range, naming it. */
  constructor(options: SchedulerOptions = {}) {
    validateInput(v.optional(schedulerOptionsSchema), options, {
      provider: 'keyway',
      operation: 'configure',
    })
    this.#concurrency = options.concurrency ?? 8
    this.#spacingMs = {
      read: spacing(options.readsPerSecond),
      write: spacing(options.writesPerSecond),
    }
  }

  /** Requests running now. */
  get active(): number {
    return this.#active
  }

  /** Holds every request of the store until `ms` from now (never shortens a longer pause). */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + ms)
  }

  /** Runs `task` when a slot is free, the rate allows and no pause is in force. */
  async run<T>(kind: RequestKind, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#idle(kind)) {
      // Nothing to wait for: take the slot at once, with no awaits in between.
      signal?.throwIfAborted()
      this.#active++
      try {
        return await task()
      } finally {
        this.#release()
      }
    }
    await this.#waitForPause(signal)
    await this.#acquire(signal)
    try {
      await this.#waitForRate(kind, signal)
      await this.#waitForPause(signal)
      return await task()
    } finally {
      this.#release()
    }
  }

  /** A free slot, no rate to keep and no pause in force. */
  #idle(kind: RequestKind): boolean {
    return (
      this.#active < this.#concurrency &&
      this.#spacingMs[kind] === 0 &&
      this.#pausedUntil <= Date.now()
    )
  }

  async #waitForPause(signal?: AbortSignal): Promise<void> {
    // A pause may be extended while we wait, so look again after each sleep.
    while (Date.now() < this.#pausedUntil) await sleep(this.#pausedUntil - Date.now(), signal)
  }

  async #waitForRate(kind: RequestKind, signal?: AbortSignal): Promise<void> {
    const spacingMs = this.#spacingMs[kind]
    if (spacingMs === 0) return
    const now = Date.now()
    const start = Math.max(now, this.#nextStart[kind])
    this.#nextStart[kind] = start + spacingMs
    await sleep(start - now, signal)
  }

  #acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (this.#active < this.#concurrency) {
      this.#active++
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiting.indexOf(grant)
        if (index !== -1) this.#waiting.splice(index, 1)
        reject(signal?.reason)
      }
      const grant = () => {
        signal?.removeEventListener('abort', onAbort)
        this.#active++
        resolve()
      }
      this.#waiting.push(grant)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  #release(): void {
    this.#active--
    this.#waiting.shift()?.()
  }
}

function spacing(rate: number | undefined): number {
  return rate === undefined ? 0 : 1000 / rate
}
