import { bearer, isPlainObject, matchPath, randomHex } from './emulator-helpers.js'
import type { EmulatedRequest, EmulatedResponse, VendorHandler } from './http-server.js'
import { INVALID_JSON } from './http-server.js'
import type { RequestLimiter } from './rate-limiter.js'
import type { EmulatorControl } from './types.js'

const BASE_PATH = '/v1'
const ID_TOKEN_LIFETIME_MS = 3_600_000
const USER_ID = 'emulated-user-0001'

/**
 * NoteDx keeps its list of forbidden metadata words private; these stand in for it.
 * The emulator and the adapter both use this one list.
 */
export const NOTEDX_SENSITIVE_WORDS: readonly string[] = [
  'password',
  'secret',
  'token',
  'key',
  'ssn',
]
export const NOTEDX_METADATA_LIMITS = { keyLength: 50, valueLength: 200 } as const

/**
 * The status NoteDx answers a second sandbox key with: 400 or 409, unconfirmed. 409 here,
 * in this one place.
 */
export const NOTEDX_SECOND_SANDBOX_STATUS = 409

interface KeyRecord {
  key: string
  type: 'sandbox' | 'live'
  status: 'active' | 'inactive'
  deleted: boolean
  createdAt: string
  lastUsed: string | null
  metadata: Record<string, string> | null
}

/** `sb-` or `lk-` and 24 lowercase hex: a NoteDx key. */
export function noteDxKey(type: 'sandbox' | 'live'): string {
  return `${type === 'sandbox' ? 'sb' : 'lk'}-${randomHex(24)}`
}

/** The first sensitive word in a metadata key or value, if any. */
export function sensitiveWordIn(text: string): string | undefined {
  const words = text.toLowerCase().split(/[^a-z]+/)
  return NOTEDX_SENSITIVE_WORDS.find((word) => words.includes(word))
}

/** NoteDx's timestamps: microseconds and an explicit +00:00. */
function noteDxTime(offsetMs = 0): string {
  const iso = new Date(Date.now() + offsetMs).toISOString()
  return `${iso.slice(0, -1)}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}+00:00`
}

export interface NoteDxEmulatorOptions {
  timeScale: number
  /** Send a new refresh token with every refresh. Default `false`. */
  rotateRefreshTokens?: boolean
}

