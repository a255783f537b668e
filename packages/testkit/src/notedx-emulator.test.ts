import * as v from 'valibot'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { call, expectShape } from './emulator.test-support.js'
import { NOTEDX_SECOND_SANDBOX_STATUS } from './notedx-emulator.js'
import { startEmulator } from './start-emulator.js'
import type { Emulator } from './types.js'
import { noteDx } from './vendor-schemas.test-support.js'

let emulator: Emulator
let base: string
let auth: Record<string, string>
const listShape = v.strictObject({ api_keys: v.array(noteDx.item), unmasked: v.boolean() })

async function login(): Promise<{ id_token: string; refresh_token: string }> {
  const answer = await call(
    `${base}/auth/login`,
    'POST',
    {},
    { email: emulator.settings.email, password: emulator.settings.password },
  )
  expect(answer.status).toBe(200)
  return expectShape(noteDx.login, answer.body)
}

beforeEach(async () => {
  emulator = await startEmulator('notedx')
  base = emulator.settings.baseUrl as string
  auth = { authorization: `Bearer ${(await login()).id_token}` }
})
afterEach(async () => {
  vi.useRealTimers()
  await emulator.close()
})

async function createLive(metadata: Record<string, string> | null = null): Promise<string> {
  const answer = await call(`${base}/user/create-api-key`, 'POST', auth, {
    keyType: 'live',
    metadata,
  })
  expect(answer.status).toBe(200)
  return (answer.body as { api_key: string }).api_key
}

