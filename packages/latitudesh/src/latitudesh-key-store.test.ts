import {
  NotFoundError,
  ProviderError,
  RateLimitError,
  Secret,
  UnsupportedOperationError,
  ValidationError,
} from '@keyway/core'
import { createMarker } from '@keyway/core/adapter'
import { startEmulator } from '@keyway/testkit'
import { captureBody, useNock } from '@keyway/testkit/nock'
import nock from 'nock'
import { describe, expect, it } from 'vitest'
import createKey from './__fixtures__/create-api-key.json' with { type: 'json' }
import error404 from './__fixtures__/error-404.json' with { type: 'json' }
import error422 from './__fixtures__/error-422.json' with { type: 'json' }
import error429 from './__fixtures__/error-429.json' with { type: 'json' }
import listKeys from './__fixtures__/list-api-keys.json' with { type: 'json' }
import regenerateKey from './__fixtures__/regenerate-api-key.json' with { type: 'json' }
import updateKey from './__fixtures__/update-api-key.json' with { type: 'json' }
import { createLatitudeKeyStore } from './latitudesh-key-store.js'

const TOKEN = 'fake-latitude-token-for-tests-00aa1'
const host = 'https://api.latitude.sh'
const ID = 'tok_fakefake00002'

const store = (retry: false | { random: () => number } = false) =>
  createLatitudeKeyStore({ token: TOKEN, retry })

function api() {
  return nock(host, { reqheaders: { authorization: TOKEN, accept: 'application/vnd.api+json' } })
}

// The emulator runs on loopback.
useNock({ allowLoopback: true })

