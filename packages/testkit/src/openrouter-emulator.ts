import { bearer, isPlainObject, matchPath, randomHex, sha256Hex } from './emulator-helpers.js'
import type { EmulatedRequest, EmulatedResponse, VendorHandler } from './http-server.js'
import { INVALID_JSON } from './http-server.js'
import { OpenRouterGuardrails } from './openrouter-guardrails.js'
import { UUID_PATTERN } from './openrouter-paging.js'
import { OpenRouterWorkspaces } from './openrouter-workspaces.js'
import type { RequestLimiter } from './rate-limiter.js'
import type { EmulatorControl } from './types.js'

/** OpenRouter lists keys in fixed pages of this many. */
export const OPENROUTER_PAGE_SIZE = 100

const BASE_PATH = '/api/v1'
const LIMIT_RESETS = ['daily', 'weekly', 'monthly']
const WORKSPACE_ID = '00000000-0000-4000-8000-000000000001'
const USER_ID = 'user_emulated'

interface KeyRecord {
  secret: string
  hash: string
  name: string
  disabled: boolean
  limit: number | null
  limitReset: string | null
  includeByokInLimit: boolean
  createdAt: string
  updatedAt: string | null
  expiresAt: string | null
  workspaceId: string
  /** Who made the key: the caller's user, or the member named at create. */
  creatorUserId: string | null
  /** The partner's end user named at create (`external.user`). */
  externalUser: string | null
  /** USD spent: over the key's life, and in the current day, week and month. */
  usage: { total: number; daily: number; weekly: number; monthly: number }
}

/** The OpenRouter emulator's controls: keys, plus workspaces and guardrails. */
export interface OpenRouterEmulatorControl extends EmulatorControl {
  /** The id of the default workspace, where keys go unless told otherwise. */
  readonly defaultWorkspaceId: string
  /** Adds a key as if made in the dashboard, optionally in a workspace and with a guardrail. */
  seedKey(input?: {
    /** The key's id (its hash), 64 hex digits; see `SeedKeyInput.id`. */
    id?: string
    name?: string
    disabled?: boolean
    type?: string
    workspaceId?: string
    guardrailId?: string
    createdAt?: Date
    /** Spending limit in USD, and when it resets. */
    limit?: number | null
    limitReset?: 'daily' | 'weekly' | 'monthly' | null
    /** May be in the past: an expired key. */
    expiresAt?: Date | null
  }): { id: string; secret: string }
  /** Records `usd` spent by a key now: it counts in its usage of the day, week and month. */
  spend(id: string, usd: number): void
  /** Adds a workspace besides the default one; returns its id. */
  seedWorkspace(input?: { name?: string; slug?: string }): { id: string }
  /** Adds a guardrail that keys can be assigned to; returns its id. */
  seedGuardrail(input?: { name?: string }): { id: string }
}

export interface OpenRouterEmulatorState {
  handler: VendorHandler
  control: OpenRouterEmulatorControl
  settings: { baseUrl: string; managementKey: string }
}

/** `sk-or-v1-` and 64 hex, OpenRouter's key format. */
export function openRouterSecret(): string {
  return `sk-or-v1-${randomHex(64)}`
}