describe('NoteDx emulator', () => {
  it('lists masked keys, sandbox first, or full ones with showFull=true', async () => {
    const masked = expectShape(
      listShape,
      (await call(`${base}/user/list-api-keys`, 'GET', auth)).body,
    )
    expect(masked.unmasked).toBe(false)
    expect(masked.api_keys.every((item) => item.key.startsWith('*'.repeat(23)))).toBe(true)
    expect(masked.api_keys.map((item) => item.type)).toEqual(['sandbox', 'live', 'live', 'live'])
    const full = expectShape(
      listShape,
      (await call(`${base}/user/list-api-keys?showFull=true`, 'GET', auth)).body,
    )
    expect(full.unmasked).toBe(true)
    expect(full.api_keys[0]?.key).toMatch(/^sb-[0-9a-f]{24}$/)
    expect(full.api_keys[1]?.key).toMatch(/^lk-[0-9a-f]{24}$/)
    expect(full.api_keys[0]?.metadata).toBeNull()
  })

  it('creates a live key with 200 and the full key', async () => {
    const answer = await call(`${base}/user/create-api-key`, 'POST', auth, {
      keyType: 'live',
      metadata: { team: 'ops' },
    })
    expect(answer.status).toBe(200)
    expectShape(
      v.strictObject({
        message: v.string(),
        api_key: v.pipe(v.string(), v.regex(/^lk-[0-9a-f]{24}$/)),
        key_type: v.literal('live'),
        metadata: v.record(v.string(), v.string()),
      }),
      answer.body,
    )
  })

  it.each([
    ['a second sandbox key', { keyType: 'sandbox', metadata: null }, NOTEDX_SECOND_SANDBOX_STATUS],
    ['metadata on a sandbox key', { keyType: 'sandbox', metadata: { a: 'b' } }, 400],
    ['an unknown key type', { keyType: 'test' }, 400],
    [
      'a metadata key over 50 characters',
      { keyType: 'live', metadata: { ['k'.repeat(51)]: 'v' } },
      400,
    ],
    [
      'a metadata value over 200 characters',
      { keyType: 'live', metadata: { team: 'v'.repeat(201) } },
      400,
    ],
    ['a sensitive metadata word', { keyType: 'live', metadata: { db_password: 'x' } }, 400],
    ['a non-string metadata value', { keyType: 'live', metadata: { team: 1 } }, 400],
  ])('refuses %s', async (_name, body, status) => {
    const answer = await call(`${base}/user/create-api-key`, 'POST', auth, body)
    expect(answer.status).toBe(status)
    expectShape(noteDx.error, answer.body)
  })

  it('replaces metadata on live keys only', async () => {
    const key = await createLive({ a: 'b' })
    const answer = await call(`${base}/user/update-api-key-metadata`, 'POST', auth, {
      apiKey: key,
      metadata: { team: 'ops' },
    })
    expect(answer.status).toBe(200)
    const full = expectShape(
      listShape,
      (await call(`${base}/user/list-api-keys?showFull=true`, 'GET', auth)).body,
    )
    expect(full.api_keys.find((item) => item.key === key)?.metadata).toEqual({ team: 'ops' })
    const sandbox = full.api_keys[0]?.key
    expect(
      (
        await call(`${base}/user/update-api-key-metadata`, 'POST', auth, {
          apiKey: sandbox,
          metadata: { a: 'b' },
        })
      ).status,
    ).toBe(400)
  })

  it('sets status through the key in the path', async () => {
    const key = await createLive()
    const answer = await call(`${base}/user/api-keys/${key}/status`, 'POST', auth, {
      apiKey: key,
      status: 'inactive',
    })
    expect(answer).toMatchObject({ status: 200, body: { api_key: key, status: 'inactive' } })
    expect(emulator.control.works(key)).toBe(false)
  })

  it('keeps a deleted key listed as inactive; it stops working at once', async () => {
    const key = await createLive()
    expect((await call(`${base}/user/delete-api-key`, 'POST', auth, { apiKey: key })).status).toBe(
      200,
    )
    expect(emulator.control.works(key)).toBe(false)
    const full = expectShape(
      listShape,
      (await call(`${base}/user/list-api-keys?showFull=true`, 'GET', auth)).body,
    )
    expect(full.api_keys.find((item) => item.key === key)?.status).toBe('inactive')
    expect(
      (
        await call(`${base}/user/api-keys/${key}/status`, 'POST', auth, {
          apiKey: key,
          status: 'active',
        })
      ).status,
    ).toBe(400)
  })

  it('refuses API keys, missing and wrong tokens on /user/*', async () => {
    const key = await createLive()
    const attempts: Record<string, string>[] = [
      { 'x-api-key': key },
      {},
      { authorization: 'Bearer forged' },
    ]
    for (const headers of attempts) {
      const answer = await call(`${base}/user/list-api-keys`, 'GET', headers)
      expect(answer.status).toBe(401)
      expectShape(noteDx.error, answer.body)
    }
    const wrong = await call(
      `${base}/auth/login`,
      'POST',
      {},
      { email: emulator.settings.email, password: 'wrong' },
    )
    expect(wrong).toMatchObject({ status: 401, body: { message: 'Invalid credentials' } })
  })

  it('expires ID tokens ("Token expired") and refreshes them', async () => {
    const tokens = await login()
    emulator.control.expireTokens()
    const expired = await call(`${base}/user/list-api-keys`, 'GET', {
      authorization: `Bearer ${tokens.id_token}`,
    })
    expect(expired).toMatchObject({ status: 401, body: { message: 'Token expired' } })
    const refreshed = await call(
      `${base}/auth/refresh`,
      'POST',
      {},
      { refresh_token: tokens.refresh_token },
    )
    const { id_token } = expectShape(noteDx.refresh, refreshed.body)
    expect(
      (await call(`${base}/user/list-api-keys`, 'GET', { authorization: `Bearer ${id_token}` }))
        .status,
    ).toBe(200)
  })

  it('lets ID tokens lapse after an hour', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { id_token } = await login()
    vi.setSystemTime(Date.now() + 3_599_000)
    expect(
      (await call(`${base}/user/list-api-keys`, 'GET', { authorization: `Bearer ${id_token}` }))
        .status,
    ).toBe(200)
    vi.setSystemTime(Date.now() + 1_000)
    expect(
      (await call(`${base}/user/list-api-keys`, 'GET', { authorization: `Bearer ${id_token}` }))
        .status,
    ).toBe(401)
  })
})
