// The Anthropic emulator's API-key endpoints, read and driven by the official SDK: its
// auto-pagination walks the emulator's cursor pages, and its types are what the emulator
// answers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type AnthropicEmulator,
  API_KEYS_PATH,
  adminKeyOf,
  anthropicSdkFor,
  anthropicWire,
  startAnthropicEmulator,
} from './anthropic-sdk.js'

let emulator: AnthropicEmulator

beforeEach(async () => {
  emulator = await startAnthropicEmulator({ seedKeys: 0 })
})

afterEach(async () => {
  await emulator.close()
})

/** Seeds `count` keys a second apart, oldest first; returns their ids newest first. */
function seed(count: number): string[] {
  const start = Date.now() - count * 1000
  return Array.from(
    { length: count },
    (_, index) =>
      emulator.control.seedKey({ name: `key-${index}`, createdAt: new Date(start + index * 1000) })
        .id,
  ).reverse()
}

describe('listing through the SDK', () => {
  it('auto-paginates every key, newest first, following after_id from page to page', async () => {
    const ids = seed(7)
    const sdk = anthropicSdkFor(emulator)
    const listed: string[] = []
    for await (const key of sdk.organization.apiKeys.list({ limit: 3 })) listed.push(key.id)
    expect(listed).toEqual(ids)
    expect(anthropicWire(emulator).map((request) => request.path)).toEqual([
      `${API_KEYS_PATH}?limit=3`,
      `${API_KEYS_PATH}?limit=3&after_id=${ids[2]}`,
      `${API_KEYS_PATH}?limit=3&after_id=${ids[5]}`,
    ])
  })

  it('reads a page with has_more, first_id and last_id, and pages back with before_id', async () => {
    const ids = seed(5)
    const sdk = anthropicSdkFor(emulator)
    const first = await sdk.organization.apiKeys.list({ limit: 2 })
    expect(first.data.map((key) => key.id)).toEqual(ids.slice(0, 2))
    expect(first.has_more).toBe(true)
    expect([first.first_id, first.last_id]).toEqual([ids[0], ids[1]])
    const last = await sdk.organization.apiKeys.list({ limit: 2, after_id: ids[3] })
    expect(last.data.map((key) => key.id)).toEqual([ids[4]])
    expect(last.has_more).toBe(false)
    const back = await sdk.organization.apiKeys.list({ limit: 2, before_id: ids[4] })
    expect(back.data.map((key) => key.id)).toEqual([ids[2], ids[3]])
    expect(back.has_more).toBe(true)
    const earlier = await back.getNextPage()
    expect(earlier.data.map((key) => key.id)).toEqual([ids[0], ids[1]])
    expect(earlier.has_more).toBe(false)
  })

  it('filters by status as the SDK asks', async () => {
    const [active] = seed(1)
    const inactive = emulator.control.seedKey({ name: 'off', status: 'inactive' }).id
    const sdk = anthropicSdkFor(emulator)
    const page = await sdk.organization.apiKeys.list({ status: 'inactive' })
    expect(page.data.map((key) => key.id)).toEqual([inactive])
    expect(page.data.map((key) => key.id)).not.toContain(active)
  })

  it('sends the admin key the SDK way, as a bearer token, with anthropic-version', async () => {
    seed(1)
    await anthropicSdkFor(emulator).organization.apiKeys.list()
    const request = emulator.requests.at(-1)
    expect(request?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(request?.headers.authorization).toBe('[REDACTED]')
    expect(request?.headers['x-api-key']).toBeUndefined()
    expect(request?.credentialDigest).toBeDefined()
    expect(JSON.stringify(emulator.requests)).not.toContain(adminKeyOf(emulator))
  })
})

describe('one key through the SDK', () => {
  it('retrieves a key in the shape the SDK declares', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000)
    const { id, secret } = emulator.control.seedKey({ name: 'ci', expiresAt })
    const key = await anthropicSdkFor(emulator).organization.apiKeys.retrieve(id)
    expect(key).toEqual({
      id,
      type: 'api_key',
      name: 'ci',
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      expires_at: expiresAt.toISOString(),
      status: 'active',
      partial_key_hint: `sk-ant-api03-${secret.slice(13, 16)}...${secret.slice(-4)}`,
      scope: { type: 'workspace', workspace_id: expect.stringMatching(/^wrkspc_/) },
      created_by: { id: expect.stringMatching(/^user_/), type: 'user' },
      principal: { type: 'user_actor', user_id: expect.stringMatching(/^user_/) },
    })
  })

  it('renames, disables and archives a key; archived is final', async () => {
    const { id, secret } = emulator.control.seedKey({ name: 'old-name' })
    const sdk = anthropicSdkFor(emulator)
    expect((await sdk.organization.apiKeys.update(id, { name: 'new-name' })).name).toBe('new-name')
    const inactive = await sdk.organization.apiKeys.update(id, { status: 'inactive' })
    expect(inactive.status).toBe('inactive')
    expect(emulator.control.works(secret)).toBe(false)
    expect((await sdk.organization.apiKeys.update(id, { status: 'active' })).status).toBe('active')
    expect(emulator.control.works(secret)).toBe(true)
    expect((await sdk.organization.apiKeys.update(id, { status: 'archived' })).status).toBe(
      'archived',
    )
    await expect(sdk.organization.apiKeys.update(id, { status: 'active' })).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
    })
    expect((await sdk.organization.apiKeys.retrieve(id)).status).toBe('archived')
    expect(anthropicWire(emulator).filter((request) => request.method === 'POST')).toEqual([
      { method: 'POST', path: `${API_KEYS_PATH}/${id}`, body: { name: 'new-name' } },
      { method: 'POST', path: `${API_KEYS_PATH}/${id}`, body: { status: 'inactive' } },
      { method: 'POST', path: `${API_KEYS_PATH}/${id}`, body: { status: 'active' } },
      { method: 'POST', path: `${API_KEYS_PATH}/${id}`, body: { status: 'archived' } },
      { method: 'POST', path: `${API_KEYS_PATH}/${id}`, body: { status: 'active' } },
    ])
  })

  it('shows an expired key as expired, in a list filtered by that status', async () => {
    const { id } = emulator.control.seedKey({
      name: 'gone-stale',
      expiresAt: new Date(Date.now() - 1000),
    })
    const page = await anthropicSdkFor(emulator).organization.apiKeys.list({ status: 'expired' })
    expect(page.data.map((key) => [key.id, key.status])).toEqual([[id, 'expired']])
  })
})
