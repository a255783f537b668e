import * as v from 'valibot'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { call, expectShape } from './emulator.test-support.js'
import { startEmulator } from './start-emulator.js'
import type { Emulator } from './types.js'
import { voiceable } from './vendor-schemas.test-support.js'

let emulator: Emulator
let base: string
let admin: Record<string, string>
const one = v.strictObject({ status: voiceable.status, data: voiceable.apiKey })

beforeEach(async () => {
  emulator = await startEmulator('voiceable')
  base = emulator.settings.baseUrl as string
  admin = { 'x-api-key': emulator.settings.apiKey as string }
})
afterEach(() => emulator.close())

/** Makes a key named `x` of `keyType` with the admin key; its answer, checked against `one`. */
async function createKey(keyType: 'private' | 'public') {
  const answer = await call(`${base}/api_keys`, 'POST', admin, {
    api_key: { name: 'x', key_type: keyType },
  })
  return expectShape(one, answer.body)
}

describe('Voiceable emulator', () => {
  it('serves under /voiceable-api and lists in its {status, data} envelope, secrets null', async () => {
    expect(base).toBe(`${emulator.url}/voiceable-api`)
    const answer = await call(`${base}/api_keys`, 'GET', admin)
    const listed = expectShape(
      v.strictObject({ status: voiceable.status, data: v.array(voiceable.apiKey) }),
      answer.body,
    )
    expect(listed.status).toEqual({ code: 200, message: 'Success' })
    expect(listed.data.every((key) => key.key_value === null)).toBe(true)
  })

  it('names in its settings the id of the private key its apiKey is', async () => {
    const answer = await call(`${base}/api_keys/${emulator.settings.credentialKeyId}`, 'GET', admin)
    const { data } = expectShape(one, answer.body)
    expect(data).toMatchObject({ name: 'admin', key_type: 'private' })
    expect(emulator.control.keyAttributes(emulator.settings.apiKey as string)).toMatchObject({
      name: 'admin',
      key_type: 'private',
    })
  })

  it('creates inside the api_key wrapper with 201 and the key value once', async () => {
    const answer = await call(`${base}/api_keys`, 'POST', admin, {
      api_key: { name: 'web', key_type: 'public', allowed_origins: ['https://example.test'] },
    })
    expect(answer.status).toBe(201)
    const { data } = expectShape(one, answer.body)
    expect(data.key_value).toMatch(/^pk_live_[0-9a-f]{64}$/)
    const fetched = expectShape(one, (await call(`${base}/api_keys/${data.id}`, 'GET', admin)).body)
    expect(fetched.data.key_value).toBeNull()
    expect(fetched.data.allowed_origins).toEqual(['https://example.test'])
  })

  it.each([
    ['no wrapper', { name: 'x', key_type: 'private' }],
    ['no name', { api_key: { key_type: 'private' } }],
    ['no key type', { api_key: { name: 'x' } }],
  ])('refuses a create with %s: 400 in its error shape', async (_name, body) => {
    const answer = await call(`${base}/api_keys`, 'POST', admin, body)
    expect(answer.status).toBe(400)
    expectShape(voiceable.error, answer.body)
  })

  it('updates with PUT and refuses a key_type change', async () => {
    const { data } = await createKey('private')
    const updated = await call(`${base}/api_keys/${data.id}`, 'PUT', admin, {
      api_key: { name: 'y', transient_assistant: true },
    })
    expect(expectShape(one, updated.body).data).toMatchObject({
      name: 'y',
      transient_assistant: true,
      key_type: 'private',
    })
    const changed = await call(`${base}/api_keys/${data.id}`, 'PUT', admin, {
      api_key: { key_type: 'public' },
    })
    expect(changed.status).toBe(400)
    expectShape(voiceable.error, changed.body)
  })

  it('deletes with an empty 204; then 404', async () => {
    const { data } = await createKey('private')
    expect(await call(`${base}/api_keys/${data.id}`, 'DELETE', admin)).toMatchObject({
      status: 204,
      body: undefined,
    })
    expect((await call(`${base}/api_keys/${data.id}`, 'DELETE', admin)).status).toBe(404)
  })

  it('needs a private key or a session token; says "Authentication required." otherwise', async () => {
    const { data } = await createKey('public')
    expect(
      (await call(`${base}/api_keys`, 'GET', { 'x-api-key': data.key_value as string })).status,
    ).toBe(403)
    const denied = await call(`${base}/api_keys`, 'GET', {})
    expect(denied.status).toBe(401)
    expect(expectShape(voiceable.error, denied.body).error).toBe('Authentication required.')
  })
})
