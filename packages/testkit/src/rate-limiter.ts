import type { RateLimit } from './types.js'

/** Counts requests against a vendor's rate limits. */
export interface RequestLimiter {
  /**
   * Counts a request of `caller` (for example its credential); returns the wait in
   * milliseconds when it is over a limit, else `undefined`.
   */
  take(caller: string, method: string): number | undefined
}

/** Fixed-window request counting per caller and kind, as vendors describe their limits. */
export class RateLimiter implements RequestLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>()
  readonly #limits: { read?: RateLimit; write?: RateLimit }
  readonly #timeScale: number
  readonly #now: () => number

  constructor(
    limits: { read?: RateLimit; write?: RateLimit },
    timeScale: number,
    now: () => number = Date.now,
  ) {
    this.#limits = limits
    this.#timeScale = timeScale
    this.#now = now
  }

  /** Counts a request; returns the wait in ms when it is over the limit, else `undefined`. */
  take(caller: string, method: string): number | undefined {
    const kind = method === 'GET' ? 'read' : 'write'
    const limit = this.#limits[kind]
    if (limit === undefined) return undefined
    const windowMs = limit.windowMs * this.#timeScale
    const now = this.#now()
    const key = `${kind}:${caller}`
    let window = this.#windows.get(key)
    if (window === undefined || now - window.start >= windowMs) {
      window = { start: now, count: 0 }
      this.#windows.set(key, window)
    }
    if (window.count >= limit.requests) return Math.max(1, window.start + windowMs - now)
    window.count++
    return undefined
  }
}
