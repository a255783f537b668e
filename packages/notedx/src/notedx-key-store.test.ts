import {
  AuthenticationError,
  NotFoundError,
  PermissionError,
  UnsupportedOperationError,
  ValidationError,
} from '@keyway/core'
import { createMarker } from '@keyway/core/adapter'
import { captureBody, useNock } from '@keyway/testkit/nock'
import nock from 'nock'
import { describe, expect, it, vi } from 'vitest'
import createKey from './__fixtures__/create-api-key.json' with { type: 'json' }
import deleteKey from './__fixtures__/delete-api-key.json' with { type: 'json' }
import errorGateway from './__fixtures__/error-gateway.json' with { type: 'json' }
import errorNested from './__fixtures__/error-nested.json' with { type: 'json' }
import tokenExpired from './__fixtures__/error-token-expired.json' with { type: 'json' }
import listFull from './__fixtures__/list-api-keys-full.json' with { type: 'json' }
import login from './__fixtures__/login.json' with { type: 'json' }
import refresh from './__fixtures__/refresh.json' with { type: 'json' }
import updateMetadata from './__fixtures__/update-metadata.json' with { type: 'json' }
import updateStatus from './__fixtures__/update-status.json' with { type: 'json' }
import { createNoteDxKeyStore, NOTEDX_MARKER_ENTRY, noteDxKeyId } from './notedx-key-store.js'

const host = 'https://api.notedx.io'
const credentials = { email: 'owner@example.test', password: 'fake-password-for-tests' }
const LIVE = listFull.api_keys[1]?.key as string
const LIVE_ID = noteDxKeyId(LIVE)

const store = () => createNoteDxKeyStore({ ...credentials, retry: false })

function loggedIn(token = login.id_token) {
  return nock(host, { reqheaders: { authorization: `Bearer ${token}` } })
}

function expectLogin() {
  return nock(host).post('/v1/auth/login', credentials).reply(200, login)
}

useNock()

