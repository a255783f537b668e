// Every error the emulator answers, read by the SDK: each status an operation declares in the
// spec must become that operation's typed error class, with the vendor's `{error: {code,
// message}}` parsed into it; any other status is the SDK's `OpenRouterDefaultError`. A body
// the SDK could not parse would surface as a `ResponseValidationError` instead, and fail here.
import type { OpenRouter } from '@openrouter/sdk'
import * as errors from '@openrouter/sdk/models/errors'
import { unrecognized } from '@openrouter/sdk/types'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type OpenRouterEmulator, sdkFor, startEmulatorForSdk } from './openrouter-sdk.js'

type ErrorClass = new (...args: never[]) => errors.OpenRouterError

/** The typed error class of each status an operation declares (from the SDK's matchers). */
const BAD_REQUEST = { 400: errors.BadRequestResponseError }
const UNAUTHORIZED = { 401: errors.UnauthorizedResponseError }
const FORBIDDEN = { 403: errors.ForbiddenResponseError }
const NOT_FOUND = { 404: errors.NotFoundResponseError }
const TOO_MANY = { 429: errors.TooManyRequestsResponseError }
const INTERNAL = { 500: errors.InternalServerResponseError }

interface Ids {
  hash: string
  guardrailId: string
}

/** Every SDK method whose endpoint the emulator serves, with the statuses it declares. */
const operations: Record<
  string,
  { call: (sdk: OpenRouter, ids: Ids) => Promise<unknown>; typed: Record<number, ErrorClass> }
> = {
  'apiKeys.list': {
    call: (sdk) => sdk.apiKeys.list(),
    typed: { ...BAD_REQUEST, ...UNAUTHORIZED, ...TOO_MANY, ...INTERNAL },
  },
  'apiKeys.get': {
    call: (sdk, { hash }) => sdk.apiKeys.get({ hash }),
    typed: { ...UNAUTHORIZED, ...NOT_FOUND, ...TOO_MANY, ...INTERNAL },
  },
  'apiKeys.create': {
    call: (sdk) => sdk.apiKeys.create({ requestBody: { name: 'made-by-sdk' } }),
    typed: { ...BAD_REQUEST, ...UNAUTHORIZED, ...FORBIDDEN, ...TOO_MANY, ...INTERNAL },
  },
  'apiKeys.update': {
    call: (sdk, { hash }) => sdk.apiKeys.update({ hash, requestBody: { name: 'renamed' } }),
    typed: { ...BAD_REQUEST, ...UNAUTHORIZED, ...NOT_FOUND, ...TOO_MANY, ...INTERNAL },
  },
  'apiKeys.delete': {
    call: (sdk, { hash }) => sdk.apiKeys.delete({ hash }),
    typed: { ...UNAUTHORIZED, ...NOT_FOUND, ...TOO_MANY, ...INTERNAL },
  },
  'apiKeys.getCurrentKeyMetadata': {
    call: (sdk) => sdk.apiKeys.getCurrentKeyMetadata(),
    typed: { ...UNAUTHORIZED, ...INTERNAL },
  },
  'workspaces.list': {
    call: (sdk) => sdk.workspaces.list(),
    typed: { ...UNAUTHORIZED, ...INTERNAL },
  },
  'guardrails.listKeyAssignments': {
    call: (sdk) => sdk.guardrails.listKeyAssignments(),
    typed: { ...UNAUTHORIZED, ...INTERNAL },
  },
  'guardrails.listGuardrailKeyAssignments': {
    call: (sdk, { guardrailId }) => sdk.guardrails.listGuardrailKeyAssignments({ id: guardrailId }),
    typed: { ...UNAUTHORIZED, ...NOT_FOUND, ...INTERNAL },
  },
  'guardrails.bulkAssignKeys': {
    call: (sdk, { hash, guardrailId }) =>
      sdk.guardrails.bulkAssignKeys({
        id: guardrailId,
        bulkAssignKeysRequest: { keyHashes: [hash] },
      }),
    typed: { ...BAD_REQUEST, ...UNAUTHORIZED, ...FORBIDDEN, ...NOT_FOUND, ...INTERNAL },
  },
  'guardrails.bulkUnassignKeys': {
    call: (sdk, { hash, guardrailId }) =>
      sdk.guardrails.bulkUnassignKeys({
        id: guardrailId,
        bulkUnassignKeysRequest: { keyHashes: [hash] },
      }),
    typed: { ...BAD_REQUEST, ...UNAUTHORIZED, ...NOT_FOUND, ...INTERNAL },
  },
}
const operationNames = Object.keys(operations)

