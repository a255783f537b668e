// The SDK's key methods (`apiKeys.*`) against the emulator: each answer must pass the SDK's
// own response schema, and each request must reach the emulator as the SDK meant it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  apiPath,
  managementKeyOf,
  type OpenRouterEmulator,
  sdkFor,
  startEmulatorForSdk,
  wire,
} from './openrouter-sdk.js'

const HASH = /^[0-9a-f]{64}$/
const SECRET = /^sk-or-v1-[0-9a-f]{64}$/
const LABEL = /^sk-or-v1-[0-9a-f]{3}\.\.\.[0-9a-f]{3}$/

let emulator: OpenRouterEmulator

afterEach(async () => {
  await emulator.close()
})

describe('apiKeys.list', () => {
  beforeEach(async () => {
    emulator = await startEmulatorForSdk({ seedKeys: 250 })
  })

  it('pages 250 keys in pages of 100 by offset, newest first, every key parsed', async () => {
    const sdk = sdkFor(emulator)
    const pages: number[] = []
    const hashes: string[] = []
    const created: number[] = []
    for (let offset = 0; ; offset += 100) {
      const page = await sdk.apiKeys.list({ offset })
      pages.push(page.data.length)
      for (const key of page.data) {
        hashes.push(key.hash)
        created.push(Date.parse(key.createdAt))
        expect(key).toMatchObject({
          hash: expect.stringMatching(HASH),
          label: expect.stringMatching(LABEL),
          disabled: false,
          limit: null,
          limitRemaining: null,
          usage: 0,
          byokUsageMonthly: 0,
          workspaceId: emulator.control.defaultWorkspaceId,
        })
      }
      if (page.data.length < 100) break
    }
    expect(pages).toEqual([100, 100, 50])
    expect(new Set(hashes)).toEqual(new Set(emulator.control.keyIds()))
    expect(created).toEqual([...created].sort((a, b) => b - a))
    expect(wire(emulator).map((request) => request.path)).toEqual([
      apiPath('/keys?offset=0'),
      apiPath('/keys?offset=100'),
      apiPath('/keys?offset=200'),
    ])
  })

  it('lists disabled keys only when asked, and the keys of the workspace it names', async () => {
    const sdk = sdkFor(emulator)
    const disabled = emulator.control.seedKey({ name: 'off', disabled: true })
    const workspaceId = emulator.control.seedWorkspace({ name: 'Staging' }).id
    const staged = emulator.control.seedKey({ name: 'staged', workspaceId })

    const hashesOf = async (request: Parameters<typeof sdk.apiKeys.list>[0]) => {
      const hashes: string[] = []
      for (let offset = 0; ; offset += 100) {
        const page = await sdk.apiKeys.list({ ...request, offset })
        hashes.push(...page.data.map((key) => key.hash))
        if (page.data.length < 100) return hashes
      }
    }
    const active = await hashesOf({})
    expect(active).toHaveLength(250)
    expect(active).not.toContain(disabled.id)
    const all = await hashesOf({ includeDisabled: true })
    expect(all).toHaveLength(251)
    expect(all).toContain(disabled.id)
    expect(await hashesOf({ workspaceId, includeDisabled: true })).toEqual([staged.id])
    expect(wire(emulator).at(-1)?.path).toBe(
      apiPath(`/keys?include_disabled=true&offset=0&workspace_id=${workspaceId}`),
    )
  })
})