describe('createLatitudeKeyStore wire format', () => {
  it('sends the raw token, no Bearer, and maps the JSON:API list', async () => {
    api().get('/auth/api_keys').reply(200, listKeys)
    const keys = await store().list()
    expect(keys.map((key) => [key.id, key.name, key.status, key.hint])).toEqual([
      ['tok_fakefake00001', 'admin', 'active', '…00aa1'],
      ['tok_fakefake00002', 'ci', 'active', '…b2c3d'],
    ])
    expect(keys[0]?.lastUsedAt).toEqual(new Date('2026-11-20T08:00:00.000Z'))
    expect(keys[1]?.raw).toEqual(listKeys.data[1])
  })

  it('gets a key by scanning the list, and gives NotFoundError for an unlisted id', async () => {
    api().get('/auth/api_keys').times(2).reply(200, listKeys)
    expect((await store().get(ID)).name).toBe('ci')
    await expect(store().get('tok_zzzzzzzzzzzzz')).rejects.toThrow(NotFoundError)
  })

  it('creates with a JSON:API document under a name carrying the marker, renames it, and returns the token once', async () => {
    const { seen, match } = captureBody()
    const renamed = captureBody()
    const marker = createMarker()
    const { token: _token, ...attributes } = createKey.data.attributes
    api()
      .matchHeader('content-type', 'application/json')
      .post('/auth/api_keys', match)
      .reply(201, createKey)
    api()
      .patch(`/auth/api_keys/${createKey.data.id}`, renamed.match)
      .reply(200, {
        data: { ...createKey.data, attributes: { ...attributes, name: 'rotation-2026-11' } },
      })
    const created = await store().create(
      { name: 'rotation-2026-11', readOnly: true, allowedIps: ['192.0.2.0/24'] },
      { marker },
    )
    expect(seen.body).toEqual({
      data: {
        type: 'api_keys',
        attributes: {
          name: `rotation-2026-11~${marker}`,
          read_only: true,
          allowed_ips: ['192.0.2.0/24'],
        },
      },
    })
    expect(renamed.seen.body).toEqual({
      data: { id: createKey.data.id, type: 'api_keys', attributes: { name: 'rotation-2026-11' } },
    })
    expect(created.key.name).toBe('rotation-2026-11')
    expect(created.secret.reveal()).toBe(createKey.data.attributes.token)
    expect(JSON.stringify(created.key)).not.toContain(createKey.data.attributes.token)
    expect(created.key.hint).toBe('…e3333')
  })

  it('updates with PATCH, carrying the id in the document', async () => {
    const { seen, match } = captureBody()
    api().patch(`/auth/api_keys/${ID}`, match).reply(200, updateKey)
    expect((await store().update(ID, { name: 'renamed', allowedIps: [] })).name).toBe('renamed')
    expect(seen.body).toEqual({
      data: { id: ID, type: 'api_keys', attributes: { name: 'renamed', allowed_ips: [] } },
    })
  })

  it('regenerates with PUT and never retries it', async () => {
    const { seen, match } = captureBody()
    api().put(`/auth/api_keys/${ID}`, match).reply(200, regenerateKey)
    const regenerated = await store({ random: () => 0 }).regenerate(ID)
    expect(seen.body).toEqual({ data: { id: ID, type: 'api_keys' } })
    expect(regenerated.secret.reveal()).toBe(regenerateKey.data.attributes.token)
    api()
      .put(`/auth/api_keys/${ID}`)
      .reply(503, { errors: [{ status: '503', title: 'Service Unavailable', detail: 'down' }] })
    await expect(store({ random: () => 0 }).regenerate(ID)).rejects.toThrow(ProviderError)
  })

  it('deletes, accepting an empty 200 or a 204', async () => {
    api().delete(`/auth/api_keys/${ID}`).reply(200, '')
    api().delete(`/auth/api_keys/${ID}`).reply(204)
    await expect(store().delete(ID)).resolves.toBeUndefined()
    await expect(store().delete(ID)).resolves.toBeUndefined()
    api().delete(`/auth/api_keys/${ID}`).reply(404, error404)
    await expect(store().delete(ID)).rejects.toThrow(NotFoundError)
  })

  it('verifies a token by reading with it', async () => {
    nock(host, { reqheaders: { authorization: createKey.data.attributes.token } })
      .get('/auth/api_keys')
      .reply(200, listKeys)
    nock(host)
      .get('/auth/api_keys')
      .reply(401, { errors: [{ status: '401', title: 'Unauthorized', detail: 'Invalid API key' }] })
    expect(await store().verify(new Secret(createKey.data.attributes.token))).toBe(true)
    expect(await store().verify(new Secret('fakefakefakefakefakefakefakefake9999'))).toBe(false)
  })

  it('knows which listed key is its own token, by its last five characters', async () => {
    api().get('/auth/api_keys').reply(200, listKeys)
    expect(await store().credentialKeyIds()).toEqual(['tok_fakefake00001'])
  })

  it('picks its own token from a listing the caller already has, asking nothing', async () => {
    api().get('/auth/api_keys').reply(200, listKeys)
    const keys = store()
    const listed = await keys.list()
    // nock would refuse a second list: none is sent.
    expect(await keys.credentialKeyIds?.({ among: listed })).toEqual(['tok_fakefake00001'])
    expect(nock.isDone()).toBe(true)
  })

  it('refuses to switch to a secret that cannot be sent, and keeps its own token', async () => {
    const keys = store()
    expect(() => keys.useCredential?.(new Secret('fake-new-token\r\nX-Injected: 1'))).toThrow(
      ValidationError,
    )
    api().get('/auth/api_keys').reply(200, listKeys)
    expect(await keys.list()).toHaveLength(2)
  })

  it('reads the wait from errors[0].meta.retry_after', async () => {
    api().get('/auth/api_keys').reply(429, error429)
    const error = await store()
      .list()
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(RateLimitError)
    expect((error as RateLimitError).retryAfterMs).toBe(2000)
    expect((error as RateLimitError).vendorCode).toBe('RATE_LIMIT_EXCEEDED')
  })

  it('maps a 422 with its field pointer', async () => {
    api().post('/auth/api_keys').reply(422, error422)
    const error = await store()
      .create({ name: 'x' })
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).issues).toEqual([
      { path: 'allowed_ips', message: 'allowed_ips must be a list of IP addresses or CIDR ranges' },
    ])
  })

  it('refuses before sending: status, metadata, expiry, bad IPs, malformed ids', async () => {
    const keys = store()
    await expect(keys.update(ID, { status: 'disabled' })).rejects.toThrow(UnsupportedOperationError)
    await expect(keys.create({ name: 'x', metadata: { a: 'b' } })).rejects.toThrow(
      UnsupportedOperationError,
    )
    await expect(keys.create({ name: 'x', expiresAt: new Date(Date.now() + 1e6) })).rejects.toThrow(
      UnsupportedOperationError,
    )
    await expect(keys.create({ name: 'x', allowedIps: ['not-an-ip'] })).rejects.toThrow(
      ValidationError,
    )
    await expect(keys.get('tok_short')).rejects.toThrow(ValidationError)
  })
})

describe('against the emulator with Latitude’s own rate limits', () => {
  it('waits out 429s from the vendor’s retry_after and finishes every call', async () => {
    // The vendor's minute passes only while the store waits out a 429: however slow the
    // machine, the first 60 reads share one window and the rest must be waited for.
    let now = 0
    const emulator = await startEmulator('latitudesh', { timeScale: 0.01, now: () => now })
    try {
      const waits: number[] = []
      const keys = createLatitudeKeyStore({
        ...emulator.settings,
        retry: { attempts: 5 },
        hooks: {
          retry: (event) => {
            waits.push(event.delayMs)
            now += event.delayMs
          },
        },
      })
      const results = await Promise.all(Array.from({ length: 70 }, () => keys.list()))
      expect(results.every((listed) => listed.length === 4)).toBe(true)
      const limited = emulator.requests.length - 70
      expect(limited).toBeGreaterThan(0)
      expect(waits).toHaveLength(limited)
      // retry_after is the rest of the (scaled) minute: 600 ms here.
      expect(waits.every((wait) => wait > 0 && wait <= 600)).toBe(true)
    } finally {
      await emulator.close()
    }
  })
})
