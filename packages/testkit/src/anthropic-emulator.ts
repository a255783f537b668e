import { bearer, isoNow, isPlainObject, matchPath, randomAlphanumeric } from './emulator-helpers.js'
import type { EmulatedRequest, EmulatedResponse, VendorHandler } from './http-server.js'
import { INVALID_JSON } from './http-server.js'
import type { RequestLimiter } from './rate-limiter.js'
import type { EmulatorControl, SeedKeyInput } from './types.js'

/** Anthropic's list page size: `limit` defaults to 20 and takes 1 to 1000. */
export const ANTHROPIC_LIST_LIMIT = { default: 20, max: 1000 } as const

/** Every status an Anthropic API key can have; `archived` is final, `expired` set by its expiry. */
export type AnthropicKeyStatus = 'active' | 'inactive' | 'archived' | 'expired'

const LIST_PATH = '/v1/organizations/api_keys'
const API_KEY_PREFIX = 'sk-ant-api03-'
const ADMIN_KEY_PREFIX = 'sk-ant-admin01-'
const WORKSPACE_ID = 'wrkspc_01emulatedworkspace0001'
const USER_ID = 'user_01emulatedowner00000001'

/** The error `type` Anthropic names for each status. */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
}

/** `{type: "error", error: {type, message}}`, Anthropic's one error shape. */
function errorResponse(status: number, message: string): EmulatedResponse {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
  return { status, body: { type: 'error', error: { type, message } } }
}

interface KeyRecord {
  id: string
  name: string
  secret: string
  /** As set: `expired` is derived from `expiresAt`, never stored. */
  status: 'active' | 'inactive' | 'archived'
  createdAt: string
  expiresAt: string | null
  /** `null`: the key belongs to the organization, not a workspace. */
  workspaceId: string | null
}

/** What `seedKey` takes at Anthropic, beyond the shared fields. */
export interface AnthropicSeedKeyInput extends SeedKeyInput {
  /** Default `'active'` (`'inactive'` with `disabled`). */
  status?: 'active' | 'inactive' | 'archived'
  /** When the key expires; a past time makes it `expired`. Default: never. */
  expiresAt?: Date
  /** The key's workspace; `null` for an organization-scoped key. Default: one workspace. */
  workspaceId?: string | null
}

/** The Anthropic emulator's controls: seeding takes a status, an expiry and a workspace. */
export interface AnthropicEmulatorControl extends EmulatorControl {
  seedKey(input?: AnthropicSeedKeyInput): { id: string; secret: string }
}

/**
 * Anthropic's Admin API for API keys (VENDORS.md, "Beyond the first four"): list by cursor,
 * get, and update of name and status. Keys are made in the console, so there is no create and
 * no delete: keys are seeded through the controls. Takes the admin key as `x-api-key` or as
 * `Authorization: Bearer` (the official SDK's way), and requires `anthropic-version`.
 */
