import {
  AuthenticationError,
  Secret,
  UnsupportedOperationError,
  ValidationError,
} from '@keyway/core'
import { createMarker } from '@keyway/core/adapter'
import { captureBody, useNock } from '@keyway/testkit/nock'
import nock from 'nock'
import { describe, expect, it, vi } from 'vitest'
import createKey from './__fixtures__/create-api-key.json' with { type: 'json' }
import error400 from './__fixtures__/error-400.json' with { type: 'json' }
import error401 from './__fixtures__/error-401.json' with { type: 'json' }
import getKey from './__fixtures__/get-api-key.json' with { type: 'json' }
import listKeys from './__fixtures__/list-api-keys.json' with { type: 'json' }
import updateKey from './__fixtures__/update-api-key.json' with { type: 'json' }
import { createVoiceableKeyStore } from './voiceable-key-store.js'

const API_KEY = 'sk_live_fake-private-key-for-tests-only'
const host = 'https://api.voiceable.dev'

const store = () => createVoiceableKeyStore({ apiKey: API_KEY, retry: false })
const api = () => nock(host, { reqheaders: { 'x-api-key': API_KEY, accept: 'application/json' } })

useNock()

describe('createVoiceableKeyStore wire format', () => {
  it('uses the dashboard base URL and X-API-Key, and unwraps the envelope', async () => {
    api().get('/voiceable-api/api_keys').reply(200, listKeys)
    const keys = await store().list()
    expect(keys.map((key) => [key.id, key.name, key.status])).toEqual([
      ['101', 'admin', 'active'],
      ['102', 'website widget', 'active'],
    ])
    expect(keys[1]?.raw).toMatchObject({
      key_type: 'public',
      allowed_origins: ['https://example.test'],
    })
  })

  it('sends a session token as Bearer when no API key is given', async () => {
    nock(host, {
      reqheaders: { authorization: 'Bearer fake-session-jwt' },
      badheaders: ['x-api-key'],
    })
      .get('/voiceable-api/api_keys')
      .reply(200, listKeys)
    expect(await createVoiceableKeyStore({ token: 'fake-session-jwt' }).list()).toHaveLength(2)
  })

  it('gets one key by its integer id', async () => {
    api().get('/voiceable-api/api_keys/102').reply(200, getKey)
    expect((await store().get('102')).name).toBe('website widget')
  })

  it('creates inside the api_key wrapper, private by default, under a name carrying the marker, then renames it', async () => {
    const { seen, match } = captureBody()
    const renamed = captureBody()
    const marker = createMarker()
    api()
      .matchHeader('content-type', 'application/json')
      .post('/voiceable-api/api_keys', match)
      .reply(201, createKey)
    api()
      .put('/voiceable-api/api_keys/103', renamed.match)
      .reply(200, { ...createKey, data: { ...createKey.data, key_value: null } })
    const created = await store().create(
      { name: 'rotation-2026-11', allowedAssistants: ['17'], transientAssistant: true },
      { marker },
    )
    expect(seen.body).toEqual({
      api_key: {
        name: `rotation-2026-11~${marker}`,
        allowed_assistants: ['17'],
        transient_assistant: true,
        key_type: 'private',
      },
    })
    expect(renamed.seen.body).toEqual({ api_key: { name: 'rotation-2026-11' } })
    expect(created.key.name).toBe('rotation-2026-11')
    expect(created.secret.reveal()).toBe(createKey.data.key_value)
    expect(created.key.id).toBe('103')
    expect(JSON.stringify(created.key)).not.toContain(createKey.data.key_value)
  })

  it('accepts a 200 for a create too', async () => {
    api().post('/voiceable-api/api_keys').reply(200, createKey)
    api().put('/voiceable-api/api_keys/103').reply(200, createKey)
    expect((await store().create({ name: 'x', keyType: 'public' })).key.id).toBe('103')
  })

  it('updates with PUT inside the wrapper, never sending key_type', async () => {
    const { seen, match } = captureBody()
    api().put('/voiceable-api/api_keys/102', match).reply(200, updateKey)
    await store().update('102', { name: 'renamed', allowedOrigins: [] })
    expect(seen.body).toEqual({ api_key: { name: 'renamed', allowed_origins: [] } })
    await expect(store().update('102', { keyType: 'public' } as never)).rejects.toThrow(
      UnsupportedOperationError,
    )
  })

  it.each([
    ['204, empty', 204, undefined],
    ['200, empty', 200, ''],
    ['200, with a body', 200, { status: { code: 200, message: 'Success' } }],
  ])('deletes, accepting %s', async (_name, status, body) => {
    api().delete('/voiceable-api/api_keys/102').reply(status, body)
    await expect(store().delete('102')).resolves.toBeUndefined()
  })

  it('verifies a key by reading with it alone', async () => {
    const value = createKey.data.key_value
    nock(host, { reqheaders: { 'x-api-key': value }, badheaders: ['authorization'] })
      .get('/voiceable-api/api_keys')
      .reply(200, listKeys)
    nock(host)
      .get('/voiceable-api/api_keys')
      .reply(403, { ...error401, error: 'A private API key is required' })
    nock(host).get('/voiceable-api/api_keys').reply(401, error401)
    const keys = createVoiceableKeyStore({ token: 'fake-session-jwt' })
    expect(await keys.verify(new Secret(value))).toBe(true)
    // A public key is refused on key management, which still proves it is a real key.
    expect(await keys.verify(new Secret('pk_live_fake-public-key-0000'))).toBe(true)
    expect(await keys.verify(new Secret('sk_live_not-a-real-key-0000'))).toBe(false)
  })

  it('maps its error body', async () => {
    api().put('/voiceable-api/api_keys/102').reply(400, error400)
    api().get('/voiceable-api/api_keys').reply(401, error401)
    const invalid = await store()
      .update('102', { name: 'x' })
      .catch((error: unknown) => error)
    expect(invalid).toBeInstanceOf(ValidationError)
    expect((invalid as ValidationError).issues).toEqual([
      { path: '', message: 'Key type cannot be changed' },
    ])
    const denied = await store()
      .list()
      .catch((error: unknown) => error)
    expect(denied).toBeInstanceOf(AuthenticationError)
    expect((denied as Error).message).toContain('Authentication required.')
  })

  it('refuses before sending: status, metadata, expiry, a non-numeric id, a bad key type', async () => {
    const keys = store()
    await expect(keys.update('102', { status: 'disabled' })).rejects.toThrow(
      UnsupportedOperationError,
    )
    await expect(keys.create({ name: 'x', metadata: { a: 'b' } })).rejects.toThrow(
      UnsupportedOperationError,
    )
    await expect(keys.create({ name: 'x', expiresAt: new Date(Date.now() + 1e6) })).rejects.toThrow(
      UnsupportedOperationError,
    )
    await expect(keys.get('abc')).rejects.toThrow(ValidationError)
    await expect(keys.create({ name: 'x', keyType: 'admin' as never })).rejects.toThrow(
      ValidationError,
    )
    await expect(keys.regenerate('102')).rejects.toThrow(UnsupportedOperationError)
  })

  it('names both settings and env vars when no credential is given', () => {
    vi.stubEnv('VOICEABLE_API_KEY', '')
    vi.stubEnv('VOICEABLE_TOKEN', '')
    expect(() => createVoiceableKeyStore()).toThrow(
      /apiKey.*VOICEABLE_API_KEY.*token.*VOICEABLE_TOKEN/,
    )
  })
})