/** OpenRouter's key-management API (VENDORS.md), held in memory. */
export function createOpenRouterEmulator(
  url: string,
  limiter: RequestLimiter,
  seedKeys: number,
  now: () => number = () => Date.now(),
): OpenRouterEmulatorState {
  const isoNow = (offsetMs = 0) => new Date(now() + offsetMs).toISOString()
  const managementKey = openRouterSecret()
  const keys = new Map<string, KeyRecord>()
  const workspaces = new OpenRouterWorkspaces(WORKSPACE_ID, USER_ID)
  const guardrails = new OpenRouterGuardrails(USER_ID, (hash) => {
    const record = keys.get(hash)
    return record === undefined ? undefined : { name: record.name, label: label(record.secret) }
  })
  let clock = -seedKeys - 1

  const addKey = (input: Partial<KeyRecord> & { name: string }): KeyRecord => {
    const secret = openRouterSecret()
    // Seeded keys are older than keys made through the API, one second apart.
    const createdAt = isoNow(clock < 0 ? clock++ * 1000 : 0)
    const record: KeyRecord = {
      secret,
      hash: sha256Hex(secret),
      disabled: false,
      limit: null,
      limitReset: null,
      includeByokInLimit: false,
      createdAt,
      updatedAt: null,
      expiresAt: null,
      workspaceId: WORKSPACE_ID,
      creatorUserId: USER_ID,
      externalUser: null,
      usage: { total: 0, daily: 0, weekly: 0, monthly: 0 },
      ...input,
    }
    keys.set(record.hash, record)
    return record
  }
  for (let index = 1; index <= seedKeys; index++) addKey({ name: `seed-key-${index}` })

  const error = (status: number, message: string): EmulatedResponse => ({
    status,
    body: { error: { code: status, message } },
  })

  const usable = (record: KeyRecord | undefined) =>
    record !== undefined &&
    !record.disabled &&
    (record.expiresAt === null || Date.parse(record.expiresAt) > now())

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    if (!request.path.startsWith(`${BASE_PATH}/`)) return error(404, 'Not Found')
    const path = request.path.slice(BASE_PATH.length)
    const token = bearer(request.headers)
    if (token === undefined) return error(401, 'No auth credentials found')
    const caller = token === managementKey ? undefined : findBySecret(token)
    if (token !== managementKey && !usable(caller)) return error(401, 'User not found.')

    const wait = limiter.take(token, request.method)
    if (wait !== undefined) {
      return {
        ...error(429, 'Rate limit exceeded'),
        headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
      }
    }

    if (path === '/key' && request.method === 'GET') return currentKey(caller)
    if (token !== managementKey)
      return error(403, 'Only management keys can perform this operation')

    if (path === '/workspaces') {
      if (request.method === 'GET') return workspaces.list(request.query, error)
      return error(405, 'Method Not Allowed')
    }
    const guardrailAnswer = guardrails.handle(request, path, error)
    if (guardrailAnswer !== undefined) return guardrailAnswer

    if (path === '/keys') {
      if (request.method === 'GET') return list(request.query)
      if (request.method === 'POST') return create(request.body)
      return error(405, 'Method Not Allowed')
    }
    const params = matchPath('/keys/:hash', path)
    if (params === undefined) return error(404, 'Not Found')
    const record = keys.get(params.hash as string)
    if (record === undefined) return error(404, 'Key not found')
    if (request.method === 'GET') return { status: 200, body: { data: toKey(record) } }
    if (request.method === 'PATCH') return update(record, request.body)
    if (request.method === 'DELETE') {
      keys.delete(record.hash)
      guardrails.forget(record.hash)
      return { status: 200, body: { deleted: true } }
    }
    return error(405, 'Method Not Allowed')
  }

  // A seeded key may carry a chosen id (not its secret's hash): looked for by its secret then.
  const findBySecret = (secret: string) => {
    const hashed = keys.get(sha256Hex(secret))
    if (hashed?.secret === secret) return hashed
    return [...keys.values()].find((record) => record.secret === secret)
  }

  const list = (query: URLSearchParams): EmulatedResponse => {
    const offsetText = query.get('offset') ?? '0'
    const offset = Number(offsetText)
    if (!Number.isInteger(offset) || offset < 0)
      return error(400, 'offset must be a non-negative integer')
    const includeDisabled = query.get('include_disabled') === 'true'
    // Without workspace_id, only the default workspace's keys.
    const workspaceId = query.get('workspace_id') ?? WORKSPACE_ID
    const problem = workspaceProblem(workspaceId)
    if (problem) return error(400, problem)
    const all = [...keys.values()]
      .filter((record) => record.workspaceId === workspaceId)
      .filter((record) => includeDisabled || !record.disabled)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    return {
      status: 200,
      body: { data: all.slice(offset, offset + OPENROUTER_PAGE_SIZE).map(toKey) },
    }
  }

  const create = (body: unknown): EmulatedResponse => {
    if (body === INVALID_JSON || !isPlainObject(body)) return error(400, 'Invalid JSON body')
    if (typeof body.name !== 'string' || body.name.length < 1) return error(400, 'name: Required')
    const problem = checkLimitFields(body)
    if (problem) return error(400, problem)
    let expiresAt: string | null = null
    if (body.expires_at !== undefined && body.expires_at !== null) {
      if (typeof body.expires_at !== 'string' || !/(Z|[+-]00:00)$/.test(body.expires_at)) {
        return error(400, 'expires_at: must be an ISO 8601 timestamp in UTC')
      }
      const time = Date.parse(body.expires_at)
      if (Number.isNaN(time)) return error(400, 'expires_at: must be an ISO 8601 timestamp in UTC')
      if (time <= now()) return error(400, 'expires_at: must be in the future')
      expiresAt = new Date(time).toISOString()
    }
    if (body.workspace_id !== undefined) {
      const workspaceProblemText = workspaceProblem(body.workspace_id)
      if (workspaceProblemText) return error(400, workspaceProblemText)
    }
    const creatorProblem = checkCreatorFields(body)
    if (creatorProblem) return error(400, creatorProblem)
    const record = addKey({
      name: body.name,
      workspaceId: (body.workspace_id as string | undefined) ?? WORKSPACE_ID,
      limit: (body.limit as number | null | undefined) ?? null,
      limitReset: (body.limit_reset as string | null | undefined) ?? null,
      includeByokInLimit: (body.include_byok_in_limit as boolean | undefined) ?? false,
      expiresAt,
      creatorUserId: (body.creator_user_id as string | null | undefined) ?? USER_ID,
      // The partner's own api_key is checked, then forgotten: OpenRouter never returns it.
      externalUser: (body.external as { user: string } | undefined)?.user ?? null,
    })
    return { status: 201, body: { data: toKey(record), key: record.secret } }
  }

  const update = (record: KeyRecord, body: unknown): EmulatedResponse => {
    if (body === INVALID_JSON || !isPlainObject(body)) return error(400, 'Invalid JSON body')
    if (body.expires_at !== undefined) return error(400, 'expires_at: cannot be updated')
    if (body.name !== undefined && (typeof body.name !== 'string' || body.name.length < 1)) {
      return error(400, 'name: must be a non-empty string')
    }
    if (body.disabled !== undefined && typeof body.disabled !== 'boolean') {
      return error(400, 'disabled: must be a boolean')
    }
    const problem = checkLimitFields(body)
    if (problem) return error(400, problem)
    if (typeof body.name === 'string') record.name = body.name
    if (typeof body.disabled === 'boolean') record.disabled = body.disabled
    if (body.limit !== undefined) record.limit = body.limit as number | null
    if (body.limit_reset !== undefined) record.limitReset = body.limit_reset as string | null
    if (body.include_byok_in_limit !== undefined)
      record.includeByokInLimit = body.include_byok_in_limit as boolean
    record.updatedAt = isoNow()
    return { status: 200, body: { data: toKey(record) } }
  }

  // `GET /key`: every field VENDORS.md and the SDK's schema (spec) both require; they agree.
  const currentKey = (caller: KeyRecord | undefined): EmulatedResponse => ({
    status: 200,
    body: {
      data: {
        label: caller ? label(caller.secret) : label(managementKey),
        limit: caller?.limit ?? null,
        limit_remaining: caller === undefined ? null : limitRemaining(caller),
        limit_reset: caller?.limitReset ?? null,
        include_byok_in_limit: caller?.includeByokInLimit ?? false,
        ...usage(caller?.usage),
        is_free_tier: false,
        is_management_key: caller === undefined,
        is_provisioning_key: caller === undefined,
        creator_user_id: caller?.creatorUserId ?? USER_ID,
        organization_id: null,
        workspace_id: caller?.workspaceId ?? WORKSPACE_ID,
        allowed_data_regions: ['global'],
        free_model_daily_requests: { limit: 50, remaining: 50, used: 0 },
        rate_limit: { requests: 20, interval: '10s', note: 'deprecated' },
        ...(caller?.expiresAt ? { expires_at: caller.expiresAt } : {}),
      },
    },
  })

  const workspaceProblem = (id: unknown): string | undefined => {
    if (typeof id !== 'string' || !UUID_PATTERN.test(id)) return 'workspace_id: Invalid uuid'
    return workspaces.has(id) ? undefined : 'workspace_id: Workspace not found'
  }

  const control: OpenRouterEmulatorControl = {
    defaultWorkspaceId: WORKSPACE_ID,
    seedKey: (input = {}) => {
      if (input.workspaceId !== undefined && !workspaces.has(input.workspaceId))
        throw new RangeError('seedKey: no such workspace')
      if (input.guardrailId !== undefined && !guardrails.has(input.guardrailId))
        throw new RangeError('seedKey: no such guardrail')
      if (input.id !== undefined && (!/^[0-9a-f]{64}$/.test(input.id) || keys.has(input.id)))
        throw new RangeError('seedKey: id must be 64 hex digits not yet taken')
      const record = addKey({
        ...(input.id === undefined ? {} : { hash: input.id }),
        name: input.name ?? 'seeded',
        disabled: input.disabled ?? false,
        workspaceId: input.workspaceId ?? WORKSPACE_ID,
        limit: input.limit ?? null,
        limitReset: input.limitReset ?? null,
        expiresAt: input.expiresAt?.toISOString() ?? null,
        ...(input.createdAt === undefined ? {} : { createdAt: input.createdAt.toISOString() }),
      })
      if (input.guardrailId !== undefined) guardrails.assign(input.guardrailId, [record.hash])
      return { id: record.hash, secret: record.secret }
    },
    spend: (id, usd) => {
      const record = keys.get(id)
      if (record === undefined) throw new RangeError('spend: no such key')
      if (!(usd >= 0)) throw new RangeError('spend: usd must be a non-negative number')
      for (const period of ['total', 'daily', 'weekly', 'monthly'] as const) {
        record.usage[period] += usd
      }
    },
    seedWorkspace: (input) => ({ id: workspaces.add(input).id }),
    seedGuardrail: (input) => guardrails.add(input),
    keyIds: () => [...keys.keys()],
    works: (secret) => secret === managementKey || usable(findBySecret(secret)),
    keyAttributes: (secret) => {
      const record = findBySecret(secret)
      if (record === undefined) return undefined
      return {
        name: record.name,
        limit: record.limit,
        limit_reset: record.limitReset,
        include_byok_in_limit: record.includeByokInLimit,
        expires_at: record.expiresAt,
        workspace_id: record.workspaceId,
        guardrail_id: guardrails.guardrailOf(record.hash),
      }
    },
    expireTokens: () => {},
  }

  return {
    handler: {
      handle,
      errorResponse: error,
    },
    control,
    settings: { baseUrl: `${url}${BASE_PATH}`, managementKey },
  }
}

