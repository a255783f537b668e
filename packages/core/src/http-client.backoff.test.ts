import nock from 'nock'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { ProviderError, RateLimitError, TimeoutError } from './errors.js'
import type { RetryEvent } from './http-client.js'
import {
  countingFetch,
  listKeys,
  type RecordingFetch,
  settle,
  silentFetch,
  stallingBodyFetch,
  vendorClient,
} from './test-helpers.js'

const host = 'https://api.vendor.test'

beforeAll(() => nock.disableNetConnect())
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  vi.setSystemTime(Date.parse('2026-11-22T10:00:00Z'))
})
afterEach(() => {
  vi.useRealTimers()
  nock.cleanAll()
})

/** Fake-clock times, relative to the first, at which each request reached fetch. */
function callTimes(fetch: RecordingFetch, times: number[]) {
  return new Proxy(fetch, {
    apply(target, self, args: Parameters<typeof fetch>) {
      times.push(Date.now())
      return Reflect.apply(target, self, args)
    },
  })
}

describe('backoff', () => {
  it('waits full-jitter exponential delays, capped, between attempts', async () => {
    const times: number[] = []
    const fetch = countingFetch()
    const retries: RetryEvent[] = []
    const client = vendorClient(callTimes(fetch, times), {
      retry: { attempts: 5, baseDelayMs: 1000, maxDelayMs: 3000, random: () => 0.5 },
      hooks: { retry: (event) => retries.push(event) },
    })
    nock(host).get('/v1/keys').times(5).reply(503)
    const { error } = await listKeys(client)
    expect(error).toBeInstanceOf(ProviderError)
    // ceilings 1000, 2000, 3000 (capped), 3000; half of each with random() = 0.5
    expect(retries.map((event) => event.delayMs)).toEqual([500, 1000, 1500, 1500])
    expect(retries.map((event) => event.attempt)).toEqual([1, 2, 3, 4])
    expect(
      retries.every((event) => event.reason === 'provider_error' && event.status === 503),
    ).toBe(true)
    const gaps = times.slice(1).map((time, index) => time - (times[index] as number))
    expect(gaps).toEqual([500, 1000, 1500, 1500])
  })

  it('draws each wait from [0, ceiling) with the random source', async () => {
    const retries: RetryEvent[] = []
    const draws = [0, 0.999]
    const client = vendorClient(countingFetch(), {
      retry: { baseDelayMs: 1000, random: () => draws.shift() ?? 0 },
      hooks: { retry: (event) => retries.push(event) },
    })
    nock(host).get('/v1/keys').times(3).reply(500)
    await listKeys(client)
    expect(retries.map((event) => event.delayMs)).toEqual([0, 1998])
  })

  it('waits what Retry-After asks instead of the backoff, and pauses the whole store', async () => {
    const times: number[] = []
    let second: Promise<unknown> | undefined
    const client = vendorClient(callTimes(countingFetch(), times), {
      retry: { random: () => 0 },
      // Once the 429 is in, another call on the same store must wait too.
      hooks: {
        retry: () => {
          second = client.request({ operation: 'get', method: 'GET', path: '/keys/b' })
        },
      },
    })
    nock(host)
      .get('/v1/keys/a')
      .reply(429, {}, { 'Retry-After': '7' })
      .get('/v1/keys/a')
      .reply(200, {})
      .get('/v1/keys/b')
      .reply(200, {})
    const { value } = await settle(
      client
        .request({ operation: 'get', method: 'GET', path: '/keys/a' })
        .then(async (response) => [response, await second] as const),
    )
    expect(value?.map((response) => (response as { status: number }).status)).toEqual([200, 200])
    expect(times).toHaveLength(3)
    const [start, ...later] = times as [number, ...number[]]
    expect(later.map((time) => time - start)).toEqual([7000, 7000])
  })

  it('uses the vendor body field for the wait when the adapter reads one', async () => {
    const retries: RetryEvent[] = []
    const client = vendorClient(countingFetch(), {
      retry: { random: () => 0 },
      hooks: { retry: (event) => retries.push(event) },
      errorBody: (body) => ({ retryAfterMs: (body as { wait: number }).wait * 1000 }),
    })
    nock(host).get('/v1/keys').reply(429, { wait: 12 }).get('/v1/keys').reply(200, {})
    await listKeys(client)
    expect(retries.map((event) => event.delayMs)).toEqual([12_000])
  })

  it('throws RateLimitError at once when the wait is beyond the cap', async () => {
    const fetch = countingFetch()
    const client = vendorClient(fetch, {
      retry: { maxRetryAfterMs: 5000 },
    })
    nock(host).get('/v1/keys').times(3).reply(429, {}, { 'Retry-After': '6' })
    const { error } = await listKeys(client)
    expect(error).toBeInstanceOf(RateLimitError)
    expect((error as RateLimitError).retryAfterMs).toBe(6000)
    expect(fetch.calls).toHaveLength(1)
  })

  it('gives up when the next wait would pass the overall deadline', async () => {
    const fetch = countingFetch()
    const client = vendorClient(fetch, {
      retry: { attempts: 10, baseDelayMs: 1000, random: () => 0.99, deadlineMs: 2500 },
    })
    nock(host).get('/v1/keys').times(10).reply(500)
    const { error } = await listKeys(client)
    expect(error).toBeInstanceOf(ProviderError)
    // waits 990 then 1980: the second would end after 2500 ms
    expect(fetch.calls).toHaveLength(2)
  })

  it('limits each attempt to timeoutMs and the last attempt to what is left of the deadline', async () => {
    const times: number[] = []
    // The vendor never answers: only the attempt timer and the deadline end each attempt.
    const fetch = silentFetch()
    const client = vendorClient(callTimes(fetch, times), {
      timeoutMs: 1000,
      retry: { random: () => 0, deadlineMs: 1500 },
    })
    const started = Date.now()
    const { error } = await listKeys(client)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(fetch.calls).toHaveLength(2)
    // The first attempt gets its full 1000 ms, the second only the 500 ms left of the deadline.
    expect(times.map((time) => time - started)).toEqual([0, 1000])
    expect(Date.now() - started).toBe(1500)
  })
})

