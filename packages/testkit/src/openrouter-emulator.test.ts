import * as v from 'valibot'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { call, expectShape } from './emulator.test-support.js'
import { startEmulator } from './start-emulator.js'
import type { Emulator } from './types.js'
import { openRouter } from './vendor-schemas.test-support.js'

let emulator: Emulator
let base: string
let admin: Record<string, string>

beforeEach(async () => {
  emulator = await startEmulator('openrouter')
  base = emulator.settings.baseUrl as string
  admin = { authorization: `Bearer ${emulator.settings.managementKey}` }
})
afterEach(async () => {
  vi.useRealTimers()
  await emulator.close()
})

describe('OpenRouter emulator', () => {
  it('serves on loopback under /api/v1 with a management key in its settings', () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(base).toBe(`${emulator.url}/api/v1`)
    expect(emulator.settings.managementKey).toMatch(openRouter.secret)
  })

  it('lists {data: Key[]} with every documented field, newest first', async () => {
    const answer = await call(`${base}/keys?include_disabled=true`, 'GET', admin)
    expect(answer.status).toBe(200)
    const { data } = expectShape(v.strictObject({ data: v.array(openRouter.key) }), answer.body)
    expect(data).toHaveLength(3)
    const times = data.map((key) => Date.parse(key.created_at))
    expect([...times].sort((a, b) => b - a)).toEqual(times)
  })

  it('creates with 201 and the secret once, at the top level; never again', async () => {
    const answer = await call(`${base}/keys`, 'POST', admin, {
      name: 'ci',
      limit: 5,
      limit_reset: 'daily',
    })
    expect(answer.status).toBe(201)
    const created = expectShape(
      v.strictObject({ data: openRouter.key, key: v.pipe(v.string(), v.regex(openRouter.secret)) }),
      answer.body,
    )
    expect(created.data.limit).toBe(5)
    const listed = await call(`${base}/keys?include_disabled=true`, 'GET', admin)
    const fetched = await call(`${base}/keys/${created.data.hash}`, 'GET', admin)
    expect(JSON.stringify([listed.body, fetched.body])).not.toContain(created.key)
    expectShape(v.strictObject({ data: openRouter.key }), fetched.body)
  })

  it.each([
    ['no name', {}],
    ['an empty name', { name: '' }],
    ['a non-UTC expiry', { name: 'x', expires_at: '2099-01-01T00:00:00+02:00' }],
    ['a past expiry', { name: 'x', expires_at: '2001-01-01T00:00:00Z' }],
    ['an unknown limit_reset', { name: 'x', limit_reset: 'hourly' }],
  ])('refuses a create with %s: 400 in its error shape', async (_name, body) => {
    const answer = await call(`${base}/keys`, 'POST', admin, body)
    expect(answer.status).toBe(400)
    expectShape(openRouter.error, answer.body)
  })

  it('accepts a UTC expiry and reports it', async () => {
    const answer = await call(`${base}/keys`, 'POST', admin, {
      name: 'x',
      expires_at: '2099-01-01T00:00:00Z',
    })
    expect(answer.status).toBe(201)
    expect((answer.body as { data: { expires_at: string } }).data.expires_at).toBe(
      '2099-01-01T00:00:00.000Z',
    )
  })

  it('updates with PATCH but refuses expires_at; disabled keys drop out unless asked for', async () => {
    const { data } = (await call(`${base}/keys`, 'POST', admin, { name: 'x' })).body as {
      data: { hash: string }
    }
    const patched = await call(`${base}/keys/${data.hash}`, 'PATCH', admin, {
      name: 'y',
      disabled: true,
    })
    expect(patched.status).toBe(200)
    expect(expectShape(v.strictObject({ data: openRouter.key }), patched.body).data).toMatchObject({
      name: 'y',
      disabled: true,
    })
    expect(
      (
        await call(`${base}/keys/${data.hash}`, 'PATCH', admin, {
          expires_at: '2099-01-01T00:00:00Z',
        })
      ).status,
    ).toBe(400)
    const active = (await call(`${base}/keys?include_disabled=false`, 'GET', admin)).body as {
      data: { hash: string }[]
    }
    expect(active.data.map((key) => key.hash)).not.toContain(data.hash)
  })

  it('deletes with {deleted: true}; the key is then gone (404)', async () => {
    const { data } = (await call(`${base}/keys`, 'POST', admin, { name: 'x' })).body as {
      data: { hash: string }
    }
    const deleted = await call(`${base}/keys/${data.hash}`, 'DELETE', admin)
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true } })
    const again = await call(`${base}/keys/${data.hash}`, 'DELETE', admin)
    expect(again.status).toBe(404)
    expectShape(openRouter.error, again.body)
  })

  it('pages by 100 with offset', async () => {
    for (let index = 0; index < 150; index++) emulator.control.seedKey({ name: `bulk-${index}` })
    const first = (await call(`${base}/keys?include_disabled=true&offset=0`, 'GET', admin))
      .body as { data: unknown[] }
    const second = (await call(`${base}/keys?include_disabled=true&offset=100`, 'GET', admin))
      .body as { data: unknown[] }
    expect([first.data.length, second.data.length]).toEqual([100, 53])
  })

  it('answers GET /key for the key that calls, and refuses it on /keys with 403', async () => {
    const { key } = (await call(`${base}/keys`, 'POST', admin, { name: 'x' })).body as {
      key: string
    }
    const current = await call(`${base}/key`, 'GET', { authorization: `Bearer ${key}` })
    expect(current.status).toBe(200)
    expect(
      expectShape(v.strictObject({ data: openRouter.currentKey }), current.body).data
        .is_management_key,
    ).toBe(false)
    const forbidden = await call(`${base}/keys`, 'GET', { authorization: `Bearer ${key}` })
    expect(forbidden).toMatchObject({
      status: 403,
      body: { error: { code: 403, message: 'Only management keys can perform this operation' } },
    })
  })

  it('answers 401 in its error shape without or with a wrong credential', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer sk-or-v1-wrong' }]
    for (const headers of attempts) {
      const answer = await call(`${base}/keys`, 'GET', headers)
      expect(answer.status).toBe(401)
      expect(expectShape(openRouter.error, answer.body).error.code).toBe(401)
    }
  })

  it('applies configured rate limits with Retry-After, scaled by timeScale', async () => {
    // The emulator shares this process's clock: freeze it, then move it on by hand.
    vi.useFakeTimers({ toFake: ['Date'] })
    await emulator.close()
    emulator = await startEmulator('openrouter', {
      rateLimit: { read: { requests: 2, windowMs: 60_000 } },
      timeScale: 0.5,
    })
    base = emulator.settings.baseUrl as string
    admin = { authorization: `Bearer ${emulator.settings.managementKey}` }
    const statuses = []
    for (let index = 0; index < 3; index++)
      statuses.push((await call(`${base}/keys`, 'GET', admin)).status)
    expect(statuses).toEqual([200, 200, 429])
    const limited = await call(`${base}/keys`, 'GET', admin)
    expect(limited.headers.get('retry-after')).toBe('30')
    vi.setSystemTime(Date.now() + 29_999)
    expect((await call(`${base}/keys`, 'GET', admin)).status).toBe(429)
    vi.setSystemTime(Date.now() + 1)
    expect((await call(`${base}/keys`, 'GET', admin)).status).toBe(200)
  })
})