describe('createNoteDxKeyStore wire format', () => {
  it('logs in, lists with showFull=true, and returns opaque ids with no raw key anywhere', async () => {
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query({ showFull: 'true' }).reply(200, listFull)
    const keys = await store().list()
    expect(keys.map((key) => [key.id, key.status, key.hint, key.name])).toEqual([
      [noteDxKeyId(listFull.api_keys[0]?.key as string), 'active', '…fa4e', null],
      [LIVE_ID, 'active', '…fa4e', null],
      [noteDxKeyId(listFull.api_keys[2]?.key as string), 'disabled', '…d00d', null],
    ])
    expect(keys[0]?.id).toMatch(/^ndx_[0-9a-f]{24}$/)
    expect(keys[1]?.metadata).toEqual({ team: 'scribe' })
    expect(keys[1]?.createdAt).toEqual(new Date('2026-10-01T09:30:00.654Z'))
    expect(keys[1]?.raw).toMatchObject({ type: 'live', key: `${'*'.repeat(23)}fa4e` })
    const printed = JSON.stringify(keys)
    for (const item of listFull.api_keys) expect(printed).not.toContain(item.key)
  })

  it('leaves out disabled keys when asked', async () => {
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query({ showFull: 'true' }).reply(200, listFull)
    expect(await store().list({ includeDisabled: false })).toHaveLength(2)
  })

  it('creates a live key carrying its marker in metadata, removes the marker, and hands back the key once', async () => {
    const { seen, match } = captureBody()
    const settled = captureBody()
    const marker = createMarker()
    const made = {
      key: createKey.api_key,
      type: 'live',
      status: 'active',
      created_at: '2026-11-20T08:00:00.000000+00:00',
      last_used: null,
      metadata: { team: 'scribe', [NOTEDX_MARKER_ENTRY]: marker },
    }
    expectLogin()
    loggedIn()
      .post('/v1/user/create-api-key', match)
      .reply(200, { ...createKey, metadata: made.metadata })
    loggedIn()
      .get('/v1/user/list-api-keys')
      .query({ showFull: 'true' })
      .reply(200, { ...listFull, api_keys: [...listFull.api_keys, made] })
    loggedIn()
      .post('/v1/user/update-api-key-metadata', settled.match)
      .reply(200, { message: 'API key metadata updated successfully', api_key: createKey.api_key })
    const created = await store().create({ metadata: { team: 'scribe' } }, { marker })
    expect(seen.body).toEqual({
      keyType: 'live',
      metadata: { team: 'scribe', 'kw-create-marker': marker },
    })
    expect(settled.seen.body).toEqual({ apiKey: createKey.api_key, metadata: { team: 'scribe' } })
    expect(created.key.metadata).toEqual({ team: 'scribe' })
    expect(created.secret.reveal()).toBe(createKey.api_key)
    expect(created.key.id).toBe(noteDxKeyId(createKey.api_key))
    expect(JSON.stringify(created.key)).not.toContain(createKey.api_key)
  })

  it('sets status through the raw key in the path, found by the opaque id', async () => {
    const { seen, match } = captureBody()
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query({ showFull: 'true' }).reply(200, listFull)
    loggedIn().post(`/v1/user/api-keys/${LIVE}/status`, match).reply(200, updateStatus)
    const updated = await store().update(LIVE_ID, { status: 'disabled' })
    expect(seen.body).toEqual({ apiKey: LIVE, status: 'inactive' })
    expect(updated.status).toBe('disabled')
  })

  it('replaces metadata with update-api-key-metadata', async () => {
    const { seen, match } = captureBody()
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query({ showFull: 'true' }).reply(200, listFull)
    loggedIn().post('/v1/user/update-api-key-metadata', match).reply(200, updateMetadata)
    expect((await store().update(LIVE_ID, { metadata: { team: 'ops' } })).metadata).toEqual({
      team: 'ops',
    })
    expect(seen.body).toEqual({ apiKey: LIVE, metadata: { team: 'ops' } })
  })

  it('deletes with POST delete-api-key', async () => {
    const { seen, match } = captureBody()
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query({ showFull: 'true' }).reply(200, listFull)
    loggedIn().post('/v1/user/delete-api-key', match).reply(200, deleteKey)
    await store().delete(LIVE_ID)
    expect(seen.body).toEqual({ apiKey: LIVE })
  })

  it('gives NotFoundError for an id no key has, before changing anything', async () => {
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query({ showFull: 'true' }).reply(200, listFull)
    await expect(store().delete('ndx_000000000000000000000000')).rejects.toThrow(NotFoundError)
  })

  it('never shows a raw key in an error, even when NoteDx echoes it', async () => {
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query({ showFull: 'true' }).reply(200, listFull)
    loggedIn()
      .post(`/v1/user/api-keys/${LIVE}/status`)
      .reply(400, { message: `cannot change ${LIVE}` })
    const error = await store()
      .update(LIVE_ID, { status: 'disabled' })
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ValidationError)
    expect(JSON.stringify(error) + String(error) + String((error as Error).stack)).not.toContain(
      LIVE,
    )
    expect((error as Error).message).toContain('[REDACTED]')
  })

  it('checks metadata before sending: live keys only, lengths, sensitive words', async () => {
    const keys = store()
    await expect(keys.create({ type: 'sandbox', metadata: { team: 'x' } })).rejects.toThrow(
      ValidationError,
    )
    await expect(keys.create({ metadata: { ['k'.repeat(51)]: 'x' } })).rejects.toThrow(
      ValidationError,
    )
    await expect(keys.create({ metadata: { team: 'v'.repeat(201) } })).rejects.toThrow(
      ValidationError,
    )
    await expect(keys.create({ metadata: { db_password: 'x' } })).rejects.toThrow(ValidationError)
    await expect(keys.create({ metadata: { note: 'my secret thing' } })).rejects.toThrow(
      ValidationError,
    )
    await expect(keys.create({ type: 'test' as never })).rejects.toThrow(ValidationError)
    await expect(keys.create({ name: 'no names at NoteDx' })).rejects.toThrow(
      UnsupportedOperationError,
    )
    await expect(keys.verify({} as never)).rejects.toThrow(UnsupportedOperationError)
    expect(
      await createNoteDxKeyStore({ ...credentials, sensitiveWords: ['banana'] })
        .create({ metadata: { fruit: 'banana' } })
        .catch((error: unknown) => error),
    ).toBeInstanceOf(ValidationError)
  })

  it.each([
    [403, errorNested, PermissionError, 'Account Inactive'],
    [403, errorGateway, PermissionError, 'User is not authorized to access this resource'],
  ])('reads error shape %#', async (status, body, errorClass, message) => {
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query(true).reply(status, body)
    const error = await store()
      .list()
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(errorClass)
    expect((error as Error).message).toContain(message)
  })
})