export function createAnthropicEmulator(url: string, limiter: RequestLimiter, seedKeys: number) {
  const keys: KeyRecord[] = []
  const adminKey = `${ADMIN_KEY_PREFIX}${randomAlphanumeric(80)}AA`
  let clock = -seedKeys - 2

  const addKey = (input: AnthropicSeedKeyInput = {}): KeyRecord => {
    const createdAt =
      input.createdAt?.toISOString() ?? isoNow(clock < 0 ? clock++ * 1000 : keys.length)
    if (input.id !== undefined && keys.some((record) => record.id === input.id)) {
      throw new RangeError('seedKey: id already taken')
    }
    const record: KeyRecord = {
      id: input.id ?? `apikey_01${randomAlphanumeric(22)}`,
      name: input.name ?? 'seeded',
      secret: `${API_KEY_PREFIX}${randomAlphanumeric(91)}AA`,
      status: input.status ?? (input.disabled === true ? 'inactive' : 'active'),
      createdAt,
      expiresAt: input.expiresAt?.toISOString() ?? null,
      workspaceId: input.workspaceId === undefined ? WORKSPACE_ID : input.workspaceId,
    }
    keys.push(record)
    return record
  }
  for (let index = 1; index <= seedKeys; index++) addKey({ name: `seed-key-${index}` })

  const statusOf = (record: KeyRecord): AnthropicKeyStatus => {
    if (record.status === 'archived') return 'archived'
    const expires = record.expiresAt === null ? null : Date.parse(record.expiresAt)
    return expires !== null && expires <= Date.now() ? 'expired' : record.status
  }

  const toKey = (record: KeyRecord) => ({
    id: record.id,
    type: 'api_key',
    name: record.name,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    status: statusOf(record),
    partial_key_hint: `${API_KEY_PREFIX}${record.secret.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + 3)}...${record.secret.slice(-4)}`,
    scope:
      record.workspaceId === null
        ? { type: 'organization' }
        : { type: 'workspace', workspace_id: record.workspaceId },
    created_by: { id: USER_ID, type: 'user' },
    principal: { type: 'user_actor', user_id: USER_ID },
  })

  const authenticate = (headers: Record<string, string>): string | EmulatedResponse => {
    const given = headers['x-api-key'] ?? bearer(headers)
    if (given === undefined) return errorResponse(401, 'x-api-key header is required')
    if (given === adminKey) return given
    // A working API key is a real credential, but not one that may manage keys.
    if (keys.some((record) => record.secret === given && statusOf(record) === 'active')) {
      return errorResponse(403, 'This endpoint requires an admin API key')
    }
    return errorResponse(401, 'invalid x-api-key')
  }

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    if (request.headers['anthropic-version'] === undefined) {
      return errorResponse(400, 'anthropic-version: header is required')
    }
    const caller = authenticate(request.headers)
    if (typeof caller !== 'string') return caller
    const wait = limiter.take(caller, request.method)
    if (wait !== undefined) {
      const response = errorResponse(429, 'Number of request tokens has exceeded your rate limit')
      return { ...response, headers: { 'retry-after': String(Math.ceil(wait / 1000)) } }
    }
    if (request.path === LIST_PATH) {
      if (request.method === 'GET') return list(request.query)
      return errorResponse(405, `Method ${request.method} not allowed`)
    }
    const params = matchPath(`${LIST_PATH}/:id`, request.path)
    if (params === undefined) return errorResponse(404, 'Not found')
    const record = keys.find((candidate) => candidate.id === params.id)
    if (record === undefined) return errorResponse(404, `API key ${params.id} not found`)
    if (request.method === 'GET') return { status: 200, body: toKey(record) }
    if (request.method === 'POST') return update(record, request.body)
    return errorResponse(405, `Method ${request.method} not allowed`)
  }

  const list = (query: URLSearchParams): EmulatedResponse => {
    const limitText = query.get('limit') ?? String(ANTHROPIC_LIST_LIMIT.default)
    const limit = Number(limitText)
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > ANTHROPIC_LIST_LIMIT.max) {
      return errorResponse(400, `limit: must be an integer from 1 to ${ANTHROPIC_LIST_LIMIT.max}`)
    }
    const afterId = query.get('after_id')
    const beforeId = query.get('before_id')
    if (afterId !== null && beforeId !== null) {
      return errorResponse(400, 'before_id and after_id cannot be given together')
    }
    const status = query.get('status')
    if (status !== null && !['active', 'inactive', 'archived', 'expired'].includes(status)) {
      return errorResponse(400, 'status: must be one of active, inactive, archived, expired')
    }
    const workspaceId = query.get('workspace_id')
    const createdBy = query.get('created_by_user_id')
    // Newest first; ties keep the order the keys were made in, newest first too.
    const all = keys
      .map((record, index) => ({ record, index }))
      .sort(
        (left, right) =>
          Date.parse(right.record.createdAt) - Date.parse(left.record.createdAt) ||
          right.index - left.index,
      )
      .map(({ record }) => record)
      .filter(
        (record) =>
          (status === null || statusOf(record) === status) &&
          (workspaceId === null || record.workspaceId === workspaceId) &&
          (createdBy === null || createdBy === USER_ID),
      )
    const cursor = afterId ?? beforeId
    const at = cursor === null ? -1 : all.findIndex((record) => record.id === cursor)
    if (cursor !== null && at === -1) {
      return errorResponse(400, `${afterId === null ? 'before_id' : 'after_id'}: no such key`)
    }
    // after_id: the page after the cursor; before_id: the page just before it.
    const start = beforeId === null ? at + 1 : Math.max(0, at - limit)
    const end = beforeId === null ? start + limit : at
    const page = all.slice(start, end)
    const hasMore = beforeId === null ? end < all.length : start > 0
    return {
      status: 200,
      body: {
        data: page.map(toKey),
        has_more: hasMore,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
      },
    }
  }

  const update = (record: KeyRecord, body: unknown): EmulatedResponse => {
    if (body === INVALID_JSON || !isPlainObject(body)) {
      return errorResponse(400, 'The request body is not valid JSON')
    }
    const extra = Object.keys(body).filter((field) => field !== 'name' && field !== 'status')
    if (extra.length > 0) return errorResponse(400, `${extra[0]}: Extra inputs are not permitted`)
    const { name, status } = body
    if (name !== undefined && name !== null) {
      if (typeof name !== 'string' || name.trim() === '' || name.length > 500) {
        return errorResponse(400, 'name: must be a string of 1 to 500 characters')
      }
    }
    if (status !== undefined && status !== null) {
      if (status !== 'active' && status !== 'inactive' && status !== 'archived') {
        return errorResponse(400, 'status: must be one of active, inactive, archived')
      }
    }
    const current = statusOf(record)
    if (current === 'archived') return errorResponse(400, 'An archived API key cannot be changed')
    if (current === 'expired' && (status === 'active' || status === 'inactive')) {
      return errorResponse(400, `An expired API key cannot be made ${status}`)
    }
    if (typeof name === 'string') record.name = name
    if (status === 'active' || status === 'inactive' || status === 'archived') {
      record.status = status
    }
    return { status: 200, body: toKey(record) }
  }

  const bySecret = (secret: string) => keys.find((record) => record.secret === secret)
  const control: AnthropicEmulatorControl = {
    seedKey: (input = {}) => {
      const record = addKey(input)
      return { id: record.id, secret: record.secret }
    },
    keyIds: () => keys.map((record) => record.id),
    works: (secret) => {
      if (secret === adminKey) return true
      const record = bySecret(secret)
      return record !== undefined && statusOf(record) === 'active'
    },
    keyAttributes: (secret) => {
      const record = bySecret(secret)
      return record === undefined
        ? undefined
        : { name: record.name, status: record.status, workspace_id: record.workspaceId }
    },
    expireTokens: () => {},
  }

  const handler: VendorHandler = {
    handle,
    errorResponse,
    credentialHeaders: ['authorization', 'x-api-key'],
  }
  return { handler, control, settings: { baseUrl: url, adminKey } }
}
