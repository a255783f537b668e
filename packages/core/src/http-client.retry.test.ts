import nock from 'nock'
import * as v from 'valibot'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  AuthenticationError,
  ConflictError,
  type KeyStoreError,
  NetworkError,
  NotFoundError,
  PaymentRequiredError,
  PermissionError,
  ProviderError,
  RateLimitError,
  ResponseValidationError,
  TimeoutError,
  ValidationError,
} from './errors.js'
import type { HttpMethod, RetryEvent } from './http-client.js'
import { countingFetch, listKeys, settle, vendorClient } from './test-helpers.js'

type ErrorClass = abstract new (...args: never[]) => KeyStoreError

interface Case {
  name: string
  reply: (scope: nock.Interceptor) => nock.Scope
  /** Attempts for idempotent methods and for POST. */
  attempts: { idempotent: number; post: number }
  error: ErrorClass
  check?: (error: KeyStoreError) => void
}

const httpDate = (offsetMs: number) => new Date(Date.now() + offsetMs).toUTCString()

const cases: Case[] = [
  {
    name: 'network error before send',
    reply: (i) => i.replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }),
    attempts: { idempotent: 3, post: 3 },
    error: NetworkError,
    check: (error) => expect((error as NetworkError).phase).toBe('before-send'),
  },
  {
    name: 'connection reset after sending',
    reply: (i) => i.replyWithError({ code: 'ECONNRESET', message: 'socket hang up' }),
    attempts: { idempotent: 3, post: 1 },
    error: NetworkError,
    check: (error) => expect((error as NetworkError).phase).toBe('ambiguous'),
  },
  {
    name: '429 with Retry-After seconds',
    reply: (i) => i.reply(429, { message: 'slow down' }, { 'Retry-After': '2' }),
    attempts: { idempotent: 3, post: 3 },
    error: RateLimitError,
    check: (error) => expect((error as RateLimitError).retryAfterMs).toBe(2000),
  },
  {
    name: '429 with Retry-After as an HTTP date',
    reply: (i) => i.reply(429, () => ({ message: 'slow down' }), { 'Retry-After': httpDate(5000) }),
    attempts: { idempotent: 3, post: 3 },
    error: RateLimitError,
  },
  {
    name: '429 beyond the Retry-After cap',
    reply: (i) => i.reply(429, { message: 'come back tomorrow' }, { 'Retry-After': '86400' }),
    attempts: { idempotent: 1, post: 1 },
    error: RateLimitError,
    check: (error) => expect((error as RateLimitError).retryAfterMs).toBe(86_400_000),
  },
  // Retried for idempotent methods only: a POST may have been acted on.
  ...(
    [
      [408, TimeoutError],
      [425, RateLimitError],
      [500, ProviderError],
      [502, ProviderError],
      [503, ProviderError],
      [504, ProviderError],
    ] as const
  ).map(
    ([status, error]): Case => ({
      name: String(status),
      reply: (i) =>
        status < 500 ? i.reply(status) : i.reply(status, { message: 'upstream trouble' }),
      attempts: { idempotent: 3, post: 1 },
      error,
      check: (thrown) => expect(thrown.status).toBe(status),
    }),
  ),
  ...(
    [
      [400, ValidationError],
      [401, AuthenticationError],
      [402, PaymentRequiredError],
      [403, PermissionError],
      [404, NotFoundError],
      [409, ConflictError],
      [422, ValidationError],
    ] as const
  ).map(
    ([status, error]): Case => ({
      name: String(status),
      reply: (i) => i.reply(status, { message: `vendor says ${status}` }),
      attempts: { idempotent: 1, post: 1 },
      error,
      check: (thrown) => {
        expect(thrown.status).toBe(status)
        expect(thrown.message).toContain(`vendor says ${status}`)
      },
    }),
  ),
  {
    name: '200 with an unparsable body',
    reply: (i) => i.reply(200, '{"data": [unterminated'),
    attempts: { idempotent: 1, post: 1 },
    error: ResponseValidationError,
  },
]

