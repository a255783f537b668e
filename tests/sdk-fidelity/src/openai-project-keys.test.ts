// The OpenAI emulator's project API keys and service accounts, read and driven by the
// official SDK: a project key is minted only by making a service account (or a key on one),
// and a service account's key goes only with its account.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type OpenAIEmulator,
  openAISdkFor,
  openAIWire,
  PROJECT,
  PROJECT_PATH,
  startEmulator,
} from './openai-sdk.js'

let emulator: OpenAIEmulator

beforeEach(async () => {
  emulator = await startEmulator({ seedKeys: 0, seedKind: 'project' })
})

afterEach(async () => {
  await emulator.close()
})

/** The project's key ids in list order: its user's key, then `count` service accounts' keys. */
function seed(count: number): string[] {
  const userKey = emulator.control.keyIds().at(-1) as string
  const seeded = Array.from(
    { length: count },
    (_, index) => emulator.control.seedKey({ name: `worker-${index}` }).id,
  )
  return [userKey, ...seeded]
}

describe('project API keys through the SDK', () => {
  it('auto-paginates every key, following last_id from page to page', async () => {
    const ids = seed(4)
    const sdk = openAISdkFor(emulator)
    const listed: string[] = []
    for await (const key of sdk.admin.organization.projects.apiKeys.list(PROJECT, {
      limit: 2,
      owner_project_access: 'any',
    })) {
      listed.push(key.id)
    }
    expect(listed).toEqual(ids)
    expect(openAIWire(emulator).map((request) => request.path)).toEqual([
      `${PROJECT_PATH}/api_keys?limit=2&owner_project_access=any`,
      `${PROJECT_PATH}/api_keys?limit=2&owner_project_access=any&after=${ids[1]}`,
      `${PROJECT_PATH}/api_keys?limit=2&owner_project_access=any&after=${ids[3]}`,
    ])
  })

  it('filters by owner_project_access: inactive keys only with inactive or any', async () => {
    const [userKey] = seed(0)
    const off = emulator.control.seedKey({ name: 'no-access', disabled: true }).id
    const sdk = openAISdkFor(emulator)
    const ids = async (access?: 'active' | 'inactive' | 'any') =>
      (
        await sdk.admin.organization.projects.apiKeys.list(
          PROJECT,
          access === undefined ? {} : { owner_project_access: access },
        )
      ).data.map((key) => key.id)
    expect(await ids('active')).toEqual([userKey])
    expect(await ids('inactive')).toEqual([off])
    expect(await ids('any')).toEqual([userKey, off])
    // Left out, the API's own visibility rules apply: here they hide the inactive key.
    expect(await ids()).toEqual([userKey])
  })

  it("retrieves a service account's key and a user's key in the shapes the SDK declares", async () => {
    const [userKey] = seed(0)
    const { id, secret } = emulator.control.seedKey({ name: 'ci' })
    const sdk = openAISdkFor(emulator)
    const key = await sdk.admin.organization.projects.apiKeys.retrieve(id, { project_id: PROJECT })
    expect(key).toEqual({
      object: 'organization.project.api_key',
      id,
      name: 'ci',
      redacted_value: `sk-svcacct...${secret.slice(-4)}`,
      created_at: expect.any(Number),
      last_used_at: null,
      owner: {
        type: 'service_account',
        service_account: {
          id: expect.stringMatching(/^svc_acct_/),
          name: 'ci',
          created_at: expect.any(Number),
          role: 'member',
        },
      },
      owner_project_access: 'active',
    })
    const user = await sdk.admin.organization.projects.apiKeys.retrieve(userKey as string, {
      project_id: PROJECT,
    })
    expect(user.owner).toEqual({
      type: 'user',
      user: {
        id: expect.stringMatching(/^user_/),
        name: expect.any(String),
        email: expect.any(String),
        created_at: expect.any(Number),
        role: 'owner',
      },
    })
  })

  it("deletes a user's key; a service account's key is refused with a 400", async () => {
    const [userKey] = seed(0)
    const worker = emulator.control.seedKey({ name: 'worker' })
    const sdk = openAISdkFor(emulator)
    expect(
      await sdk.admin.organization.projects.apiKeys.delete(userKey as string, {
        project_id: PROJECT,
      }),
    ).toEqual({ object: 'organization.project.api_key.deleted', id: userKey, deleted: true })
    await expect(
      sdk.admin.organization.projects.apiKeys.delete(worker.id, { project_id: PROJECT }),
    ).rejects.toMatchObject({ status: 400, type: 'invalid_request_error' })
    expect(emulator.control.works(worker.secret)).toBe(true)
  })
})