/** Every status an injected fault plays in the vendor's own error body. */
const STATUSES = [400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503, 504]

/** A key and a guardrail in `emulator` for the operations to act on. */
function targetsIn(emulator: OpenRouterEmulator): Ids {
  return {
    hash: emulator.control.seedKey({ name: 'target' }).id,
    guardrailId: emulator.control.seedGuardrail().id,
  }
}

/** Calls one of `operations` through `sdk`. */
function callOperation(operation: string, sdk: OpenRouter, ids: Ids): Promise<unknown> {
  const entry = operations[operation]
  if (entry === undefined) throw new Error(`no such operation: ${operation}`)
  return entry.call(sdk, ids)
}

/** The class the SDK should throw for `status` from `operation`. */
function expectedClass(operation: string, status: number): ErrorClass {
  return operations[operation]?.typed[status] ?? errors.OpenRouterDefaultError
}

/** Runs `promise`, which must fail, and returns what it threw. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  if (!('error' in outcome)) throw new Error('the call succeeded; it should have failed')
  return outcome.error
}

/** Checks a thrown error: its class, its status, and the vendor's message parsed or kept. */
function expectError(error: unknown, expected: ErrorClass, status: number, message: string) {
  expect(error).toBeInstanceOf(expected)
  const thrown = error as errors.OpenRouterError
  expect(thrown.statusCode).toBe(status)
  if (expected === errors.OpenRouterDefaultError) {
    // Not declared for this operation: the SDK keeps the body as text.
    expect(JSON.parse(thrown.body)).toEqual({ error: { code: status, message } })
  } else {
    // Declared: the SDK parsed the body into the class's `error` field.
    expect((thrown as unknown as { error: unknown }).error).toEqual({ code: status, message })
    expect(thrown.message).toBe(message)
  }
}

describe('injected faults: every status, every operation', () => {
  let emulator: OpenRouterEmulator
  let ids: Ids
  let sdk: OpenRouter

  beforeAll(async () => {
    emulator = await startEmulatorForSdk()
    ids = targetsIn(emulator)
    sdk = sdkFor(emulator)
  })
  afterEach(() => emulator.clearFaults())
  afterAll(async () => {
    await emulator.close()
  })

  const cases = operationNames.flatMap((operation) =>
    STATUSES.map((status) => ({
      operation,
      status,
      className: expectedClass(operation, status).name,
    })),
  )
  it.each(cases)('$operation answered $status: $className', async ({ operation, status }) => {
    const before = emulator.requests.length
    emulator.inject({ status })
    const error = await failure(callOperation(operation, sdk, ids))
    expectError(error, expectedClass(operation, status), status, 'Injected fault')
    // One request: with retries off the SDK does not try again, and it sent nothing else.
    expect(emulator.requests).toHaveLength(before + 1)
  })

  it('keeps the Retry-After of an injected 429', async () => {
    emulator.inject({ status: 429, retryAfter: 7 })
    const error = await failure(sdk.apiKeys.list())
    expectError(error, errors.TooManyRequestsResponseError, 429, 'Injected fault')
    expect((error as errors.OpenRouterError).headers.get('retry-after')).toBe('7')
  })

  it("retries an injected 503 with the SDK's own backoff, then reads the answer", async () => {
    const retrying = sdkFor(emulator)
    emulator.inject({ status: 503, times: 2 })
    const before = emulator.requests.length
    const page = await retrying.apiKeys.list(
      {},
      {
        retries: {
          strategy: 'backoff',
          backoff: { initialInterval: 1, maxInterval: 2, exponent: 1, maxElapsedTime: 30_000 },
        },
      },
    )
    expect(page.data.map((key) => key.hash)).toContain(ids.hash)
    expect(emulator.requests).toHaveLength(before + 3)
  })

  it('a dropped connection is a ConnectionError, before or after the vendor acted', async () => {
    emulator.inject({ drop: 'before' })
    expect(await failure(sdk.apiKeys.get({ hash: ids.hash }))).toBeInstanceOf(
      errors.ConnectionError,
    )
    const keysBefore = emulator.control.keyIds().length
    emulator.inject({ drop: 'after' })
    expect(
      await failure(sdk.apiKeys.create({ requestBody: { name: 'lost-answer' } })),
    ).toBeInstanceOf(errors.ConnectionError)
    await emulator.idle()
    // The vendor made the key: the caller cannot tell, which is why keyway reconciles.
    expect(emulator.control.keyIds()).toHaveLength(keysBefore + 1)
  })

  it('a 200 whose body is not JSON fails as a SyntaxError, not a typed SDK error', async () => {
    // The SDK parses JSON before its schemas run, so no class of its own reports this.
    emulator.inject({ malformed: true })
    const error = await failure(sdk.apiKeys.list())
    expect(error).toBeInstanceOf(SyntaxError)
    expect(error).not.toBeInstanceOf(errors.OpenRouterError)
  })
})

