import { PermissionError, Secret, UnsupportedOperationError, ValidationError } from '@keyway/core'
import { createMarker } from '@keyway/core/adapter'
import nock from 'nock'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import createKey from './__fixtures__/create-key.json' with { type: 'json' }
import currentKey from './__fixtures__/current-key.json' with { type: 'json' }
import deleteKey from './__fixtures__/delete-key.json' with { type: 'json' }
import error400 from './__fixtures__/error-400.json' with { type: 'json' }
import error403 from './__fixtures__/error-403.json' with { type: 'json' }
import getKey from './__fixtures__/get-key.json' with { type: 'json' }
import keyAssignments from './__fixtures__/key-assignments.json' with { type: 'json' }
import listKeys from './__fixtures__/list-keys.json' with { type: 'json' }
import listWorkspaces from './__fixtures__/list-workspaces.json' with { type: 'json' }
import { createOpenRouterKeyStore, type OpenRouterUpdateKeyInput } from './openrouter-key-store.js'

const MANAGEMENT_KEY = 'sk-or-v1-fake-management-key-for-tests-only'
const host = 'https://openrouter.ai'
const HASH = listKeys.data[0]?.hash as string
const WORKSPACE = listWorkspaces.data[0]?.id as string

function store() {
  return createOpenRouterKeyStore({ managementKey: MANAGEMENT_KEY, retry: false })
}

/** An OpenRouter scope that insists on the management key and JSON. */
function api() {
  return nock(host, {
    reqheaders: {
      authorization: `Bearer ${MANAGEMENT_KEY}`,
      accept: 'application/json',
      'user-agent': /^keyway\//,
    },
  })
}

/** The first thing a listing asks for: the account's workspaces. */
function workspaces() {
  return api()
    .get('/api/v1/workspaces')
    .query({ offset: '0', limit: '100' })
    .reply(200, listWorkspaces)
}

beforeAll(() => nock.disableNetConnect())
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([])
  nock.cleanAll()
})

