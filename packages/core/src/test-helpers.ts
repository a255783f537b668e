// Helpers for this package's own tests; not part of the published API.
//
// The tests fake `setTimeout`, `clearTimeout` and `Date`, while nock answers on real I/O. The
// fake clock may therefore move only when no real response is still to come: otherwise the
// attempt timer fires first whenever the machine is slower than a test assumed. Every fetch a
// test hands to a client comes from this file, so the helpers always know what is in flight.
import { vi } from 'vitest'
import { createHttpClient, type HttpClient, type HttpClientSettings } from './http-client.js'

export const BASE_URL = 'https://api.vendor.test/v1'

/** A client of the tests' vendor at `BASE_URL`, sending through `fetch`, with `settings` on top. */
export const vendorClient = (
  fetch: typeof globalThis.fetch,
  settings: Partial<HttpClientSettings> = {},
) => createHttpClient({ provider: 'vendor', baseUrl: BASE_URL, fetch, ...settings })

/** Lists the vendor's keys (`GET /keys`) through `client`, and `settle`s the call. */
export const listKeys = (client: HttpClient, signal?: AbortSignal) =>
  settle(
    client.request({
      operation: 'list',
      method: 'GET',
      path: '/keys',
      ...(signal === undefined ? {} : { signal }),
    }),
  )

/** Real answers still to come from the (nock-intercepted) global fetch. */
let inFlight = 0

/** How long a real answer may take before a test fails loudly instead of moving time on. */
const REAL_ANSWER_LIMIT_MS = 60_000

/** A recording fetch: the calls it received, in order. */
export type RecordingFetch = typeof fetch & { calls: Request[] }

function recording(
  handler: (request: Request, forward: () => Promise<Response>) => Promise<Response>,
) {
  const calls: Request[] = []
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init)
    calls.push(request)
    return handler(request, () => globalThis.fetch(input, init))
  }) as RecordingFetch
  wrapped.calls = calls
  return wrapped
}

/**
 * A fetch that records calls and passes them on to the (nock-intercepted) global fetch. It
 * counts answers still to come, and buffers each body, so `settle` never moves the fake clock
 * while one is on its way and reading a body later needs no more real I/O.
 */
export function countingFetch(): RecordingFetch {
  return recording(async (_request, forward) => {
    inFlight++
    try {
      const response = await forward()
      const body = await response.arrayBuffer()
      return new Response(response.status === 204 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      })
    } finally {
      inFlight--
    }
  })
}

/**
 * A vendor that never answers: the call waits until its signal aborts (the attempt timer or
 * the caller), so only fake time can end it. Nothing real is pending meanwhile.
 */
export function silentFetch(): RecordingFetch {
  return recording((request) => untilAborted(request.signal))
}

/**
 * A vendor that sends a 200 and its headers, then never finishes the body: reading it waits
 * until the signal aborts.
 */
export function stallingBodyFetch(): RecordingFetch {
  return recording(async (request) => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"data":'))
        untilAborted(request.signal).catch((reason: unknown) => controller.error(reason))
      },
    })
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } })
  })
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/**
 * Runs fake time until `promise` settles, then returns its outcome. Each round first waits,
 * in real time, until no counted answer is in flight and the event loop has been idle for a
 * few turns; only then does it move the fake clock, straight to the next timer, so measured
 * waits are exact and no timer can overtake a real answer however slow the machine is.
 */
export async function settle<T>(
  promise: Promise<T>,
  maxSteps = 1000,
): Promise<{ value?: T; error?: unknown }> {
  const outcome = watch(promise)
  for (let step = 0; step < maxSteps; step++) {
    await untilQuiet()
    if (outcome.done) return { value: outcome.value, error: outcome.error }
    await vi.advanceTimersToNextTimerAsync()
  }
  throw new Error('promise did not settle')
}

/** Waits until nothing real is pending: no answer in flight, over several idle turns. */
async function untilQuiet(): Promise<void> {
  const started = performance.now()
  for (let idleTurns = 0; idleTurns < 5; ) {
    await new Promise((resolve) => setImmediate(resolve))
    if (inFlight === 0) {
      idleTurns++
    } else {
      idleTurns = 0
      if (performance.now() - started > REAL_ANSWER_LIMIT_MS) {
        throw new Error(`a real answer did not arrive within ${REAL_ANSWER_LIMIT_MS} ms`)
      }
    }
  }
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