describe('service accounts through the SDK', () => {
  it('creates a service account: its first key is shown once, works and is listed', async () => {
    const sdk = openAISdkFor(emulator)
    const account = await sdk.admin.organization.projects.serviceAccounts.create(PROJECT, {
      name: 'deployer',
    })
    expect(account).toEqual({
      object: 'organization.project.service_account',
      id: expect.stringMatching(/^svc_acct_/),
      name: 'deployer',
      role: 'member',
      created_at: expect.any(Number),
      api_key: {
        object: 'organization.project.service_account.api_key',
        id: expect.stringMatching(/^key_/),
        name: 'deployer',
        created_at: expect.any(Number),
        value: expect.stringMatching(/^sk-svcacct-/),
      },
    })
    const value = account.api_key?.value as string
    expect(emulator.control.works(value)).toBe(true)
    const keys = await sdk.admin.organization.projects.apiKeys.list(PROJECT)
    expect(keys.data.map((key) => key.id)).toContain(account.api_key?.id)
    expect(openAIWire(emulator)[0]).toEqual({
      method: 'POST',
      path: `${PROJECT_PATH}/service_accounts`,
      body: { name: 'deployer' },
    })
  })

  it('creates an account without a key when asked: role none, no api_key', async () => {
    const account = await openAISdkFor(emulator).admin.organization.projects.serviceAccounts.create(
      PROJECT,
      { name: 'bare', create_service_account_only: true },
    )
    expect(account).toMatchObject({ name: 'bare', role: 'none', api_key: null })
  })

  it('lists, retrieves and updates service accounts, paging by last_id', async () => {
    const ids = Array.from({ length: 3 }, (_, index) => {
      const { id } = emulator.control.seedKey({ name: `sa-${index}` })
      return emulator.control
        .projectState()
        ?.serviceAccounts.find((account) => account.keyIds.includes(id))?.id as string
    })
    const sdk = openAISdkFor(emulator)
    const listed: string[] = []
    for await (const account of sdk.admin.organization.projects.serviceAccounts.list(PROJECT, {
      limit: 2,
    })) {
      listed.push(account.id)
    }
    expect(listed).toEqual(ids)
    const one = await sdk.admin.organization.projects.serviceAccounts.retrieve(ids[0] as string, {
      project_id: PROJECT,
    })
    expect(one).toEqual({
      object: 'organization.project.service_account',
      id: ids[0],
      name: 'sa-0',
      role: 'member',
      created_at: expect.any(Number),
    })
    const updated = await sdk.admin.organization.projects.serviceAccounts.update(ids[0] as string, {
      project_id: PROJECT,
      name: 'renamed',
      role: 'owner',
    })
    expect(updated).toMatchObject({ id: ids[0], name: 'renamed', role: 'owner' })
  })

  it('adds a key to a service account, and deleting the account deletes all its keys', async () => {
    const sdk = openAISdkFor(emulator)
    const account = await sdk.admin.organization.projects.serviceAccounts.create(PROJECT, {
      name: 'two-keys',
    })
    const second = await sdk.admin.organization.projects.serviceAccounts.apiKeys.create(
      account.id,
      { project_id: PROJECT, name: 'second' },
    )
    expect(second).toEqual({
      object: 'organization.project.service_account.api_key',
      id: expect.stringMatching(/^key_/),
      name: 'second',
      created_at: expect.any(Number),
      value: expect.stringMatching(/^sk-svcacct-/),
    })
    expect(emulator.control.works(second.value)).toBe(true)
    expect(
      await sdk.admin.organization.projects.serviceAccounts.delete(account.id, {
        project_id: PROJECT,
      }),
    ).toEqual({
      object: 'organization.project.service_account.deleted',
      id: account.id,
      deleted: true,
    })
    expect(emulator.control.works(second.value)).toBe(false)
    expect(emulator.control.works(account.api_key?.value as string)).toBe(false)
    await expect(
      sdk.admin.organization.projects.apiKeys.retrieve(second.id, { project_id: PROJECT }),
    ).rejects.toMatchObject({ status: 404 })
  })
})