function checkLimitFields(body: Record<string, unknown>): string | undefined {
  if (
    body.limit !== undefined &&
    body.limit !== null &&
    (typeof body.limit !== 'number' || body.limit < 0)
  ) {
    return 'limit: must be a non-negative number or null'
  }
  if (
    body.limit_reset !== undefined &&
    body.limit_reset !== null &&
    !LIMIT_RESETS.includes(body.limit_reset as string)
  ) {
    return 'limit_reset: must be one of daily, weekly, monthly or null'
  }
  if (body.include_byok_in_limit !== undefined && typeof body.include_byok_in_limit !== 'boolean') {
    return 'include_byok_in_limit: must be a boolean'
  }
  return undefined
}

/**
 * `creator_user_id` and `external` of a create. Both are in VENDORS.md and in the SDK's schema
 * (spec); the rules come from the SDK's: a creator id of at least one character, or null; an
 * `external.user` string, and an optional partner `api_key` of at least 32 characters.
 */
function checkCreatorFields(body: Record<string, unknown>): string | undefined {
  const creator = body.creator_user_id
  if (
    creator !== undefined &&
    creator !== null &&
    (typeof creator !== 'string' || creator === '')
  ) {
    return 'creator_user_id: must be a non-empty string or null'
  }
  const external = body.external
  if (external === undefined) return undefined
  if (!isPlainObject(external) || typeof external.user !== 'string' || external.user === '') {
    return 'external.user: Required'
  }
  if (
    external.api_key !== undefined &&
    (typeof external.api_key !== 'string' || external.api_key.length < 32)
  ) {
    return 'external.api_key: must be at least 32 characters'
  }
  return undefined
}