describe('attempt timeout', () => {
  it('covers a body that stalls after the headers arrived', async () => {
    const client = vendorClient(stallingBodyFetch(), {
      timeoutMs: 1000,
      retry: false,
    })
    const started = Date.now()
    const { error } = await listKeys(client)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(Date.now() - started).toBe(1000)
  })
})

describe('abort', () => {
  it('stops during a backoff wait at once, and sends nothing more', async () => {
    const fetch = countingFetch()
    const controller = new AbortController()
    const client = vendorClient(fetch, {
      retry: { baseDelayMs: 10_000, random: () => 0.99 },
      hooks: {
        retry: () => setTimeout(() => controller.abort(new Error('caller gave up')), 100),
      },
    })
    nock(host).get('/v1/keys').times(3).reply(503)
    const started = Date.now()
    const { error } = await listKeys(client, controller.signal)
    expect((error as Error).message).toBe('caller gave up')
    expect(Date.now() - started).toBeLessThan(200)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(fetch.calls).toHaveLength(1)
  })

  it('sends nothing when the signal is already aborted', async () => {
    const fetch = countingFetch()
    const client = vendorClient(fetch)
    const { error } = await listKeys(client, AbortSignal.abort())
    expect((error as Error).name).toBe('AbortError')
    expect(fetch.calls).toHaveLength(0)
  })

  it('aborts a request in flight', async () => {
    const fetch = silentFetch()
    const controller = new AbortController()
    const client = vendorClient(fetch)
    setTimeout(() => controller.abort(), 50)
    const { error } = await listKeys(client, controller.signal)
    expect((error as Error).name).toBe('AbortError')
    expect(fetch.calls).toHaveLength(1)
  })
})