describe('apiKeys: create, get, update, delete, and the current key', () => {
  beforeEach(async () => {
    emulator = await startEmulatorForSdk()
  })

  it('creates a key with every field the SDK sends; the secret comes once and works', async () => {
    const sdk = sdkFor(emulator)
    const workspaceId = emulator.control.seedWorkspace().id
    const expiresAt = new Date(Date.UTC(2099, 0, 2, 3, 4, 5))
    const partnerKey = `partner-${'7'.repeat(32)}`
    const created = await sdk.apiKeys.create({
      requestBody: {
        name: 'ci deploy',
        limit: 25,
        limitReset: 'weekly',
        includeByokInLimit: true,
        expiresAt,
        workspaceId,
        creatorUserId: 'user_member',
        external: { user: 'end-user-7', apiKey: partnerKey },
      },
    })
    expect(created.key).toMatch(SECRET)
    expect(emulator.control.works(created.key)).toBe(true)
    expect(created.data).toMatchObject({
      hash: expect.stringMatching(HASH),
      name: 'ci deploy',
      label: `sk-or-v1-${created.key.slice(9, 12)}...${created.key.slice(-3)}`,
      disabled: false,
      limit: 25,
      limitRemaining: 25,
      limitReset: 'weekly',
      includeByokInLimit: true,
      expiresAt,
      workspaceId,
      creatorUserId: 'user_member',
      externalUser: 'end-user-7',
      updatedAt: null,
    })
    expect(wire(emulator)).toEqual([
      {
        method: 'POST',
        path: apiPath('/keys'),
        body: {
          name: 'ci deploy',
          limit: 25,
          limit_reset: 'weekly',
          include_byok_in_limit: true,
          expires_at: '2099-01-02T03:04:05.000Z',
          workspace_id: workspaceId,
          creator_user_id: 'user_member',
          external: { user: 'end-user-7', api_key: partnerKey },
        },
      },
    ])

    // Read back, the key has the same fields and neither secret.
    const fetched = await sdk.apiKeys.get({ hash: created.data.hash })
    expect(fetched.data).toEqual(created.data)
    expect(JSON.stringify(fetched)).not.toContain(created.key)
    expect(JSON.stringify(fetched)).not.toContain(partnerKey)
  })

  it('gets a seeded key by hash, with its spend and limit', async () => {
    const sdk = sdkFor(emulator)
    const seeded = emulator.control.seedKey({ name: 'spender', limit: 10, limitReset: 'monthly' })
    emulator.control.spend(seeded.id, 4)
    const { data } = await sdk.apiKeys.get({ hash: seeded.id })
    expect(data).toMatchObject({
      hash: seeded.id,
      name: 'spender',
      limit: 10,
      limitRemaining: 6,
      limitReset: 'monthly',
      usage: 4,
      usageDaily: 4,
      usageWeekly: 4,
      usageMonthly: 4,
      byokUsage: 0,
      creatorUserId: 'user_emulated',
      externalUser: null,
    })
    expect(data.expiresAt).toBeUndefined()
    expect(wire(emulator)).toEqual([
      { method: 'GET', path: apiPath(`/keys/${seeded.id}`), body: undefined },
    ])
  })

  it('updates name, limit and disabled; a disabled key stops working', async () => {
    const sdk = sdkFor(emulator)
    const seeded = emulator.control.seedKey({ name: 'before' })
    const { data } = await sdk.apiKeys.update({
      hash: seeded.id,
      requestBody: {
        name: 'after',
        disabled: true,
        limit: 3,
        limitReset: 'daily',
        includeByokInLimit: true,
      },
    })
    expect(data).toMatchObject({
      hash: seeded.id,
      name: 'after',
      disabled: true,
      limit: 3,
      limitRemaining: 3,
      limitReset: 'daily',
      includeByokInLimit: true,
      updatedAt: expect.any(String),
    })
    expect(Number.isNaN(Date.parse(data.updatedAt as string))).toBe(false)
    expect(emulator.control.works(seeded.secret)).toBe(false)
    expect(wire(emulator)).toEqual([
      {
        method: 'PATCH',
        path: apiPath(`/keys/${seeded.id}`),
        body: {
          name: 'after',
          disabled: true,
          limit: 3,
          limit_reset: 'daily',
          include_byok_in_limit: true,
        },
      },
    ])
    const cleared = await sdk.apiKeys.update({
      hash: seeded.id,
      requestBody: { limit: null, limitReset: null },
    })
    expect(cleared.data).toMatchObject({ limit: null, limitRemaining: null, limitReset: null })
  })

  it('deletes a key: {deleted: true}, and the key is gone', async () => {
    const sdk = sdkFor(emulator)
    const seeded = emulator.control.seedKey({ name: 'doomed' })
    expect(await sdk.apiKeys.delete({ hash: seeded.id })).toEqual({ deleted: true })
    expect(emulator.control.keyIds()).not.toContain(seeded.id)
    expect(emulator.control.works(seeded.secret)).toBe(false)
    expect(wire(emulator)).toEqual([
      { method: 'DELETE', path: apiPath(`/keys/${seeded.id}`), body: undefined },
    ])
  })

  it('GET /key describes the management key that calls it', async () => {
    const { data } = await sdkFor(emulator).apiKeys.getCurrentKeyMetadata()
    const managementKey = managementKeyOf(emulator)
    expect(data).toMatchObject({
      label: `sk-or-v1-${managementKey.slice(9, 12)}...${managementKey.slice(-3)}`,
      isManagementKey: true,
      isProvisioningKey: true,
      isFreeTier: false,
      limit: null,
      limitRemaining: null,
      workspaceId: emulator.control.defaultWorkspaceId,
      allowedDataRegions: ['global'],
      freeModelDailyRequests: { limit: 50, remaining: 50, used: 0 },
      rateLimit: { requests: 20, interval: '10s', note: 'deprecated' },
    })
    expect(data.expiresAt).toBeUndefined()
    expect(wire(emulator)).toEqual([{ method: 'GET', path: apiPath('/key'), body: undefined }])
  })

  it('GET /key describes an ordinary key with its limit, spend and expiry', async () => {
    const expiresAt = new Date(Date.UTC(2099, 5, 1))
    const seeded = emulator.control.seedKey({
      name: 'ordinary',
      limit: 8,
      limitReset: 'daily',
      expiresAt,
    })
    emulator.control.spend(seeded.id, 2.5)
    const { data } = await sdkFor(emulator, seeded.secret).apiKeys.getCurrentKeyMetadata()
    expect(data).toMatchObject({
      label: `sk-or-v1-${seeded.secret.slice(9, 12)}...${seeded.secret.slice(-3)}`,
      isManagementKey: false,
      limit: 8,
      limitRemaining: 5.5,
      limitReset: 'daily',
      usage: 2.5,
      usageDaily: 2.5,
      expiresAt,
    })
    expect(emulator.requests[0]?.credentialDigest).toBe(seeded.id)
  })
})
