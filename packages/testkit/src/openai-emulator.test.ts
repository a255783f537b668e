import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { call } from './emulator.test-support.js'
import { OPENAI_EMULATED_PROJECT, type OpenAIEmulatorControl } from './openai-emulator.js'
import { startEmulator } from './start-emulator.js'
import type { Emulator } from './types.js'

let emulator: Emulator<OpenAIEmulatorControl, 'openai'>
let api: string
let admin: Record<string, string>

beforeEach(async () => {
  emulator = await startEmulator('openai')
  api = `${emulator.url}/v1/organization`
  admin = { authorization: `Bearer ${emulator.settings.adminKey}` }
})
afterEach(() => emulator.close())

const vendorError = (message: string, type: string, code: string | null = null) => ({
  error: { message, type, param: null, code },
})

describe('OpenAI emulator', () => {
  it('takes an admin key as a bearer token; a project key is forbidden, anything else unknown', async () => {
    expect((await call(`${api}/admin_api_keys`, 'GET', admin)).status).toBe(200)
    expect(await call(`${api}/admin_api_keys`, 'GET')).toMatchObject({
      status: 401,
      body: vendorError(
        'You did not provide an API key.',
        'invalid_request_error',
        'missing_api_key',
      ),
    })
    const { secret } = emulator.control.seedKey({ kind: 'project' })
    expect(
      await call(`${api}/admin_api_keys`, 'GET', { authorization: `Bearer ${secret}` }),
    ).toMatchObject({ status: 403, body: { error: { code: 'insufficient_permissions' } } })
    expect(
      await call(`${api}/admin_api_keys`, 'GET', { authorization: 'Bearer sk-admin-unknown' }),
    ).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } })
    expect(emulator.requests.every((request) => request.headers.authorization !== secret)).toBe(
      true,
    )
  })

  it('holds the credential among the admin keys, and seeds both kinds', () => {
    const state = emulator.control.projectState()
    expect(state?.serviceAccounts).toHaveLength(3)
    expect(state?.keys).toHaveLength(4)
    expect(emulator.control.keyIds()).toHaveLength(4 + 4)
    expect(emulator.control.works(emulator.settings.adminKey as string)).toBe(true)
    expect(emulator.control.projectState('proj_unknown')).toBeUndefined()
  })

  it("refuses a service account's key delete, and deletes the account with every key", async () => {
    const { id, secret } = emulator.control.seedKey({ kind: 'project', name: 'worker' })
    const project = `${api}/projects/${OPENAI_EMULATED_PROJECT}`
    expect(await call(`${project}/api_keys/${id}`, 'DELETE', admin)).toMatchObject({
      status: 400,
      body: { error: { type: 'invalid_request_error' } },
    })
    expect(emulator.control.works(secret)).toBe(true)
    const account = emulator.control
      .projectState()
      ?.serviceAccounts.find((candidate) => candidate.keyIds.includes(id))
    const extra = await call(
      `${project}/service_accounts/${account?.id}/api_keys`,
      'POST',
      admin,
      {},
    )
    expect(extra).toMatchObject({ status: 200, body: { name: 'worker' } })
    expect((await call(`${project}/service_accounts/${account?.id}`, 'DELETE', admin)).status).toBe(
      200,
    )
    expect(emulator.control.works(secret)).toBe(false)
    expect(emulator.control.works((extra.body as { value: string }).value)).toBe(false)
    expect(emulator.control.keyIds()).not.toContain(id)
  })

  it('answers an unknown project, a bad cursor or limit and a bad body in the vendor shape', async () => {
    const unknown = await call(`${api}/projects/proj_nothere/api_keys`, 'GET', admin)
    expect(unknown).toMatchObject({
      status: 404,
      body: { error: { type: 'invalid_request_error' } },
    })
    for (const query of [
      '?limit=0',
      '?limit=101',
      '?limit=2.5',
      '?after=key_unknown',
      '?order=up',
    ]) {
      expect((await call(`${api}/admin_api_keys${query}`, 'GET', admin)).status).toBe(400)
    }
    for (const body of ['{not json', { name: 'x', expires_in_seconds: -5 }, { name: 42 }, {}]) {
      expect((await call(`${api}/admin_api_keys`, 'POST', admin, body)).status).toBe(400)
    }
    expect(emulator.control.keyIds()).toHaveLength(8)
  })

  it('plays injected statuses in the vendor shape, with Retry-After on a 429', async () => {
    emulator.inject({ match: { method: 'GET' }, status: 429, retryAfter: 2 })
    const limited = await call(`${api}/admin_api_keys`, 'GET', admin)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('2')
    expect(limited.body).toEqual(vendorError('Injected fault', 'requests'))
    emulator.inject({ match: { method: 'GET' }, status: 503 })
    expect(await call(`${api}/admin_api_keys`, 'GET', admin)).toMatchObject({
      status: 503,
      body: vendorError('Injected fault', 'server_error'),
    })
  })

  it('counts requests against its rate limit per caller, answering 429 with Retry-After', async () => {
    await emulator.close()
    let now = 1_000_000
    emulator = await startEmulator('openai', {
      rateLimit: { write: { requests: 1, windowMs: 10_000 } },
      now: () => now,
    })
    api = `${emulator.url}/v1/organization`
    admin = { authorization: `Bearer ${emulator.settings.adminKey}` }
    expect((await call(`${api}/admin_api_keys`, 'POST', admin, { name: 'a' })).status).toBe(200)
    const limited = await call(`${api}/admin_api_keys`, 'POST', admin, { name: 'b' })
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'rate_limit_exceeded' } } })
    expect(limited.headers.get('retry-after')).toBe('10')
    now += 10_000
    expect((await call(`${api}/admin_api_keys`, 'POST', admin, { name: 'b' })).status).toBe(200)
  })
})
