import { sleep } from './sleep.js'

/** Pacing for one store (or several sharing a `Scheduler`). */
export interface SchedulerOptions {
  /** Requests in flight at once, per store. Default `8`. */
  concurrency?: number
  /** Most read requests (GET) started per second. Default: no limit. */
  readsPerSecond?: number
  /** Most write requests (POST, PUT, PATCH, DELETE) started per second. Default: no limit. */
  writesPerSecond?: number
}

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

  constructor(options: SchedulerOptions = {}) {
    const concurrency = options.concurrency ?? 8
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError('scheduler concurrency must be a whole number of at least 1')
    }
    this.#concurrency = concurrency
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

function spacing(perSecond: number | undefined): number {
  if (perSecond === undefined) return 0
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
    throw new RangeError('scheduler rates must be positive numbers of requests per second')
  }
  return 1000 / perSecond
}
