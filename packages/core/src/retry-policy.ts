import * as v from 'valibot'
import {
  KeyStoreError,
  NetworkError,
  RateLimitError,
  ResponseValidationError,
  TimeoutError,
} from './errors.js'
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
 * What a call may do at the vendor, which alone decides how it is retried:
 * - `'read'` and `'update'`: again on every retryable failure, since a repeat changes nothing more;
 * - `'delete'`: the same, and a 404 after an earlier attempt that may have taken effect means
 *   that attempt did the work, so the call succeeds;
 * - `'create'`: only where the attempt provably did not take effect (a 429, a failure before
 *   sending), since a repeat could make a second key;
 * - `'regenerate'`: never: the first success kills the old secret and a repeat the new one.
 */
export type RetryOperation = 'create' | 'regenerate' | 'delete' | 'read' | 'update'

const NAMED_OPERATIONS: Readonly<Record<string, RetryOperation>> = {
  create: 'create',
  regenerate: 'regenerate',
  delete: 'delete',
  update: 'update',
}

const BY_METHOD: Readonly<Record<string, RetryOperation>> = {
  GET: 'read',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
  POST: 'create',
}

/**
 * The retry operation of a call: the one it declares (`retryAs`), else its store operation
 * when that names one, else what its HTTP method usually does (a POST counts as a create,
 * the safe guess).
 */
export function retryOperationOf(request: {
  operation: string
  method: string
  retryAs?: RetryOperation | undefined
}): RetryOperation {
  return (
    request.retryAs ?? NAMED_OPERATIONS[request.operation] ?? BY_METHOD[request.method] ?? 'create'
  )
}

/**
 * Whether a failed attempt may have been processed by the vendor: the connection was lost
 * after sending, it timed out, a 5xx, or a 2xx we could not read. A refusal to process
 * (429, 425, a failure before sending) or a definite client error is not.
 */
export function mayHaveTakenEffect(error: unknown): boolean {
  if (!KeyStoreError.is(error)) return false
  if (error instanceof NetworkError) return error.phase === 'ambiguous'
  if (error instanceof TimeoutError || error instanceof ResponseValidationError) return true
  return error.status !== undefined && error.status >= 500
}

/** Whether a failed attempt provably changed nothing: refused with 429, or never sent. */
function provablyNotProcessed(error: KeyStoreError): boolean {
  if (error instanceof NetworkError) return error.phase === 'before-send'
  return error.status === 429
}

/**
 * The wait before retrying a failed attempt of `operation`, or `undefined` when it must not be
 * retried. Only errors marked `retryable` are; a vendor-requested wait beyond
 * `maxRetryAfterMs` is not waited out.
 */
export function retryDelay(
  error: unknown,
  operation: RetryOperation,
  retryNumber: number,
  options: ResolvedRetryOptions,
): number | undefined {
  if (!KeyStoreError.is(error) || !error.retryable) return undefined
  if (operation === 'regenerate') return undefined
  if (operation === 'create' && !provablyNotProcessed(error)) return undefined
  const wait = error instanceof RateLimitError ? error.retryAfterMs : undefined
  if (wait === undefined) return backoffDelay(retryNumber, options)
  return wait > options.maxRetryAfterMs ? undefined : Math.max(wait, 0)
}

/**
 * Whether a failed attempt means the call already succeeded: a delete's 404 after an
 * earlier attempt of the same call that may have taken effect.
 */
export function alreadyDone(
  error: KeyStoreError,
  operation: RetryOperation,
  earlierMayHaveTakenEffect: boolean,
): boolean {
  return operation === 'delete' && earlierMayHaveTakenEffect && error.status === 404
}

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base * 2^(retry - 1))). */
export function backoffDelay(retryNumber: number, options: ResolvedRetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retryNumber - 1))
  return Math.floor(options.random() * ceiling)
}