describe("the emulator's own errors", () => {
  let emulator: OpenRouterEmulator
  let ids: Ids
  let sdk: OpenRouter

  beforeEach(async () => {
    emulator = await startEmulatorForSdk()
    ids = targetsIn(emulator)
    sdk = sdkFor(emulator)
  })
  afterEach(async () => {
    await emulator.close()
  })

  it.each(operationNames)('%s with no credential: 401', async (operation) => {
    const error = await failure(callOperation(operation, sdkFor(emulator, null), ids))
    expectError(error, expectedClass(operation, 401), 401, 'No auth credentials found')
    expect(emulator.requests.at(-1)?.credentialDigest).toBeUndefined()
  })

  it.each(operationNames)('%s with an unknown key: 401', async (operation) => {
    const stranger = `sk-or-v1-${'0'.repeat(64)}`
    const error = await failure(callOperation(operation, sdkFor(emulator, stranger), ids))
    expectError(error, expectedClass(operation, 401), 401, 'User not found.')
  })

  it.each([
    ['a disabled key', { disabled: true }],
    ['an expired key', { expiresAt: new Date(Date.now() - 60_000) }],
  ])('GET /key with %s: 401', async (_name, input) => {
    const { secret } = emulator.control.seedKey({ name: 'unusable', ...input })
    const error = await failure(sdkFor(emulator, secret).apiKeys.getCurrentKeyMetadata())
    expectError(error, errors.UnauthorizedResponseError, 401, 'User not found.')
  })

  const managementOnly = operationNames.filter(
    (operation) => operation !== 'apiKeys.getCurrentKeyMetadata',
  )
  it.each(managementOnly)('%s with an ordinary key: 403', async (operation) => {
    const ordinary = emulator.control.seedKey({ name: 'ordinary' }).secret
    const error = await failure(callOperation(operation, sdkFor(emulator, ordinary), ids))
    expectError(
      error,
      expectedClass(operation, 403),
      403,
      'Only management keys can perform this operation',
    )
  })

  const keyOperations = ['apiKeys.get', 'apiKeys.update', 'apiKeys.delete']
  it.each(keyOperations)('%s of an unknown hash: 404', async (operation) => {
    const unknown = { ...ids, hash: 'f'.repeat(64) }
    const error = await failure(callOperation(operation, sdk, unknown))
    expectError(error, errors.NotFoundResponseError, 404, 'Key not found')
  })

  it('deletes once; the second delete of the same key is 404', async () => {
    await sdk.apiKeys.delete({ hash: ids.hash })
    const error = await failure(sdk.apiKeys.delete({ hash: ids.hash }))
    expectError(error, errors.NotFoundResponseError, 404, 'Key not found')
  })

  const guardrailOperations = [
    'guardrails.listGuardrailKeyAssignments',
    'guardrails.bulkAssignKeys',
    'guardrails.bulkUnassignKeys',
  ]
  it.each(guardrailOperations)('%s of an unknown guardrail: 404', async (operation) => {
    const unknown = { ...ids, guardrailId: '99999999-9999-4999-8999-999999999999' }
    const error = await failure(callOperation(operation, sdk, unknown))
    expectError(error, errors.NotFoundResponseError, 404, 'Guardrail not found')
  })

  it.each([
    [
      'apiKeys.create with an empty name',
      () => sdk.apiKeys.create({ requestBody: { name: '' } }),
      'name: Required',
    ],
    [
      'apiKeys.create with a past expiry',
      () =>
        sdk.apiKeys.create({
          requestBody: { name: 'late', expiresAt: new Date(Date.UTC(2001, 0, 1)) },
        }),
      'expires_at: must be in the future',
    ],
    [
      'apiKeys.create in an unknown workspace',
      () =>
        sdk.apiKeys.create({
          requestBody: { name: 'lost', workspaceId: '99999999-9999-4999-8999-999999999999' },
        }),
      'workspace_id: Workspace not found',
    ],
    [
      'apiKeys.create with a short partner key',
      () =>
        sdk.apiKeys.create({
          requestBody: { name: 'p', external: { user: 'u', apiKey: 'short' } },
        }),
      'external.api_key: must be at least 32 characters',
    ],
    [
      'apiKeys.list of a workspace id that is not a uuid',
      () => sdk.apiKeys.list({ workspaceId: 'not-a-uuid' }),
      'workspace_id: Invalid uuid',
    ],
    [
      'apiKeys.list from a negative offset',
      () => sdk.apiKeys.list({ offset: -1 }),
      'offset must be a non-negative integer',
    ],
    [
      'apiKeys.update with an empty name',
      () => sdk.apiKeys.update({ hash: ids.hash, requestBody: { name: '' } }),
      'name: must be a non-empty string',
    ],
    [
      'apiKeys.update with an unknown limit reset',
      () =>
        sdk.apiKeys.update({ hash: ids.hash, requestBody: { limitReset: unrecognized('hourly') } }),
      'limit_reset: must be one of daily, weekly, monthly or null',
    ],
    [
      'guardrails.bulkAssignKeys with no key hashes',
      () =>
        sdk.guardrails.bulkAssignKeys({
          id: ids.guardrailId,
          bulkAssignKeysRequest: { keyHashes: [] },
        }),
      'key_hashes: must be a non-empty array of key hashes',
    ],
    [
      'guardrails.bulkUnassignKeys with no key hashes',
      () =>
        sdk.guardrails.bulkUnassignKeys({
          id: ids.guardrailId,
          bulkUnassignKeysRequest: { keyHashes: [] },
        }),
      'key_hashes: must be a non-empty array of key hashes',
    ],
  ] as const)('%s: 400, a BadRequestResponseError', async (_name, call, message) => {
    expectError(await failure(call()), errors.BadRequestResponseError, 400, message)
  })

  // These operations declare no 400: the SDK keeps the body of one as text.
  it.each([
    ['workspaces.list', () => sdk.workspaces.list({ limit: 101 })],
    ['guardrails.listKeyAssignments', () => sdk.guardrails.listKeyAssignments({ limit: 0 })],
    [
      'guardrails.listGuardrailKeyAssignments',
      () => sdk.guardrails.listGuardrailKeyAssignments({ id: ids.guardrailId, limit: 101 }),
    ],
  ] as const)('%s beyond its page limits: 400, an OpenRouterDefaultError', async (_name, call) => {
    const error = await failure(call())
    const limitMessage = /offset must be|limit must be an integer from 1 to 100/
    expect(error).toBeInstanceOf(errors.OpenRouterDefaultError)
    expect((error as errors.OpenRouterError).statusCode).toBe(400)
    expect(JSON.parse((error as errors.OpenRouterError).body)).toEqual({
      error: { code: 400, message: expect.stringMatching(limitMessage) },
    })
  })
})