/** NoteDx's login and API-key endpoints (VENDORS.md), held in memory. */
export function createNoteDxEmulator(
  url: string,
  limiter: RequestLimiter,
  seedKeys: number,
  options: NoteDxEmulatorOptions,
) {
  const account = { email: 'owner@example.test', password: `pw-${randomHex(16)}` }
  const idTokens = new Map<string, number>()
  const refreshTokens = new Set<string>()
  const keys: KeyRecord[] = []
  let clock = -seedKeys - 2

  const addKey = (type: 'sandbox' | 'live', metadata: Record<string, string> | null = null) => {
    const record: KeyRecord = {
      key: noteDxKey(type),
      type,
      status: 'active',
      deleted: false,
      createdAt: noteDxTime(clock < 0 ? clock++ * 1000 : 0),
      lastUsed: null,
      metadata: type === 'live' ? (metadata ?? {}) : null,
    }
    keys.push(record)
    return record
  }
  // The sandbox key comes with the account.
  addKey('sandbox')
  for (let index = 1; index <= seedKeys; index++) addKey('live', { purpose: `seed-${index}` })

  const issueTokens = () => {
    const idToken = `emulated-id-token-${randomHex(32)}`
    idTokens.set(idToken, Date.now() + ID_TOKEN_LIFETIME_MS * options.timeScale)
    return idToken
  }
  const issueRefreshToken = () => {
    const token = `emulated-refresh-token-${randomHex(32)}`
    refreshTokens.add(token)
    return token
  }

  const message = (status: number, text: string): EmulatedResponse => ({
    status,
    body: { message: text },
  })
  const find = (apiKey: unknown) => keys.find((record) => record.key === apiKey)

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    if (!request.path.startsWith(`${BASE_PATH}/`)) return message(404, 'Not Found')
    const path = request.path.slice(BASE_PATH.length)
    const body = request.body

    if (path === '/auth/login' && request.method === 'POST') {
      if (
        body === INVALID_JSON ||
        !isPlainObject(body) ||
        typeof body.email !== 'string' ||
        typeof body.password !== 'string'
      ) {
        return message(400, 'Email and password are required')
      }
      if (body.email !== account.email || body.password !== account.password)
        return message(401, 'Invalid credentials')
      return {
        status: 200,
        body: {
          user_id: USER_ID,
          email: account.email,
          requires_password_change: false,
          id_token: issueTokens(),
          refresh_token: issueRefreshToken(),
        },
      }
    }
    if (path === '/auth/refresh' && request.method === 'POST') {
      if (!isPlainObject(body) || typeof body.refresh_token !== 'string')
        return message(400, 'refresh_token is required')
      if (!refreshTokens.has(body.refresh_token)) return message(401, 'Invalid refresh token')
      const rotated = options.rotateRefreshTokens ? issueRefreshToken() : undefined
      if (rotated) refreshTokens.delete(body.refresh_token)
      return {
        status: 200,
        body: {
          id_token: issueTokens(),
          ...(rotated ? { refresh_token: rotated } : {}),
          user_id: USER_ID,
          email: account.email,
        },
      }
    }

    if (!path.startsWith('/user/')) return message(404, 'Not Found')
    const token = bearer(request.headers)
    if (token === undefined) {
      return message(
        401,
        request.headers['x-api-key']
          ? 'API keys are not accepted for this endpoint'
          : 'Missing Authentication Token',
      )
    }
    const expiresAt = idTokens.get(token)
    if (expiresAt === undefined) return message(401, 'Invalid token')
    if (expiresAt <= Date.now()) return message(401, 'Token expired')

    const wait = limiter.take(token, request.method)
    if (wait !== undefined) {
      return {
        ...message(429, 'Too Many Requests'),
        headers: {
          'x-ratelimit-reset': String(Math.ceil((Date.now() + wait) / 1000)),
          'retry-after': String(Math.ceil(wait / 1000)),
        },
      }
    }

    if (path === '/user/list-api-keys' && request.method === 'GET') {
      const unmasked = request.query.get('showFull') === 'true'
      // Sandbox first, then live, each oldest first.
      const ordered = [...keys].sort((a, b) =>
        a.type === b.type ? a.createdAt.localeCompare(b.createdAt) : a.type === 'sandbox' ? -1 : 1,
      )
      return {
        status: 200,
        body: {
          api_keys: ordered.map((record) => ({
            key: unmasked ? record.key : `${'*'.repeat(23)}${record.key.slice(-4)}`,
            type: record.type,
            status: record.status,
            created_at: record.createdAt,
            last_used: record.lastUsed,
            metadata: record.metadata,
          })),
          unmasked,
        },
      }
    }
    if (request.method !== 'POST' && request.method !== 'DELETE')
      return message(405, 'Method Not Allowed')
    if (request.method === 'POST' && (body === INVALID_JSON || !isPlainObject(body)))
      return message(400, 'Invalid request body')
    const input = (isPlainObject(body) ? body : {}) as Record<string, unknown>

    if (path === '/user/create-api-key' && request.method === 'POST') {
      if (input.keyType !== 'sandbox' && input.keyType !== 'live')
        return message(400, 'keyType must be sandbox or live')
      if (input.keyType === 'sandbox') {
        if (input.metadata !== undefined && input.metadata !== null)
          return message(400, 'Metadata is only allowed on live keys')
        if (keys.some((record) => record.type === 'sandbox' && !record.deleted)) {
          return message(
            NOTEDX_SECOND_SANDBOX_STATUS,
            'A sandbox API key already exists for this account',
          )
        }
      }
      const problem = metadataProblem(input.metadata)
      if (problem) return message(400, problem)
      const record = addKey(
        input.keyType,
        (input.metadata as Record<string, string> | null | undefined) ?? null,
      )
      return {
        status: 200,
        body: {
          message: 'API key created successfully',
          api_key: record.key,
          key_type: record.type,
          metadata: record.metadata,
        },
      }
    }
    if (path === '/user/update-api-key-metadata' && request.method === 'POST') {
      const record = find(input.apiKey)
      if (record === undefined) return message(404, 'API key not found')
      if (record.deleted) return message(400, 'API key has been deleted')
      if (record.type !== 'live') return message(400, 'Metadata is only allowed on live keys')
      const problem = metadataProblem(input.metadata)
      if (problem) return message(400, problem)
      record.metadata = (input.metadata as Record<string, string> | null) ?? {}
      return {
        status: 200,
        body: { message: 'API key metadata updated successfully', api_key: record.key },
      }
    }
    if (path === '/user/delete-api-key' && request.method === 'POST') return remove(input.apiKey)
    const oldDelete = matchPath('/user/api-keys/:key', path)
    if (oldDelete !== undefined && request.method === 'DELETE') return remove(oldDelete.key)
    const statusPath = matchPath('/user/api-keys/:key/status', path)
    if (statusPath !== undefined && request.method === 'POST') {
      if (input.apiKey !== undefined && input.apiKey !== statusPath.key)
        return message(400, 'apiKey does not match the path')
      if (input.status !== 'active' && input.status !== 'inactive')
        return message(400, 'status must be active or inactive')
      const record = find(statusPath.key)
      if (record === undefined) return message(404, 'API key not found')
      if (record.deleted && input.status === 'active')
        return message(400, 'API key has been deleted')
      record.status = input.status
      return {
        status: 200,
        body: {
          message: 'API key status updated successfully',
          api_key: record.key,
          status: record.status,
        },
      }
    }
    return message(404, 'Not Found')
  }

  const remove = (apiKey: unknown): EmulatedResponse => {
    const record = find(apiKey)
    if (record === undefined) return message(404, 'API key not found')
    // A deleted key stops working at once and stays listed as inactive.
    record.deleted = true
    record.status = 'inactive'
    return { status: 200, body: { message: 'API key deleted successfully', api_key: record.key } }
  }

  const control: EmulatorControl = {
    seedKey: (input = {}) => {
      if (input.id !== undefined && (input.id === '' || find(input.id) !== undefined))
        throw new RangeError('seedKey: id must be a key not yet taken')
      const record = addKey(input.type === 'sandbox' ? 'sandbox' : 'live', input.metadata ?? null)
      // At NoteDx a key's id is the key: a chosen id is its secret too.
      if (input.id !== undefined) record.key = input.id
      if (input.disabled) record.status = 'inactive'
      if (input.createdAt !== undefined) {
        record.createdAt = noteDxTime(input.createdAt.getTime() - Date.now())
      }
      if (input.lastUsedAt !== undefined) {
        record.lastUsed = noteDxTime(input.lastUsedAt.getTime() - Date.now())
      }
      return { id: record.key, secret: record.key }
    },
    keyIds: () => keys.filter((record) => !record.deleted).map((record) => record.key),
    works: (secret) =>
      keys.some((record) => record.key === secret && record.status === 'active' && !record.deleted),
    keyAttributes: (secret) => {
      const record = find(secret)
      return record === undefined ? undefined : { type: record.type, metadata: record.metadata }
    },
    expireTokens: () => {
      for (const token of idTokens.keys()) idTokens.set(token, 0)
    },
  }

  const handler: VendorHandler = {
    handle,
    errorResponse: (status, text) => message(status, text),
    credentialHeaders: ['authorization', 'x-api-key'],
  }
  return {
    handler,
    control,
    settings: { baseUrl: `${url}${BASE_PATH}`, email: account.email, password: account.password },
  }
}

function metadataProblem(metadata: unknown): string | undefined {
  if (metadata === undefined || metadata === null) return undefined
  if (!isPlainObject(metadata)) return 'metadata must be an object'
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') return 'metadata values must be strings'
    if (name.length > NOTEDX_METADATA_LIMITS.keyLength)
      return `metadata keys must be at most ${NOTEDX_METADATA_LIMITS.keyLength} characters`
    if (value.length > NOTEDX_METADATA_LIMITS.valueLength) {
      return `metadata values must be at most ${NOTEDX_METADATA_LIMITS.valueLength} characters`
    }
    if (sensitiveWordIn(name) || sensitiveWordIn(value))
      return 'Metadata contains sensitive keywords'
  }
  return undefined
}