describe('createOpenRouterKeyStore wire format', () => {
  it('lists with include_disabled, offset and workspace_id, mapping every field', async () => {
    workspaces()
    api()
      .get('/api/v1/keys')
      .query({ include_disabled: 'true', offset: '0', workspace_id: WORKSPACE })
      .reply(200, listKeys)
    const keys = await store().list()
    expect(keys).toHaveLength(2)
    expect(keys[0]).toEqual({
      provider: 'openrouter',
      id: HASH,
      name: 'ci-deploy',
      status: 'active',
      hint: 'sk-or-v1-0a1...f9e',
      createdAt: new Date('2026-10-01T09:30:00.000Z'),
      updatedAt: new Date('2026-10-02T11:00:00.000Z'),
      lastUsedAt: null,
      expiresAt: null,
      metadata: {},
      raw: listKeys.data[0],
      workspace: listKeys.data[0]?.workspace_id,
      spend: {
        used: 0.25,
        usedThisMonth: 0.25,
        usedToday: 0,
        usedThisWeek: 0.1,
        limit: 25,
        remaining: 25,
        limitReset: 'monthly',
      },
    })
    expect(keys[1]?.status).toBe('disabled')
  })

  it('asks for active keys only when includeDisabled is false', async () => {
    workspaces()
    api()
      .get('/api/v1/keys')
      .query({ include_disabled: 'false', offset: '0', workspace_id: WORKSPACE })
      .reply(200, { data: [] })
    expect(await store().list({ includeDisabled: false })).toEqual([])
  })

  it('pages by 100 and stops at the first short page', async () => {
    const page = (count: number, start: number) => ({
      data: Array.from({ length: count }, (_, index) => ({
        ...listKeys.data[0],
        hash: (start + index).toString(16).padStart(64, '0'),
      })),
    })
    workspaces()
    api()
      .get('/api/v1/keys')
      .query({ include_disabled: 'true', offset: '0', workspace_id: WORKSPACE })
      .reply(200, page(100, 0))
      .get('/api/v1/keys')
      .query({ include_disabled: 'true', offset: '100', workspace_id: WORKSPACE })
      .reply(200, page(100, 100))
      .get('/api/v1/keys')
      .query({ include_disabled: 'true', offset: '200', workspace_id: WORKSPACE })
      .reply(200, page(7, 200))
    expect(await store().list()).toHaveLength(207)
  })

  it('stops paging workspaces at total_count: no request for an empty page after a full one', async () => {
    const workspace = listWorkspaces.data[0] as (typeof listWorkspaces.data)[number]
    const hundred = Array.from({ length: 100 }, (_, index) => ({
      ...workspace,
      id: `11111111-2222-4333-8444-${String(index).padStart(12, '0')}`,
    }))
    api()
      .get('/api/v1/workspaces')
      .query({ offset: '0', limit: '100' })
      .reply(200, { data: hundred, total_count: 100 })
    const asked: string[] = []
    api()
      .get('/api/v1/keys')
      .query((query) => {
        asked.push(String(query.workspace_id))
        return true
      })
      .times(100)
      .reply(200, { data: [] })
    expect(await store().list()).toEqual([])
    expect(asked).toEqual(hundred.map((item) => item.id))
  })

  it('gets one key by hash', async () => {
    api().get(`/api/v1/keys/${HASH}`).reply(200, getKey)
    const key = await store().get(HASH)
    expect(key.id).toBe(HASH)
    expect(key.name).toBe('ci-deploy')
  })

  it('creates with snake_case fields under a name carrying the marker, then renames it', async () => {
    const expiresAt = new Date('2027-01-01T00:00:00.000Z')
    const marker = createMarker()
    const hash = createKey.data.hash
    let sent: unknown
    let renamed: unknown
    api()
      .matchHeader('content-type', 'application/json')
      .post('/api/v1/keys', (body) => {
        sent = body
        return true
      })
      .reply(201, { ...createKey, data: { ...createKey.data, name: `rotation-2026-11~${marker}` } })
    api()
      .patch(`/api/v1/keys/${hash}`, (body) => {
        renamed = body
        return true
      })
      .reply(200, { data: { ...createKey.data, name: 'rotation-2026-11' } })
    const created = await store().create(
      {
        name: 'rotation-2026-11',
        limit: 10,
        limitReset: 'weekly',
        includeByokInLimit: true,
        expiresAt,
      },
      { marker },
    )
    expect(sent).toEqual({
      name: `rotation-2026-11~${marker}`,
      limit: 10,
      limit_reset: 'weekly',
      include_byok_in_limit: true,
      expires_at: '2027-01-01T00:00:00.000Z',
    })
    expect(renamed).toEqual({ name: 'rotation-2026-11' })
    expect(created.key.name).toBe('rotation-2026-11')
    expect(created.secret).toBeInstanceOf(Secret)
    expect(created.secret.reveal()).toBe(createKey.key)
    expect(created.key.expiresAt).toEqual(expiresAt)
    expect(JSON.stringify(created.key)).not.toContain(createKey.key)
  })

  it('names a key itself when the caller gives no name, as OpenRouter requires one', async () => {
    let sent: { name?: string } = {}
    let renamed: { name?: string } = {}
    api()
      .post('/api/v1/keys', (body) => {
        sent = body
        return true
      })
      .reply(201, createKey)
    api()
      .patch(`/api/v1/keys/${createKey.data.hash}`, (body) => {
        renamed = body
        return true
      })
      .reply(200, { data: createKey.data })
    await store().create({})
    expect(renamed.name).toMatch(/^keyway-\d{8}T\d{6}-[0-9a-f]{6}$/)
    expect(sent.name).toBe(`${renamed.name}~${sent.name?.split('~')[1]}`)
    expect(sent.name).toMatch(/~kw\d{22}$/)
  })

  it("plans a successor from the key's fields and its guardrail assignment", async () => {
    api().get(`/api/v1/keys/${HASH}`).reply(200, getKey)
    api()
      .get('/api/v1/guardrails/assignments/keys')
      .query({ offset: '0', limit: '100' })
      .reply(200, keyAssignments)
    const keys = store()
    const plan = await keys.successorInput(await keys.get(HASH))
    expect(plan.input).toEqual({
      name: 'ci-deploy',
      limit: 25,
      limitReset: 'monthly',
      includeByokInLimit: false,
      workspaceId: WORKSPACE,
      guardrailId: keyAssignments.data[0]?.guardrail_id,
    })
    expect(plan.warnings).toContainEqual(
      expect.stringMatching(/whole limit of \$25 .*\(the old key had \$25 left\)/),
    )
  })

  it.each<[string, OpenRouterUpdateKeyInput, unknown]>([
    [
      'updates with PATCH, mapping status to disabled',
      { name: 'renamed', status: 'disabled', limit: null, limitReset: null },
      { name: 'renamed', disabled: true, limit: null, limit_reset: null },
    ],
    [
      'sends only the fields given: a rename leaves disabled and the limits alone',
      { name: 'renamed' },
      { name: 'renamed' },
    ],
  ])('%s', async (_title, patch, body) => {
    let sent: unknown
    api()
      .patch(`/api/v1/keys/${HASH}`, (received) => {
        sent = received
        return true
      })
      .reply(200, getKey)
    await store().update(HASH, patch)
    expect(sent).toEqual(body)
  })

  it('deletes by hash', async () => {
    api().delete(`/api/v1/keys/${HASH}`).reply(200, deleteKey)
    await expect(store().delete(HASH)).resolves.toBeUndefined()
  })

  it('verifies a secret with GET /key, sending that secret instead of the management key', async () => {
    const secret = new Secret(createKey.key)
    nock(host, { reqheaders: { authorization: `Bearer ${createKey.key}` } })
      .get('/api/v1/key')
      .reply(200, currentKey)
    nock(host)
      .get('/api/v1/key')
      .reply(401, { error: { code: 401, message: 'User not found.' } })
    expect(await store().verify(secret)).toBe(true)
    expect(await store().verify(new Secret('sk-or-v1-not-a-real-key-000000'))).toBe(false)
  })

  it('maps its error body: 403 for a non-management key', async () => {
    expect.assertions(3)
    api().get('/api/v1/workspaces').query(true).reply(403, error403)
    await store()
      .list()
      .catch((error: unknown) => {
        expect(error).toBeInstanceOf(PermissionError)
        expect((error as PermissionError).vendorCode).toBe('403')
        expect((error as PermissionError).message).toContain(
          'Only management keys can perform this operation',
        )
      })
  })

  it('maps a 400 to ValidationError with the vendor message', async () => {
    api().post('/api/v1/keys').reply(400, error400)
    await expect(store().create({ name: 'x' })).rejects.toThrow(ValidationError)
  })

  it('refuses before sending: metadata, expiry updates, regenerate, bad limits, past expiry', async () => {
    const keys = store()
    await expect(keys.create({ name: 'x', metadata: { a: 'b' } })).rejects.toThrow(
      UnsupportedOperationError,
    )
    await expect(keys.update(HASH, { expiresAt: new Date() } as never)).rejects.toThrow(
      UnsupportedOperationError,
    )
    await expect(keys.regenerate(HASH)).rejects.toThrow(UnsupportedOperationError)
    await expect(keys.create({ name: 'x', limit: -1 })).rejects.toThrow(ValidationError)
    await expect(keys.create({ name: 'x', limitReset: 'hourly' as never })).rejects.toThrow(
      ValidationError,
    )
    await expect(
      keys.create({ name: 'x', expiresAt: new Date(Date.now() - 1000) }),
    ).rejects.toThrow(ValidationError)
    await expect(keys.get('not-a-hash')).rejects.toThrow(ValidationError)
  })

  it('reads the management key from OPENROUTER_MANAGEMENT_KEY, and names it when missing', () => {
    const previous = process.env.OPENROUTER_MANAGEMENT_KEY
    try {
      process.env.OPENROUTER_MANAGEMENT_KEY = MANAGEMENT_KEY
      expect(createOpenRouterKeyStore().provider).toBe('openrouter')
      delete process.env.OPENROUTER_MANAGEMENT_KEY
      expect(() => createOpenRouterKeyStore()).toThrow(/managementKey.*OPENROUTER_MANAGEMENT_KEY/)
    } finally {
      if (previous === undefined) delete process.env.OPENROUTER_MANAGEMENT_KEY
      else process.env.OPENROUTER_MANAGEMENT_KEY = previous
    }
  })
})