/** A client that retries at once (no backoff wait). */
const quickClient = (fetch: typeof globalThis.fetch) =>
  vendorClient(fetch, { retry: { random: () => 0 } })

const methods: HttpMethod[] = ['GET', 'PUT', 'PATCH', 'DELETE', 'POST']
const schema = v.object({ data: v.array(v.object({ id: v.string() })) })

beforeAll(() => {
  nock.disableNetConnect()
})

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
})

afterEach(() => {
  vi.useRealTimers()
  nock.cleanAll()
})

describe('retry matrix', () => {
  for (const method of methods) {
    describe(method, () => {
      for (const testCase of cases) {
        const expected = method === 'POST' ? testCase.attempts.post : testCase.attempts.idempotent
        it(`${testCase.name}: ${expected} attempt(s), ${testCase.error.name}`, async () => {
          const fetch = countingFetch()
          const retries: RetryEvent[] = []
          const client = vendorClient(fetch, {
            retry: { random: () => 0.5 },
            hooks: { retry: (event) => retries.push(event) },
          })
          const scope = testCase.reply(
            nock('https://api.vendor.test').intercept('/v1/keys/k1', method).times(5),
          )
          const { error } = await settle(
            client.request({
              operation: 'test',
              method,
              path: '/keys/k1',
              schema,
              json: method === 'GET' ? undefined : {},
            }),
          )
          expect(error).toBeInstanceOf(testCase.error)
          testCase.check?.(error as KeyStoreError)
          expect(fetch.calls).toHaveLength(expected)
          expect(retries).toHaveLength(expected - 1)
          expect((error as KeyStoreError).provider).toBe('vendor')
          expect((error as KeyStoreError).operation).toBe('test')
          scope.persist(false)
        })
      }
    })
  }
})

describe('recovering within the retry budget', () => {
  it('succeeds on the third attempt after 503 and a reset, returning the parsed body', async () => {
    const fetch = countingFetch()
    const client = vendorClient(fetch, {
      retry: { random: () => 0 },
    })
    nock('https://api.vendor.test')
      .get('/v1/keys')
      .reply(503)
      .get('/v1/keys')
      .replyWithError({ code: 'ECONNRESET' })
      .get('/v1/keys')
      .reply(200, { data: [{ id: 'k1' }], extra: true })
    const { value } = await settle(
      client.request({ operation: 'list', method: 'GET', path: '/keys', schema }),
    )
    expect(value?.data).toEqual({ data: [{ id: 'k1' }] })
    expect(value?.attempts).toBe(3)
    expect(fetch.calls).toHaveLength(3)
  })

  it('retries a create after a 429 and sends the same body again', async () => {
    const bodies: unknown[] = []
    const client = quickClient(countingFetch())
    nock('https://api.vendor.test')
      .post('/v1/keys', (body) => bodies.push(body) > 0)
      .reply(429, {}, { 'Retry-After': '1' })
      .post('/v1/keys', (body) => bodies.push(body) > 0)
      .reply(201, { data: [] })
    const { value } = await settle(
      client.request({
        operation: 'create',
        method: 'POST',
        path: '/keys',
        json: { name: 'ci' },
        schema,
      }),
    )
    expect(value?.status).toBe(201)
    expect(bodies).toEqual([{ name: 'ci' }, { name: 'ci' }])
  })

  it('never retries a regenerate, whatever the failure', async () => {
    for (const reply of [503, 429] as const) {
      const fetch = countingFetch()
      const client = vendorClient(fetch)
      nock('https://api.vendor.test').put('/v1/keys/k1').times(3).reply(reply)
      const { error } = await settle(
        client.request({ operation: 'regenerate', method: 'PUT', path: '/keys/k1' }),
      )
      expect((error as KeyStoreError).status).toBe(reply)
      expect(fetch.calls).toHaveLength(1)
      nock.cleanAll()
    }
  })

  it('retries by operation, not by method: an update and a delete sent by POST', async () => {
    for (const operation of ['update', 'delete']) {
      const fetch = countingFetch()
      const client = quickClient(fetch)
      nock('https://api.vendor.test')
        .post('/v1/keys/k1')
        .reply(503)
        .post('/v1/keys/k1')
        .reply(200, { message: 'done' })
      const { value } = await settle(
        client.request({ operation, method: 'POST', path: '/keys/k1', json: { id: 'k1' } }),
      )
      expect(value?.attempts).toBe(2)
      expect(fetch.calls).toHaveLength(2)
    }
  })

  it('retries a POST declared a read (retryAs) like a GET, and an undeclared one like a create', async () => {
    const attempts: number[] = []
    for (const retryAs of ['read', undefined] as const) {
      const fetch = countingFetch()
      const client = quickClient(fetch)
      nock('https://api.vendor.test').post('/v1/login').times(3).reply(503)
      await settle(
        client.request({
          operation: 'login',
          method: 'POST',
          path: '/login',
          json: {},
          ...(retryAs === undefined ? {} : { retryAs }),
        }),
      )
      attempts.push(fetch.calls.length)
      nock.cleanAll()
    }
    expect(attempts).toEqual([3, 1])
  })

  it('turns retries off with retry: false', async () => {
    const fetch = countingFetch()
    const client = vendorClient(fetch, { retry: false })
    nock('https://api.vendor.test').get('/v1/keys').times(3).reply(500)
    const { error } = await listKeys(client)
    expect(error).toBeInstanceOf(ProviderError)
    expect(fetch.calls).toHaveLength(1)
  })
})

