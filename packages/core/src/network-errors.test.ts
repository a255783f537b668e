import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import nock from 'nock'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { NetworkError } from './errors.js'
import { createHttpClient } from './http-client.js'
import { BASE_URL, countingFetch, type RecordingFetch, settle } from './test-helpers.js'

const SECRET = 'fake-credential-0123456789'

/** A client whose attempts are counted by the fetch it is given. */
function clientFor(baseUrl: string, fetch: typeof globalThis.fetch) {
  return createHttpClient({
    provider: 'vendor',
    baseUrl,
    fetch,
    headers: { authorization: `Bearer ${SECRET}` },
    secrets: [SECRET],
    retry: { random: () => 0 },
  })
}

/** A fetch that hands every call to the real global fetch and records it. */
function passingFetch(): RecordingFetch {
  const calls: Request[] = []
  const wrapped = ((input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(input instanceof Request ? input : new Request(input, init))
    return globalThis.fetch(input, init)
  }) as RecordingFetch
  wrapped.calls = calls
  return wrapped
}

const createKey = {
  operation: 'create',
  method: 'POST',
  path: '/keys',
  json: { name: 'ci' },
} as const

describe('a TLS server whose certificate is not trusted', () => {
  let folder: string
  let server: Server
  let port: number
  let connections = 0
  let requests = 0

  beforeAll(async () => {
    // A throwaway self-signed certificate, made for this test only.
    folder = await mkdtemp(join(tmpdir(), 'keyway-tls-'))
    const key = join(folder, 'key.pem')
    const cert = join(folder, 'cert.pem')
    await new Promise<void>((resolve, reject) =>
      execFile(
        'openssl',
        // biome-ignore format: one openssl command line
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=keyway-test-only'],
        (error) => (error ? reject(error) : resolve()),
      ),
    )
    server = createServer({ key: await readFile(key), cert: await readFile(cert) }, (_, answer) => {
      requests++
      answer.end('{}')
    })
    server.on('connection', () => connections++)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
    if (folder) await rm(folder, { recursive: true, force: true })
  })

  it('fails a create before sending, once, with the certificate problem in the cause', async () => {
    const fetch = passingFetch()
    // A real handshake on a real socket: real time, nothing to fake.
    const error = await clientFor(`https://localhost:${port}/v1`, fetch)
      .request(createKey)
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(NetworkError)
    const failure = error as NetworkError
    expect(failure.phase).toBe('before-send')
    expect(failure.message).toBe(
      'vendor create: the TLS handshake failed (DEPTH_ZERO_SELF_SIGNED_CERT); nothing was sent',
    )
    // Not retried: the same certificate fails the same way. One connection, no request.
    expect(failure.retryable).toBe(false)
    expect(fetch.calls).toHaveLength(1)
    expect(connections).toBe(1)
    expect(requests).toBe(0)
    const cause = failure.cause as Error & { code?: string }
    expect(cause.message).toBe('fetch failed: self-signed certificate')
    expect(cause.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
    expect(inspect(failure, { depth: Number.POSITIVE_INFINITY, showHidden: true })).not.toContain(
      SECRET,
    )
  })
})

describe('a port fetch refuses to use', () => {
  it('fails before sending, once, and says why', async () => {
    const fetch = passingFetch()
    const error = await clientFor('http://127.0.0.1:1/v1', fetch)
      .request({ operation: 'list', method: 'GET', path: '/keys' })
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(NetworkError)
    const failure = error as NetworkError
    expect(failure.phase).toBe('before-send')
    expect(failure.retryable).toBe(false)
    expect(failure.message).toBe(
      'vendor list: fetch refuses to connect to this port (a "bad port", such as 1, 22, 25 or 6000); nothing was sent',
    )
    expect((failure.cause as Error).message).toBe('fetch failed: bad port')
    expect(fetch.calls).toHaveLength(1)
  })
})

describe('certificate codes', () => {
  beforeAll(() => nock.disableNetConnect())
  // Retries wait on a fake clock that `settle` moves only when no answer is in flight.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
    nock.cleanAll()
  })
  afterAll(() => nock.enableNetConnect())

  it.each([
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'CERT_HAS_EXPIRED',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
  ])('%s is a failure before sending, even for a create', async (code) => {
    const fetch = countingFetch()
    nock('https://api.vendor.test').post('/v1/keys').replyWithError({ code, message: SECRET })
    const { error } = await settle(clientFor(BASE_URL, fetch).request(createKey))

    expect(error).toBeInstanceOf(NetworkError)
    expect((error as NetworkError).phase).toBe('before-send')
    expect((error as Error).message).toBe(
      `vendor create: the TLS handshake failed (${code}); nothing was sent`,
    )
    expect(((error as Error).cause as Error).message).not.toContain(SECRET)
    expect(fetch.calls).toHaveLength(1)
  })

  it('keeps a refused connection retryable, saying nothing was sent', async () => {
    const fetch = countingFetch()
    nock('https://api.vendor.test')
      .post('/v1/keys')
      .times(3)
      .replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:443' })
    const { error } = await settle(clientFor(BASE_URL, fetch).request(createKey))

    expect((error as NetworkError).phase).toBe('before-send')
    expect((error as Error).message).toBe(
      'vendor create: could not connect (ECONNREFUSED); nothing was sent',
    )
    expect(fetch.calls).toHaveLength(3)
  })
})