describe("the emulator's own rate limit", () => {
  let emulator: OpenRouterEmulator

  beforeEach(async () => {
    // A clock that never moves: the window cannot run out while the test is busy.
    const now = Date.now()
    emulator = await startEmulatorForSdk({
      rateLimit: {
        read: { requests: 1, windowMs: 60_000 },
        write: { requests: 1, windowMs: 60_000 },
      },
      now: () => now,
    })
  })
  afterEach(async () => {
    await emulator.close()
  })

  it.each(
    operationNames.filter(
      (operation) => expectedClass(operation, 429) !== errors.OpenRouterDefaultError,
    ),
  )('%s over the limit: 429 with Retry-After', async (operation) => {
    const sdk = sdkFor(emulator)
    const ids = targetsIn(emulator)
    // Spend the window of both kinds of request, then make the call under test.
    await sdk.apiKeys.get({ hash: ids.hash })
    await sdk.apiKeys.update({ hash: ids.hash, requestBody: { name: 'spent' } })
    const error = await failure(callOperation(operation, sdk, ids))
    expectError(error, errors.TooManyRequestsResponseError, 429, 'Rate limit exceeded')
    expect((error as errors.OpenRouterError).headers.get('retry-after')).toBe('60')
  })

  it('an operation that declares no 429 keeps the body as text', async () => {
    const sdk = sdkFor(emulator)
    await sdk.workspaces.list()
    const error = await failure(sdk.workspaces.list())
    expect(error).toBeInstanceOf(errors.OpenRouterDefaultError)
    expect((error as errors.OpenRouterError).statusCode).toBe(429)
    expect(JSON.parse((error as errors.OpenRouterError).body)).toEqual({
      error: { code: 429, message: 'Rate limit exceeded' },
    })
  })
})
