import * as v from 'valibot'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { call, expectShape } from './emulator.test-support.js'
import type { OpenRouterEmulatorControl } from './openrouter-emulator.js'
import { startEmulator } from './start-emulator.js'
import type { Emulator } from './types.js'
import { openRouter } from './vendor-schemas.test-support.js'

let emulator: Emulator<OpenRouterEmulatorControl>
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
    ['an empty creator_user_id', { name: 'x', creator_user_id: '' }],
    ['an external without user', { name: 'x', external: { api_key: 'a'.repeat(32) } }],
    ['a short external api_key', { name: 'x', external: { user: 'u', api_key: 'short' } }],
  ])('refuses a create with %s: 400 in its error shape', async (_name, body) => {
    const answer = await call(`${base}/keys`, 'POST', admin, body)
    expect(answer.status).toBe(400)
    expectShape(openRouter.error, answer.body)
  })

  it('keeps the creator and the external user named at create; the partner key never shows', async () => {
    const partnerKey = `partner-${'f'.repeat(32)}`
    const answer = await call(`${base}/keys`, 'POST', admin, {
      name: 'partner',
      creator_user_id: 'user_member',
      external: { user: 'end-user-7', api_key: partnerKey },
    })
    expect(answer.status).toBe(201)
    const { data } = expectShape(
      v.strictObject({ data: openRouter.key, key: v.string() }),
      answer.body,
    )
    expect(data).toMatchObject({ creator_user_id: 'user_member', external_user: 'end-user-7' })
    const fetched = await call(`${base}/keys/${data.hash}`, 'GET', admin)
    expect(fetched.body).toMatchObject({
      data: { creator_user_id: 'user_member', external_user: 'end-user-7' },
    })
    expect(JSON.stringify([answer.body, fetched.body])).not.toContain(partnerKey)
    const plain = await call(`${base}/keys`, 'POST', admin, { name: 'plain' })
    expect(plain.body).toMatchObject({
      data: { creator_user_id: 'user_emulated', external_user: null },
    })
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

describe('OpenRouter emulator spend', () => {
  it('reports usage per period and what is left of the limit in its reset period', async () => {
    const createdAt = new Date('2026-01-15T08:00:00.000Z')
    const { id, secret } = emulator.control.seedKey({
      name: 'capped',
      limit: 10,
      limitReset: 'monthly',
      createdAt,
    })
    const unlimited = emulator.control.seedKey({ name: 'open' })
    emulator.control.spend(id, 2.5)
    emulator.control.spend(id, 1)
    emulator.control.spend(unlimited.id, 4)
    const fetched = await call(`${base}/keys/${id}`, 'GET', admin)
    const { data } = expectShape(v.strictObject({ data: openRouter.key }), fetched.body)
    expect(data).toMatchObject({
      limit: 10,
      limit_reset: 'monthly',
      limit_remaining: 6.5,
      usage: 3.5,
      usage_daily: 3.5,
      usage_weekly: 3.5,
      usage_monthly: 3.5,
      created_at: createdAt.toISOString(),
    })
    const other = await call(`${base}/keys/${unlimited.id}`, 'GET', admin)
    expect(other.body).toMatchObject({ data: { usage: 4, limit: null, limit_remaining: null } })
    const current = await call(`${base}/key`, 'GET', { authorization: `Bearer ${secret}` })
    expect(current.body).toMatchObject({ data: { usage: 3.5, limit_remaining: 6.5 } })
  })

  it('never reports less than nothing left, and seeds an expired key', async () => {
    const expiresAt = new Date(Date.now() - 86_400_000)
    const { id } = emulator.control.seedKey({ name: 'spent', limit: 1, expiresAt })
    emulator.control.spend(id, 3)
    const fetched = await call(`${base}/keys/${id}`, 'GET', admin)
    expect(fetched.body).toMatchObject({
      data: { limit_remaining: 0, usage: 3, expires_at: expiresAt.toISOString() },
    })
    expect(emulator.control.works(emulator.control.seedKey().secret)).toBe(true)
    expect(() => emulator.control.spend('nope', 1)).toThrow(RangeError)
  })
})

describe('OpenRouter emulator workspaces', () => {
  const keysIn = async (workspaceId?: string) => {
    const query = workspaceId === undefined ? '' : `&workspace_id=${workspaceId}`
    const answer = await call(`${base}/keys?include_disabled=true${query}`, 'GET', admin)
    expect(answer.status).toBe(200)
    return expectShape(v.strictObject({ data: v.array(openRouter.key) }), answer.body).data
  }

  it('pages GET /workspaces with offset and limit, counting them all in total_count', async () => {
    const openrouter = await startEmulator('openrouter')
    try {
      for (let index = 0; index < 4; index++) openrouter.control.seedWorkspace()
      const url = `${openrouter.settings.baseUrl}/workspaces`
      const headers = { authorization: `Bearer ${openrouter.settings.managementKey}` }
      const first = await call(`${url}?offset=0&limit=2`, 'GET', headers)
      expect(first.status).toBe(200)
      const page = expectShape(openRouter.counted(openRouter.workspace), first.body)
      expect(page.total_count).toBe(5)
      expect(page.data.map((workspace) => workspace.id)).toEqual([
        openrouter.control.defaultWorkspaceId,
        expect.any(String),
      ])
      const last = expectShape(
        openRouter.counted(openRouter.workspace),
        (await call(`${url}?offset=4&limit=2`, 'GET', headers)).body,
      )
      expect(last.data).toHaveLength(1)
      const all = expectShape(
        openRouter.counted(openRouter.workspace),
        (await call(url, 'GET', headers)).body,
      )
      expect(new Set(all.data.map((workspace) => workspace.id)).size).toBe(5)
    } finally {
      await openrouter.close()
    }
  })

  it('gives every workspace its own default guardrail id, the same on every call', async () => {
    const other = emulator.control.seedWorkspace().id
    const list = async () => {
      const answer = await call(`${base}/workspaces`, 'GET', admin)
      return expectShape(openRouter.counted(openRouter.workspace), answer.body).data
    }
    const first = await list()
    const guardrailOf = new Map(first.map((item) => [item.id, item.default_guardrail_id]))
    expect(guardrailOf.size).toBe(2)
    expect(guardrailOf.get(emulator.control.defaultWorkspaceId)).not.toBe(guardrailOf.get(other))
    expect((await list()).map((item) => item.default_guardrail_id)).toEqual([
      ...guardrailOf.values(),
    ])
  })

  it.each(['limit=101', 'limit=0', 'offset=-1'])('refuses %s with 400', async (query) => {
    const answer = await call(`${base}/workspaces?${query}`, 'GET', admin)
    expect(answer.status).toBe(400)
    expectShape(openRouter.error, answer.body)
  })

  it("lists only the default workspace's keys without workspace_id; creates in the one named", async () => {
    const other = emulator.control.seedWorkspace().id
    const created = await call(`${base}/keys`, 'POST', admin, { name: 'ws', workspace_id: other })
    expect(created.status).toBe(201)
    const key = expectShape(
      v.strictObject({ data: openRouter.key, key: v.string() }),
      created.body,
    ).data
    expect(key.workspace_id).toBe(other)
    const defaults = await keysIn()
    expect(defaults).toHaveLength(3)
    expect(defaults.map((listed) => listed.hash)).not.toContain(key.hash)
    expect(await keysIn(emulator.control.defaultWorkspaceId)).toEqual(defaults)
    expect((await keysIn(other)).map((listed) => listed.hash)).toEqual([key.hash])
    // By hash, a key of any workspace can be read, changed and deleted.
    expect((await call(`${base}/keys/${key.hash}`, 'GET', admin)).status).toBe(200)
    expect((await call(`${base}/keys/${key.hash}`, 'PATCH', admin, { name: 'y' })).status).toBe(200)
    expect((await call(`${base}/keys/${key.hash}`, 'DELETE', admin)).status).toBe(200)
    expect(await keysIn(other)).toEqual([])
  })

  it('puts a key made without workspace_id in the default workspace', async () => {
    const created = await call(`${base}/keys`, 'POST', admin, { name: 'plain' })
    expect((created.body as { data: { workspace_id: string } }).data.workspace_id).toBe(
      emulator.control.defaultWorkspaceId,
    )
  })

  it.each([
    ['a workspace_id that is not a uuid', 'not-a-uuid'],
    ['an unknown workspace_id', '99999999-9999-4999-8999-999999999999'],
  ])('answers 400 to a list or create with %s', async (_name, workspaceId) => {
    const listed = await call(`${base}/keys?workspace_id=${workspaceId}`, 'GET', admin)
    const created = await call(`${base}/keys`, 'POST', admin, {
      name: 'x',
      workspace_id: workspaceId,
    })
    for (const answer of [listed, created]) {
      expect(answer.status).toBe(400)
      expectShape(openRouter.error, answer.body)
    }
  })
})

describe('OpenRouter emulator guardrails', () => {
  const assignments = async (query = '') => {
    const answer = await call(`${base}/guardrails/assignments/keys${query}`, 'GET', admin)
    expect(answer.status).toBe(200)
    return expectShape(openRouter.counted(openRouter.keyAssignment), answer.body)
  }

  it('assigns a guardrail to keys, lists the assignment, and replaces it on a second assign', async () => {
    const control = emulator.control

    const first = control.seedGuardrail().id
    const second = control.seedGuardrail().id
    const key = control.seedKey({ name: 'guarded' })
    expect((await assignments()).data).toEqual([])

    const assigned = await call(`${base}/guardrails/${first}/assignments/keys`, 'POST', admin, {
      key_hashes: [key.id],
    })
    expect(assigned).toMatchObject({ status: 200, body: { assigned_count: 1 } })
    const listed = await assignments()
    expect(listed.total_count).toBe(1)
    expect(listed.data[0]).toMatchObject({
      key_hash: key.id,
      key_name: 'guarded',
      guardrail_id: first,
    })

    await call(`${base}/guardrails/${second}/assignments/keys`, 'POST', admin, {
      key_hashes: [key.id],
    })
    expect((await assignments()).data.map((item) => item.guardrail_id)).toEqual([second])
    expect(emulator.control.keyAttributes(key.secret)?.guardrail_id).toBe(second)

    const removed = await call(
      `${base}/guardrails/${second}/assignments/keys/remove`,
      'POST',
      admin,
      {
        key_hashes: [key.id],
      },
    )
    expect(removed).toMatchObject({ status: 200, body: { unassigned_count: 1 } })
    expect((await assignments()).data).toEqual([])
  })

  it("lists one guardrail's assignments, paged, and answers 404 for an unknown one", async () => {
    const control = emulator.control
    const wanted = control.seedGuardrail().id
    const other = control.seedGuardrail().id
    const keys = [0, 1, 2].map((index) =>
      control.seedKey({ name: `w-${index}`, guardrailId: wanted }),
    )
    control.seedKey({ name: 'elsewhere', guardrailId: other })
    const url = `${base}/guardrails/${wanted}/assignments/keys`
    const all = await call(url, 'GET', admin)
    expect(all.status).toBe(200)
    const page = expectShape(openRouter.counted(openRouter.keyAssignment), all.body)
    expect(page.total_count).toBe(3)
    expect(page.data.map((item) => item.key_hash)).toEqual(keys.map((key) => key.id))
    const second = await call(`${url}?offset=2&limit=1`, 'GET', admin)
    expect(second.body).toMatchObject({ data: [{ key_hash: keys[2]?.id }], total_count: 3 })
    const unknown = await call(
      `${base}/guardrails/99999999-9999-4999-8999-999999999999/assignments/keys`,
      'GET',
      admin,
    )
    expect(unknown.status).toBe(404)
    expectShape(openRouter.error, unknown.body)
  })

  it('pages the assignments with offset and limit (at most 100)', async () => {
    const control = emulator.control

    const guardrail = control.seedGuardrail().id
    for (let index = 0; index < 5; index++)
      control.seedKey({ name: `g-${index}`, guardrailId: guardrail })
    const page = await assignments('?offset=3&limit=100')
    expect(page.total_count).toBe(5)
    expect(page.data).toHaveLength(2)
    const tooMany = await call(`${base}/guardrails/assignments/keys?limit=101`, 'GET', admin)
    expect(tooMany.status).toBe(400)
    expectShape(openRouter.error, tooMany.body)
  })

  it('drops the assignment of a deleted key', async () => {
    const control = emulator.control

    const key = control.seedKey({ name: 'gone', guardrailId: control.seedGuardrail().id })
    expect((await assignments()).total_count).toBe(1)
    await call(`${base}/keys/${key.id}`, 'DELETE', admin)
    expect(await assignments()).toEqual({ data: [], total_count: 0 })
  })

  it('answers 404 for an unknown guardrail and 400 for a body without key hashes', async () => {
    const guardrail = emulator.control.seedGuardrail().id
    const [hash] = emulator.control.keyIds()
    const unknown = await call(
      `${base}/guardrails/99999999-9999-4999-8999-999999999999/assignments/keys`,
      'POST',
      admin,
      { key_hashes: [hash] },
    )
    expect(unknown.status).toBe(404)
    expectShape(openRouter.error, unknown.body)
    for (const body of [{}, { key_hashes: [] }, { key_hashes: [1] }]) {
      const answer = await call(
        `${base}/guardrails/${guardrail}/assignments/keys`,
        'POST',
        admin,
        body,
      )
      expect(answer.status).toBe(400)
      expectShape(openRouter.error, answer.body)
    }
  })

  it('needs a management key', async () => {
    const { key } = (await call(`${base}/keys`, 'POST', admin, { name: 'x' })).body as {
      key: string
    }
    for (const path of ['/workspaces', '/guardrails/assignments/keys']) {
      const answer = await call(`${base}${path}`, 'GET', { authorization: `Bearer ${key}` })
      expect(answer.status).toBe(403)
    }
  })
})
