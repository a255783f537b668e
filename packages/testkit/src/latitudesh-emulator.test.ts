import * as v from 'valibot'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { call, expectShape } from './emulator.test-support.js'
import { startEmulator } from './start-emulator.js'
import type { Emulator } from './types.js'
import { latitude } from './vendor-schemas.test-support.js'

let emulator: Emulator
let base: string
let admin: Record<string, string>
const JSON_API = 'application/vnd.api+json'
const document = (attributes: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  data: { type: 'api_keys', attributes, ...extra },
})

beforeEach(async () => {
  emulator = await startEmulator('latitudesh')
  base = emulator.settings.baseUrl as string
  admin = { authorization: emulator.settings.token as string, accept: JSON_API }
})
afterEach(async () => {
  vi.useRealTimers()
  await emulator.close()
})

describe('Latitude.sh emulator', () => {
  it('takes the raw token, without Bearer, and answers JSON:API', async () => {
    const answer = await call(`${base}/auth/api_keys`, 'GET', admin)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe(JSON_API)
    const { data } = expectShape(
      v.strictObject({ data: v.array(latitude.apiKey), meta: v.strictObject({}) }),
      answer.body,
    )
    expect(data.every((key) => key.attributes.token === undefined)).toBe(true)
    // The admin token is one of the listed keys.
    const token = emulator.settings.token as string
    expect(data.map((key) => key.attributes.token_last_slice)).toContain(token.slice(-5))
    const withBearer = await call(`${base}/auth/api_keys`, 'GET', {
      authorization: `Bearer ${token}`,
    })
    expect(withBearer.status).toBe(401)
    expectShape(latitude.error, withBearer.body)
  })

  it('creates with 201 and the token once', async () => {
    const answer = await call(
      `${base}/auth/api_keys`,
      'POST',
      admin,
      document({ name: 'ci', read_only: true, allowed_ips: ['10.0.0.0/8'] }),
    )
    expect(answer.status).toBe(201)
    const { data } = expectShape(
      v.strictObject({ data: latitude.apiKey, meta: v.strictObject({}) }),
      answer.body,
    )
    expect(data.attributes.token).toMatch(/^[0-9a-f]{36}$/)
    expect(data.attributes.read_only).toBe(true)
    const listed = await call(`${base}/auth/api_keys`, 'GET', admin)
    expect(JSON.stringify(listed.body)).not.toContain(data.attributes.token as string)
  })

  it.each([
    ['a wrong type', { data: { type: 'keys', attributes: { name: 'x' } } }, '/data/type'],
    ['no data', { name: 'x' }, '/data'],
    ['no name', document({}), '/data/attributes/name'],
    [
      'a bad IP',
      document({ name: 'x', allowed_ips: ['not-an-ip'] }),
      '/data/attributes/allowed_ips',
    ],
  ])('refuses a create with %s: 422 pointing at the field', async (_name, body, pointer) => {
    const answer = await call(`${base}/auth/api_keys`, 'POST', admin, body)
    expect(answer.status).toBe(422)
    expect(expectShape(latitude.error, answer.body).errors[0]?.source?.pointer).toBe(pointer)
  })

  it('regenerates in place with PUT: same id, new token, the old token dead at once', async () => {
    const created = (await call(`${base}/auth/api_keys`, 'POST', admin, document({ name: 'x' })))
      .body as {
      data: { id: string; attributes: { token: string } }
    }
    const { id, attributes } = created.data
    const answer = await call(`${base}/auth/api_keys/${id}`, 'PUT', admin, {
      data: { id, type: 'api_keys' },
    })
    expect(answer.status).toBe(200)
    const { data } = expectShape(
      v.strictObject({ data: latitude.apiKey, meta: v.strictObject({}) }),
      answer.body,
    )
    expect(data.id).toBe(id)
    expect(data.attributes.token).not.toBe(attributes.token)
    expect(emulator.control.works(attributes.token)).toBe(false)
    expect(
      (await call(`${base}/auth/api_keys`, 'GET', { authorization: attributes.token })).status,
    ).toBe(401)
    expect(
      (
        await call(`${base}/auth/api_keys`, 'GET', {
          authorization: data.attributes.token as string,
        })
      ).status,
    ).toBe(200)
  })

  it('updates with PATCH and deletes with an empty 200; then 404', async () => {
    const { data } = (await call(`${base}/auth/api_keys`, 'POST', admin, document({ name: 'x' })))
      .body as { data: { id: string } }
    const patched = await call(
      `${base}/auth/api_keys/${data.id}`,
      'PATCH',
      admin,
      document({ name: 'y' }, { id: data.id }),
    )
    expect(patched.status).toBe(200)
    expect(
      expectShape(v.strictObject({ data: latitude.apiKey, meta: v.strictObject({}) }), patched.body)
        .data.attributes.name,
    ).toBe('y')
    const deleted = await call(`${base}/auth/api_keys/${data.id}`, 'DELETE', admin)
    expect(deleted).toMatchObject({ status: 200, body: undefined })
    const again = await call(`${base}/auth/api_keys/${data.id}`, 'DELETE', admin)
    expect(again.status).toBe(404)
    expect(expectShape(latitude.error, again.body).errors[0]?.code).toBe('not_found')
  })

  it('has no single-key GET', async () => {
    const { data } = (await call(`${base}/auth/api_keys`, 'GET', admin)).body as {
      data: { id: string }[]
    }
    expect((await call(`${base}/auth/api_keys/${data[0]?.id}`, 'GET', admin)).status).toBe(404)
  })

  it('limits each key to 60 reads and 20 writes a minute, with retry_after in the body', async () => {
    // The emulator shares this process's clock: freeze it so the minute cannot run out.
    vi.useFakeTimers({ toFake: ['Date'] })
    await emulator.close()
    emulator = await startEmulator('latitudesh')
    base = emulator.settings.baseUrl as string
    admin = { authorization: emulator.settings.token as string }
    const reads = []
    for (let index = 0; index < 61; index++)
      reads.push((await call(`${base}/auth/api_keys`, 'GET', admin)).status)
    expect(reads.filter((status) => status === 200)).toHaveLength(60)
    const limited = await call(`${base}/auth/api_keys`, 'GET', admin)
    expect(limited.status).toBe(429)
    const error = expectShape(latitude.error, limited.body).errors[0]
    expect(error).toMatchObject({
      code: 'RATE_LIMIT_EXCEEDED',
      status: '429',
      title: 'Rate Limit Exceeded',
    })
    const retryAfter = (error?.meta as { retry_after: number } | undefined)?.retry_after
    expect(retryAfter).toBe(60)
    const writes = []
    for (let index = 0; index < 21; index++) {
      writes.push(
        (await call(`${base}/auth/api_keys`, 'POST', admin, document({ name: `w${index}` })))
          .status,
      )
    }
    expect(writes.filter((status) => status === 201)).toHaveLength(20)
    expect(writes.at(-1)).toBe(429)
    vi.setSystemTime(Date.now() + 60_000)
    expect((await call(`${base}/auth/api_keys`, 'GET', admin)).status).toBe(200)
  })
})
