import { inspect } from 'node:util'
import nock from 'nock'
import * as v from 'valibot'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createWithReconcile } from './create-with-reconcile.js'
import { KeyStoreError } from './errors.js'
import type { HttpMethod } from './http-client.js'
import { Secret } from './secret.js'
import { countingFetch, settle, vendorClient } from './test-helpers.js'

// Obviously fake values: what matters is that they never come back out.
const CREDENTIAL = 'fake-credential-canary-0000000000000001'
const MINTED = 'fake-minted-canary-ffffffffffffffff0002'
const host = 'https://api.vendor.test'

/** Every string reachable from a value: own properties (enumerable or not), causes, arrays. */
function allStrings(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value]
  if (value === null || typeof value !== 'object' || seen.has(value)) return []
  seen.add(value)
  const strings: string[] = []
  for (const key of Reflect.ownKeys(value)) {
    strings.push(String(key))
    const descriptor = Object.getOwnPropertyDescriptor(value, key)
    if (descriptor && 'value' in descriptor) strings.push(...allStrings(descriptor.value, seen))
  }
  return strings
}

function expectNoSecret(value: unknown): void {
  const views = [
    ...allStrings(value),
    JSON.stringify(value),
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    value instanceof Error ? String(value) + String(value.stack) : '',
  ]
  for (const view of views) {
    expect(view).not.toContain(CREDENTIAL)
    expect(view).not.toContain(MINTED)
    expect(view).not.toContain(encodeURIComponent(MINTED))
  }
}

type Reply = (interceptor: nock.Interceptor) => nock.Scope

// The vendor echoes both secrets back in every way it can.
const echo = `bad key ${MINTED} for credential ${CREDENTIAL}`
const replies: Array<[string, Reply]> = [
  ['before-send network error', (i) => i.replyWithError({ code: 'ECONNREFUSED', message: echo })],
  [
    'reset after sending',
    (i) =>
      i.replyWithError({ code: 'ECONNRESET', message: `${echo} at ${host}/v1/keys/${MINTED}` }),
  ],
  ...[400, 401, 402, 403, 404, 408, 409, 422, 425, 429, 500, 503].map((status): [string, Reply] => [
    String(status),
    (i) =>
      i.reply(
        status,
        { message: echo, error: { message: echo, code: MINTED } },
        { 'x-request-id': MINTED },
      ),
  ]),
  ['429 beyond the cap', (i) => i.reply(429, { message: echo }, { 'Retry-After': '999999' })],
  ['text error body', (i) => i.reply(500, echo)],
  [
    '2xx that fails validation',
    (i) => i.reply(200, { data: { key: MINTED, [MINTED]: CREDENTIAL } }),
  ],
  ['2xx that is not JSON', (i) => i.reply(200, `<html>${echo}</html>`)],
]

const schema = v.object({ data: v.object({ id: v.string(), name: v.number() }) })

beforeAll(() => nock.disableNetConnect())
beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }))
afterEach(() => {
  vi.useRealTimers()
  nock.cleanAll()
})

function canaryClient(events: unknown[]) {
  const client = vendorClient(countingFetch(), {
    headers: { authorization: `Bearer ${CREDENTIAL}` },
    secrets: [CREDENTIAL],
    retry: { random: () => 0 },
    hooks: {
      request: (event) => events.push(event),
      response: (event) => events.push(event),
      retry: (event) => events.push(event),
    },
    errorBody: (body) => {
      const record = body as { message?: string; error?: { code?: string } }
      return { message: record.message, code: record.error?.code }
    },
  })
  client.redactor.add(MINTED)
  return client
}

describe('secret canary', () => {
  for (const method of ['GET', 'POST', 'DELETE'] as HttpMethod[]) {
    for (const [name, reply] of replies) {
      it(`${method} ${name}: no secret in the error or the hook events`, async () => {
        const events: unknown[] = []
        const client = canaryClient(events)
        // The minted key sits in the path, as NoteDx's status call puts it.
        reply(nock(host).intercept(`/v1/keys/${MINTED}`, method).query(true).times(3))
        const { error } = await settle(
          client.request({
            operation: 'test',
            method,
            path: `/keys/${encodeURIComponent(MINTED)}`,
            query: { token: CREDENTIAL },
            schema,
          }),
        )
        expect(KeyStoreError.is(error)).toBe(true)
        expectNoSecret(error)
        expect(events.length).toBeGreaterThan(0)
        expectNoSecret(events)
      })
    }
  }

  it('keeps the vendor message, redacted, so the error stays useful', async () => {
    const client = canaryClient([])
    nock(host).get('/v1/keys').reply(403, { message: echo })
    const { error } = await settle(
      client.request({ operation: 'list', method: 'GET', path: '/keys' }),
    )
    expect((error as Error).message).toBe(
      'vendor list failed: 403 permission denied: bad key [REDACTED] for credential [REDACTED]',
    )
  })

  it('redacts secrets a request carries for itself, such as a key being verified', async () => {
    const events: unknown[] = []
    const client = canaryClient(events)
    const other = 'fake-other-key-to-verify-0000000000003'
    nock(host)
      .get('/v1/key')
      .reply(401, { message: `unknown key ${other}` })
    const { error } = await settle(
      client.request({
        operation: 'verify',
        method: 'GET',
        path: '/key',
        headers: { authorization: `Bearer ${other}` },
        secrets: [other],
      }),
    )
    expect((error as Error).message).not.toContain(other)
    expect(JSON.stringify(events)).not.toContain(other)
  })

  it('keeps an ambiguous create and its reconcile free of secrets', async () => {
    const created = new Secret(MINTED)
    const failure = await createWithReconcile({
      provider: 'vendor',
      marker: 'kw0000000000000000000001',
      window: { windowMs: 0, intervalMs: 1, sleep: async () => {} },
      find: async () => [],
      settle: async (key) => key,
      send: async () => {
        const client = canaryClient([])
        nock(host).post('/v1/keys').replyWithError({ code: 'ECONNRESET', message: echo })
        const { error } = await settle(
          client.request({ operation: 'create', method: 'POST', path: '/keys' }),
        )
        throw error
      },
      remove: async () => {},
    }).catch((error: unknown) => error)
    expect(KeyStoreError.is(failure)).toBe(true)
    expectNoSecret(failure)
    expectNoSecret({ created })
  })
})

describe('client.secret', () => {
  it('makes a Secret and scrubs its value from every later error of the store', async () => {
    const client = vendorClient(countingFetch())
    const minted = 'fake-minted-through-client-secret-0001'
    const secret = client.secret(minted)
    expect(Secret.is(secret)).toBe(true)
    expect(secret.reveal()).toBe(minted)
    nock(host)
      .get('/v1/keys')
      .reply(400, { message: `bad key ${minted}` })
    const { error } = await settle(
      client.request({ operation: 'list', method: 'GET', path: '/keys' }),
    )
    expect((error as Error).message).toBe('vendor list failed: 400 bad request: bad key [REDACTED]')
  })
})
