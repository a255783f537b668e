import * as v from 'valibot'
import { atLeastOne, limitMs, waitMs } from './setting-schemas.js'

/** How a call is retried. Every field has a default; `retry: false` turns retries off. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default `3`. */
  attempts?: number
  /** Backoff base: the first wait is at most this long. Default `500` ms. */
  baseDelayMs?: number
  /** Cap on one backoff wait. Default `20_000` ms. */
  maxDelayMs?: number
  /**
   * Longest vendor-requested wait (`Retry-After` or the vendor's own field) that is waited out.
   * A longer one throws `RateLimitError` at once. Default `60_000` ms.
   */
  maxRetryAfterMs?: number
  /** Overall deadline of one call, retries and waits included. Default `120_000` ms. */
  deadlineMs?: number
  /** Source of randomness for jitter, in [0, 1). Default `Math.random`; set it in tests. */
  random?: () => number
}

/** `RetryOptions` as checked before a store is built; unknown fields are refused. */
export const retryOptionsSchema = v.strictObject({
  attempts: v.optional(atLeastOne),
  baseDelayMs: v.optional(waitMs),
  maxDelayMs: v.optional(waitMs),
  maxRetryAfterMs: v.optional(waitMs),
  deadlineMs: v.optional(limitMs),
  random: v.optional(v.function()),
})

/** `RetryOptions` with every default filled in. */
export type ResolvedRetryOptions = Required<RetryOptions>

/** The retry defaults: 3 attempts, 500 ms base, 20 s cap, 60 s longest honoured wait, 120 s deadline. */
export const defaultRetryOptions: Readonly<ResolvedRetryOptions> = Object.freeze({
  attempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
  deadlineMs: 120_000,
  random: Math.random,
})

/** Fills in the defaults of options already checked against `retryOptionsSchema`. */
export function resolveRetryOptions(retry: RetryOptions | false | undefined): ResolvedRetryOptions {
  if (retry === false) return { ...defaultRetryOptions, attempts: 1 }
  const resolved = { ...defaultRetryOptions }
  for (const [field, value] of Object.entries(retry ?? {})) {
    if (value !== undefined) Object.assign(resolved, { [field]: value })
  }
  return resolved
}

/** Statuses that say "try again": the request was not (fully) handled. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504])

/**
 * How a request may be retried:
 * - `'idempotent'`: on network errors, timeouts and every retryable status (GET, PUT, PATCH, DELETE);
 * - `'create'`: only where the request provably did not take effect: 429 and failures before sending;
 * - `'never'`: one attempt, for calls whose repeat does harm (an in-place regenerate).
 */
export type RetryMode = 'idempotent' | 'create' | 'never'

export function defaultRetryMode(method: string): RetryMode {
  return method === 'POST' ? 'create' : 'idempotent'
}

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base * 2^(retry - 1))). */
export function backoffDelay(retryNumber: number, options: ResolvedRetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retryNumber - 1))
  return Math.floor(options.random() * ceiling)
}
