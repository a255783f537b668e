// Helpers for this package's own tests; not part of the published API.
import { vi } from 'vitest'
import type { HttpHooks } from './http-client.js'

// Taken before any test fakes the timers: nock answers on real timers.
const realSetTimeout = globalThis.setTimeout
const realPause = () => new Promise((resolve) => realSetTimeout(resolve, 1))

export const BASE_URL = 'https://api.vendor.test/v1'

let inFlight = 0
let pendingAttempts = 0

/**
 * Hooks that keep count of attempts between their request and response events, so
 * `settleExactly` never moves the fake clock while one is under way. Wraps `hooks`.
 */
export function tracked(hooks: HttpHooks = {}): HttpHooks {
  return {
    ...hooks,
    request: (event) => {
      pendingAttempts++
      hooks.request?.(event)
    },
    response: (event) => {
      pendingAttempts--
      hooks.response?.(event)
    },
  }
}

/**
 * A fetch that records calls and passes them on to the (nock-intercepted) global fetch,
 * keeping count of responses still to come so `settleExactly` never moves the clock past them.
 */
export function countingFetch(): typeof fetch & { calls: Request[] } {
  const calls: Request[] = []
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(input instanceof Request ? input : new Request(input, init))
    inFlight++
    try {
      const response = await globalThis.fetch(input, init)
      // Buffer the body here, so reading it later needs no more I/O.
      const body = await response.arrayBuffer()
      return new Response(response.status === 204 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      })
    } finally {
      inFlight--
    }
  }) as typeof fetch & { calls: Request[] }
  wrapped.calls = calls
  return wrapped
}

/** Advances fake timers until `promise` settles, then returns its outcome. */
export async function settle<T>(
  promise: Promise<T>,
  stepMs = 50,
  maxSteps = 20_000,
): Promise<{ value?: T; error?: unknown }> {
  const outcome = watch(promise)
  for (let step = 0; step < maxSteps && !outcome.done; step++) {
    // Let real I/O (the intercepted responses) run before fake time moves on.
    await new Promise((resolve) => setImmediate(resolve))
    if (!outcome.done) await vi.advanceTimersByTimeAsync(stepMs)
  }
  if (!outcome.done) throw new Error('promise did not settle')
  return { value: outcome.value, error: outcome.error }
}

/**
 * Like `settle`, but moves the fake clock straight to the next timer once in-process I/O is
 * idle, so measured waits are exact.
 */
export async function settleExactly<T>(
  promise: Promise<T>,
  maxSteps = 1000,
): Promise<{ value?: T; error?: unknown }> {
  const outcome = watch(promise)
  for (let step = 0; step < maxSteps && !outcome.done; step++) {
    // Bounded: a response that waits on fake time itself (nock's delay) never comes on its own.
    for (let round = 0; round < 100 && (inFlight > 0 || pendingAttempts > 0); round++) {
      await realPause()
    }
    for (let round = 0; round < 3 && !outcome.done; round++) await realPause()
    if (!outcome.done) await vi.advanceTimersToNextTimerAsync()
  }
  if (!outcome.done) throw new Error('promise did not settle')
  return { value: outcome.value, error: outcome.error }
}

/** Follows a promise: `done` turns true once it settles, with its value or error. */
function watch<T>(promise: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const outcome: { done: boolean; value?: T; error?: unknown } = { done: false }
  promise.then(
    (value) => {
      outcome.value = value
      outcome.done = true
    },
    (error: unknown) => {
      outcome.error = error
      outcome.done = true
    },
  )
  return outcome
}