/**
 * Sends `operation` as `method path` to a vendor whose first attempt fails with `first` (a
 * status, or a network error) and whose second answers 404.
 */
async function notFoundAfter(
  first: number | { code: string },
  operation: string,
  method: HttpMethod,
  path: string,
) {
  const client = quickClient(countingFetch())
  const scope = nock('https://api.vendor.test').intercept(`/v1${path}`, method)
  ;(typeof first === 'number' ? scope.reply(first) : scope.replyWithError(first))
    .intercept(`/v1${path}`, method)
    .reply(404, { message: 'no such key' })
  return settle(
    client.request({ operation, method, path, ...(method === 'DELETE' ? {} : { json: {} }) }),
  )
}

describe('delete that may already have happened', () => {
  it.each([
    ['after a possibly-delivered attempt', { code: 'ECONNRESET' }, 'DELETE', '/keys/k1'],
    ['for a delete sent by POST too, with no flag', 502, 'POST', '/delete-key'],
  ] as const)('counts a 404 %s as success', async (_, first, method, path) => {
    const { value, error } = await notFoundAfter(first, 'delete', method, path)
    expect(error).toBeUndefined()
    expect(value?.status).toBe(404)
    expect(value?.attempts).toBe(2)
  })

  it('reports a 404 on the first attempt as NotFoundError', async () => {
    expect.assertions(2)
    const client = vendorClient(countingFetch())
    nock('https://api.vendor.test').delete('/v1/keys/k1').reply(404, { message: 'no such key' })
    const { error } = await settle(
      client.request({
        operation: 'delete',
        method: 'DELETE',
        path: '/keys/k1',
      }),
    )
    expect(error).toBeInstanceOf(NotFoundError)
    expect((error as NotFoundError).status).toBe(404)
  })

  it.each([
    [
      'a possibly-delivered attempt of anything but a delete',
      { code: 'ECONNRESET' },
      'update',
      'PATCH',
    ],
    ['a refused attempt (never delivered)', { code: 'ECONNREFUSED' }, 'delete', 'DELETE'],
  ] as const)('reports a 404 after %s as NotFoundError', async (_, first, operation, method) => {
    const { error } = await notFoundAfter(first, operation, method, '/keys/k1')
    expect(error).toBeInstanceOf(NotFoundError)
  })
})
