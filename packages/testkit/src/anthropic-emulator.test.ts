import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AnthropicEmulatorControl } from './anthropic-emulator.js'
import { call } from './emulator.test-support.js'
import { startEmulator } from './start-emulator.js'
import type { Emulator } from './types.js'

let emulator: Emulator<AnthropicEmulatorControl, 'anthropic'>
let keysUrl: string
let admin: Record<string, string>

beforeEach(async () => {
  emulator = await startEmulator('anthropic')
  keysUrl = `${emulator.url}/v1/organizations/api_keys`
  admin = {
    'x-api-key': emulator.settings.adminKey as string,
    'anthropic-version': '2023-06-01',
  }
})
afterEach(() => emulator.close())

const vendorError = (type: string, message: string) => ({
  type: 'error',
  error: { type, message },
})

describe('Anthropic emulator', () => {
  it('takes the admin key as x-api-key or as a bearer token, and nothing else', async () => {
    const version = { 'anthropic-version': '2023-06-01' }
    expect((await call(keysUrl, 'GET', admin)).status).toBe(200)
    const bearer = { ...version, authorization: `Bearer ${emulator.settings.adminKey}` }
    expect((await call(keysUrl, 'GET', bearer)).status).toBe(200)
    expect(await call(keysUrl, 'GET', version)).toMatchObject({
      status: 401,
      body: vendorError('authentication_error', 'x-api-key header is required'),
    })
    const { secret } = emulator.control.seedKey({ status: 'inactive' })
    expect(await call(keysUrl, 'GET', { ...version, 'x-api-key': secret })).toMatchObject({
      status: 401,
      body: vendorError('authentication_error', 'invalid x-api-key'),
    })
  })

  it('has no create and no delete', async () => {
    const [id] = emulator.control.keyIds()
    expect(await call(keysUrl, 'POST', admin, { name: 'new' })).toMatchObject({
      status: 405,
      body: vendorError('invalid_request_error', 'Method POST not allowed'),
    })
    expect((await call(`${keysUrl}/${id}`, 'DELETE', admin)).status).toBe(405)
    expect(emulator.control.keyIds()).toHaveLength(3)
  })

  it('refuses both cursors at once, an unknown cursor and a bad limit or status', async () => {
    const [first, second] = emulator.control.keyIds()
    const bad = [
      `?after_id=${first}&before_id=${second}`,
      '?after_id=apikey_01unknown',
      '?limit=0',
      '?limit=1.5',
      '?status=deleted',
    ]
    for (const query of bad) {
      const answer = await call(`${keysUrl}${query}`, 'GET', admin)
      expect(answer.status).toBe(400)
      expect(answer.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    }
  })

  it('pages 20 keys by default, newest first, with has_more and the page ends', async () => {
    for (let index = 0; index < 20; index++) emulator.control.seedKey({ name: `bulk-${index}` })
    const answer = await call(keysUrl, 'GET', admin)
    const page = answer.body as { data: Array<{ id: string }>; has_more: boolean }
    expect(page.data).toHaveLength(20)
    expect(page.has_more).toBe(true)
    expect(answer.body).toMatchObject({
      first_id: page.data[0]?.id,
      last_id: page.data[19]?.id,
    })
    const rest = await call(`${keysUrl}?after_id=${page.data[19]?.id}`, 'GET', admin)
    expect(rest.body).toMatchObject({ has_more: false })
    expect((rest.body as { data: unknown[] }).data).toHaveLength(3)
  })

  it('keeps a key expired once its expiry passed, and archived keys archived', async () => {
    const expired = emulator.control.seedKey({ expiresAt: new Date(Date.now() - 1) })
    expect(emulator.control.works(expired.secret)).toBe(false)
    const answer = await call(`${keysUrl}/${expired.id}`, 'POST', admin, { status: 'active' })
    expect(answer).toMatchObject({
      status: 400,
      body: vendorError('invalid_request_error', 'An expired API key cannot be made active'),
    })
    const archived = emulator.control.seedKey({ status: 'archived' })
    const renamed = await call(`${keysUrl}/${archived.id}`, 'POST', admin, { name: 'again' })
    expect(renamed.status).toBe(400)
    expect(emulator.control.keyAttributes(archived.secret)).toMatchObject({
      name: 'seeded',
      status: 'archived',
    })
  })
})
