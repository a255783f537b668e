// The OpenAI emulator's admin API key endpoints, read and driven by the official SDK: its
// auto-pagination walks the emulator's cursor pages, and its types are what the emulator
// answers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ADMIN_KEYS_PATH,
  adminKeyOf,
  type OpenAIEmulator,
  openAISdkFor,
  openAIWire,
  startEmulator,
} from './openai-sdk.js'

let emulator: OpenAIEmulator

beforeEach(async () => {
  emulator = await startEmulator({ seedKeys: 0 })
})

afterEach(async () => {
  await emulator.close()
})

/** The admin keys' ids, oldest first: the emulator's own credential, then `count` seeded. */
function seed(count: number): string[] {
  const seeded = Array.from(
    { length: count },
    (_, index) => emulator.control.seedKey({ kind: 'admin', name: `admin-${index}` }).id,
  )
  const credential = emulator.control.keyIds()[0] as string
  return [credential, ...seeded]
}

describe('listing admin keys through the SDK', () => {
  it('auto-paginates every key, oldest first, following after from page to page', async () => {
    const ids = seed(6)
    const sdk = openAISdkFor(emulator)
    const listed: string[] = []
    for await (const key of sdk.admin.organization.adminAPIKeys.list({ limit: 3 })) {
      listed.push(key.id)
    }
    expect(listed).toEqual(ids)
    expect(openAIWire(emulator).map((request) => request.path)).toEqual([
      `${ADMIN_KEYS_PATH}?limit=3`,
      `${ADMIN_KEYS_PATH}?limit=3&after=${ids[2]}`,
      `${ADMIN_KEYS_PATH}?limit=3&after=${ids[5]}`,
    ])
  })

  it('orders by creation time, whatever order the keys were made in', async () => {
    const ids = seed(2)
    const older = emulator.control.seedKey({
      kind: 'admin',
      name: 'backdated',
      createdAt: new Date(Date.now() - 86_400_000),
    }).id
    const page = await openAISdkFor(emulator).admin.organization.adminAPIKeys.list()
    expect(page.data.map((key) => key.id)).toEqual([older, ...ids])
  })

  it('reads a page with has_more, and lists newest first with order desc', async () => {
    const ids = seed(3)
    const sdk = openAISdkFor(emulator)
    const first = await sdk.admin.organization.adminAPIKeys.list({ limit: 2 })
    expect(first.data.map((key) => key.id)).toEqual(ids.slice(0, 2))
    expect(first.has_more).toBe(true)
    const next = await first.getNextPage()
    expect(next.data.map((key) => key.id)).toEqual(ids.slice(2))
    expect(next.has_more).toBe(false)
    expect(next.hasNextPage()).toBe(false)
    const newest = await sdk.admin.organization.adminAPIKeys.list({ order: 'desc' })
    expect(newest.data.map((key) => key.id)).toEqual([...ids].reverse())
  })

  it('sends the admin key as a bearer token, and the log holds none of it', async () => {
    await openAISdkFor(emulator).admin.organization.adminAPIKeys.list()
    const request = emulator.requests.at(-1)
    expect(request?.headers.authorization).toBe('[REDACTED]')
    expect(request?.credentialDigest).toBeDefined()
    expect(JSON.stringify(emulator.requests)).not.toContain(adminKeyOf(emulator))
  })
})

describe('one admin key through the SDK', () => {
  it('retrieves a key in the shape the SDK declares', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000)
    const { id, secret } = emulator.control.seedKey({ kind: 'admin', name: 'ci', expiresAt })
    const key = await openAISdkFor(emulator).admin.organization.adminAPIKeys.retrieve(id)
    expect(key).toEqual({
      object: 'organization.admin_api_key',
      id,
      name: 'ci',
      redacted_value: `sk-admin...${secret.slice(-4)}`,
      created_at: expect.any(Number),
      last_used_at: null,
      expires_at: Math.floor(expiresAt.getTime() / 1000),
      owner: {
        type: 'user',
        object: 'organization.user',
        id: expect.stringMatching(/^user_/),
        name: expect.any(String),
        created_at: expect.any(Number),
        role: 'owner',
      },
    })
  })

  it('creates a key with expires_in_seconds: its value is shown once and works', async () => {
    const sdk = openAISdkFor(emulator)
    const created = await sdk.admin.organization.adminAPIKeys.create({
      name: 'New Admin Key',
      expires_in_seconds: 3600,
    })
    expect(created).toMatchObject({
      object: 'organization.admin_api_key',
      name: 'New Admin Key',
      value: expect.stringMatching(/^sk-admin-/),
    })
    expect(created.expires_at).toBe(created.created_at + 3600)
    expect(emulator.control.works(created.value)).toBe(true)
    const fetched = await sdk.admin.organization.adminAPIKeys.retrieve(created.id)
    expect(fetched).not.toHaveProperty('value')
    expect(fetched.expires_at).toBe(created.expires_at)
    // The new key manages keys too.
    const listed = await openAISdkFor(
      emulator,
      created.value,
    ).admin.organization.adminAPIKeys.list()
    expect(listed.data.map((key) => key.id)).toContain(created.id)
    expect(openAIWire(emulator)[0]).toEqual({
      method: 'POST',
      path: ADMIN_KEYS_PATH,
      body: { name: 'New Admin Key', expires_in_seconds: 3600 },
    })
  })

  it('creates a key that does not expire when expires_in_seconds is left out', async () => {
    const created = await openAISdkFor(emulator).admin.organization.adminAPIKeys.create({
      name: 'forever',
    })
    expect(created.expires_at).toBeNull()
  })

  it('deletes a key: the answer says so, and the key is gone', async () => {
    const { id, secret } = emulator.control.seedKey({ kind: 'admin', name: 'old' })
    const sdk = openAISdkFor(emulator)
    expect(await sdk.admin.organization.adminAPIKeys.delete(id)).toEqual({
      object: 'organization.admin_api_key.deleted',
      id,
      deleted: true,
    })
    expect(emulator.control.works(secret)).toBe(false)
    await expect(sdk.admin.organization.adminAPIKeys.retrieve(id)).rejects.toMatchObject({
      status: 404,
    })
  })
})
