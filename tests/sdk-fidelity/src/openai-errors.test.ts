// Every error the OpenAI emulator answers, read by the official SDK: the vendor's
// `{error: {message, type, param, code}}` must become the SDK's typed error class for the
// status, with its type, code and message parsed into it.
import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ADMIN_KEYS_PATH,
  type OpenAIEmulator,
  openAISdkFor,
  PROJECT,
  startEmulator,
} from './openai-sdk.js'

let emulator: OpenAIEmulator

beforeEach(async () => {
  emulator = await startEmulator()
})

afterEach(async () => {
  await emulator.close()
})

describe("the emulator's own errors, as the SDK reads them", () => {
  it('401 for an unknown key: AuthenticationError', async () => {
    const sdk = openAISdkFor(emulator, 'sk-admin-not-a-real-key')
    const error = await sdk.admin.organization.adminAPIKeys.list().catch((thrown) => thrown)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error).toMatchObject({
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      param: null,
      message: '401 Incorrect API key provided.',
    })
  })

  it('403 for a project key at the admin endpoints: PermissionDeniedError', async () => {
    const { secret } = emulator.control.seedKey({ kind: 'project', name: 'not-admin' })
    const error = await openAISdkFor(emulator, secret)
      .admin.organization.adminAPIKeys.list()
      .catch((thrown) => thrown)
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(error).toMatchObject({ status: 403, code: 'insufficient_permissions' })
  })

  it('404 for an unknown key, project or service account: NotFoundError', async () => {
    const sdk = openAISdkFor(emulator)
    const calls = [
      () => sdk.admin.organization.adminAPIKeys.retrieve('key_NoSuchKey'),
      () => sdk.admin.organization.adminAPIKeys.delete('key_NoSuchKey'),
      () =>
        sdk.admin.organization.projects.apiKeys.retrieve('key_NoSuchKey', { project_id: PROJECT }),
      () => sdk.admin.organization.projects.apiKeys.list('proj_NoSuchProject'),
      () =>
        sdk.admin.organization.projects.serviceAccounts.delete('svc_acct_NoSuch', {
          project_id: PROJECT,
        }),
    ]
    for (const call of calls) {
      const error = await call().catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
      expect(error).toMatchObject({ status: 404, type: 'invalid_request_error' })
    }
  })

  it('400 for invalid input: BadRequestError, nothing made', async () => {
    const sdk = openAISdkFor(emulator)
    const before = emulator.control.keyIds()
    const calls = [
      () => sdk.admin.organization.adminAPIKeys.create({ name: '' }),
      () => sdk.admin.organization.adminAPIKeys.create({ name: 'x', expires_in_seconds: 0 }),
      () => sdk.admin.organization.adminAPIKeys.create({ name: 'x', extra: 1 } as never),
      () => sdk.admin.organization.adminAPIKeys.list({ limit: 101 }),
      () => sdk.admin.organization.adminAPIKeys.list({ after: 'key_unknown' }),
      () => sdk.admin.organization.projects.serviceAccounts.create(PROJECT, {} as never),
      () =>
        sdk.admin.organization.projects.apiKeys.list(PROJECT, {
          owner_project_access: 'some' as never,
        }),
    ]
    for (const call of calls) {
      const error = await call().catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error).toMatchObject({ status: 400, type: 'invalid_request_error' })
      expect((error as Error).message).toMatch(/^400 /)
    }
    expect(emulator.control.keyIds()).toEqual(before)
  })
})

describe('injected faults, as the SDK meets them', () => {
  const cases: Array<[number, abstract new (...args: never[]) => Error, string]> = [
    [429, OpenAI.RateLimitError, 'requests'],
    [500, OpenAI.InternalServerError, 'server_error'],
    [502, OpenAI.InternalServerError, 'server_error'],
    [503, OpenAI.InternalServerError, 'server_error'],
  ]
  for (const [status, errorClass, type] of cases) {
    it(`${status}: ${errorClass.name}`, async () => {
      emulator.inject({ match: { method: 'GET' }, status })
      const error = await openAISdkFor(emulator)
        .admin.organization.adminAPIKeys.list()
        .catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(errorClass)
      expect(error).toMatchObject({ status, type })
    })
  }

  it('429 from the rate limiter carries retry-after', async () => {
    await emulator.close()
    emulator = await startEmulator({ rateLimit: { read: { requests: 1, windowMs: 60_000 } } })
    const sdk = openAISdkFor(emulator)
    await sdk.admin.organization.adminAPIKeys.list()
    const error = await sdk.admin.organization.adminAPIKeys.list().catch((thrown) => thrown)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded' })
    expect((error as { headers: Headers }).headers.get('retry-after')).toBe('60')
  })

  it('a dropped connection: APIConnectionError', async () => {
    emulator.inject({ match: { method: 'GET' }, drop: 'before' })
    const error = await openAISdkFor(emulator)
      .admin.organization.adminAPIKeys.list()
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError)
  })

  it('a create processed but its answer lost: the SDK cannot tell, the key exists', async () => {
    const before = emulator.control.keyIds()
    emulator.inject({ match: { method: 'POST', path: ADMIN_KEYS_PATH }, drop: 'after' })
    const error = await openAISdkFor(emulator)
      .admin.organization.adminAPIKeys.create({ name: 'lost' })
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError)
    await emulator.idle()
    expect(emulator.control.keyIds().filter((id) => !before.includes(id))).toHaveLength(1)
  })

  it('a vendor that holds its answer past the timeout: APIConnectionTimeoutError', async () => {
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    emulator.inject({ match: { method: 'GET' }, until: held })
    const sdk = new OpenAI({
      baseURL: emulator.settings.baseUrl,
      adminAPIKey: emulator.settings.adminKey,
      apiKey: null,
      maxRetries: 0,
      timeout: 50,
    })
    const error = await sdk.admin.organization.adminAPIKeys.list().catch((thrown) => thrown)
    release()
    await emulator.idle()
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError)
  })
})