/** OpenRouter's masked preview: `sk-or-v1-abc...123`. */
function label(secret: string): string {
  const hex = secret.slice('sk-or-v1-'.length)
  return `sk-or-v1-${hex.slice(0, 3)}...${hex.slice(-3)}`
}

/** What is left of a key's limit in its current period (its whole life without a reset). */
function limitRemaining(record: KeyRecord): number | null {
  if (record.limit === null) return null
  const period =
    record.limitReset === 'daily' ||
    record.limitReset === 'weekly' ||
    record.limitReset === 'monthly'
      ? record.limitReset
      : 'total'
  return Math.max(0, record.limit - record.usage[period])
}

function usage(spent: KeyRecord['usage'] = { total: 0, daily: 0, weekly: 0, monthly: 0 }) {
  return {
    usage: spent.total,
    usage_daily: spent.daily,
    usage_weekly: spent.weekly,
    usage_monthly: spent.monthly,
    byok_usage: 0,
    byok_usage_daily: 0,
    byok_usage_weekly: 0,
    byok_usage_monthly: 0,
  }
}

/**
 * A key as `/keys` answers it. VENDORS.md and the SDK's schema (1.3.19, generated from the
 * spec) agree on every field: all present, `expires_at` only when the key expires.
 */
function toKey(record: KeyRecord) {
  return {
    hash: record.hash,
    name: record.name,
    label: label(record.secret),
    disabled: record.disabled,
    limit: record.limit,
    limit_remaining: limitRemaining(record),
    limit_reset: record.limitReset,
    include_byok_in_limit: record.includeByokInLimit,
    ...usage(record.usage),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    creator_user_id: record.creatorUserId,
    external_user: record.externalUser,
    workspace_id: record.workspaceId,
    ...(record.expiresAt === null ? {} : { expires_at: record.expiresAt }),
  }
}