describe('NoteDx session', () => {
  it('refreshes an expired ID token once and repeats the call', async () => {
    const { seen, match } = captureBody()
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query(true).reply(401, tokenExpired)
    nock(host).post('/v1/auth/refresh', match).reply(200, refresh)
    loggedIn(refresh.id_token).get('/v1/user/list-api-keys').query(true).reply(200, listFull)
    expect(await store().list()).toHaveLength(3)
    expect(seen.body).toEqual({ refresh_token: login.refresh_token })
  })

  it('logs in again when the refresh is refused', async () => {
    const keys = store()
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query(true).reply(401, tokenExpired)
    nock(host).post('/v1/auth/refresh').reply(401, { message: 'Invalid refresh token' })
    nock(host)
      .post('/v1/auth/login')
      .reply(200, { ...login, id_token: 'fake-id-token-0003' })
    loggedIn('fake-id-token-0003').get('/v1/user/list-api-keys').query(true).reply(200, listFull)
    expect(await keys.list()).toHaveLength(3)
  })

  it('shares one login among concurrent calls', async () => {
    const keys = store()
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query(true).times(3).reply(200, listFull)
    const results = await Promise.all([keys.list(), keys.list(), keys.list()])
    expect(results.map((listed) => listed.length)).toEqual([3, 3, 3])
  })

  it('shares one refresh among concurrent calls whose token expired', async () => {
    const keys = store()
    expectLogin()
    loggedIn().get('/v1/user/list-api-keys').query(true).reply(200, listFull)
    await keys.list()
    loggedIn().get('/v1/user/list-api-keys').query(true).times(3).reply(401, tokenExpired)
    nock(host).post('/v1/auth/refresh').once().reply(200, refresh)
    loggedIn(refresh.id_token)
      .get('/v1/user/list-api-keys')
      .query(true)
      .times(3)
      .reply(200, listFull)
    await Promise.all([keys.list(), keys.list(), keys.list()])
  })

  it('uses a given ID token as is and reports its expiry as AuthenticationError', async () => {
    const keys = createNoteDxKeyStore({ idToken: 'fake-given-id-token', retry: false })
    loggedIn('fake-given-id-token')
      .get('/v1/user/list-api-keys')
      .query(true)
      .reply(401, tokenExpired)
    const error = await keys.list().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect((error as Error).message).toContain('Token expired')
  })

  it('names the settings and env vars when no credential is given', () => {
    for (const name of ['NOTEDX_EMAIL', 'NOTEDX_PASSWORD', 'NOTEDX_ID_TOKEN']) vi.stubEnv(name, '')
    expect(() => createNoteDxKeyStore({ email: 'only-email@example.test' })).toThrow(
      /email.*password.*NOTEDX_EMAIL.*NOTEDX_PASSWORD.*idToken.*NOTEDX_ID_TOKEN/,
    )
  })
})
