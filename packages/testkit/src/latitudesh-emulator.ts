import { isIP } from 'node:net'
import {
  isPlainObject,
  matchPath,
  randomAlphanumeric,
  randomHex,
  STATUS_TEXT,
} from './emulator-helpers.js'
import type { EmulatedRequest, EmulatedResponse, VendorHandler } from './http-server.js'
import { INVALID_JSON } from './http-server.js'
import type { RequestLimiter } from './rate-limiter.js'
import type { EmulatorControl, RateLimit } from './types.js'

/** Latitude.sh's published limits, per key: 60 reads and 20 writes a minute. */
export const LATITUDE_RATE_LIMITS: { read: RateLimit; write: RateLimit } = {
  read: { requests: 60, windowMs: 60_000 },
  write: { requests: 20, windowMs: 60_000 },
}

const API_VERSION = '2023-06-01'
const USER = { id: 'user_emulated01', email: 'owner@example.test' }

interface KeyRecord {
  id: string
  name: string
  token: string
  readOnly: boolean | null
  allowedIps: string[] | null
  lastUsedAt: string | null
  createdAt: string
  updatedAt: string
}

/** 36 lowercase hex, Latitude's token format. */
export function latitudeToken(): string {
  return randomHex(36)
}

/** Latitude.sh's API-key endpoints (VENDORS.md), held in memory, JSON:API throughout. */
export function createLatitudeEmulator(
  url: string,
  limiter: RequestLimiter,
  seedKeys: number,
  clock: () => number = () => Date.now(),
) {
  const isoNow = (offsetMs = 0) => new Date(clock() + offsetMs).toISOString()
  const keys = new Map<string, KeyRecord>()
  let seeded = -seedKeys - 2

  const addKey = (input: {
    name: string
    readOnly?: boolean | null
    allowedIps?: string[] | null
  }) => {
    const now = isoNow(seeded < 0 ? seeded++ * 1000 : 0)
    const record: KeyRecord = {
      id: `tok_${randomAlphanumeric(13)}`,
      name: input.name,
      token: latitudeToken(),
      readOnly: input.readOnly ?? false,
      allowedIps: input.allowedIps ?? null,
      lastUsedAt: null,
      createdAt: now,
      updatedAt: now,
    }
    keys.set(record.id, record)
    return record
  }
  const admin = addKey({ name: 'admin' })
  for (let index = 1; index <= seedKeys; index++) addKey({ name: `seed-key-${index}` })

  const byToken = (token: string) => [...keys.values()].find((record) => record.token === token)

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    const token = request.headers.authorization
    if (token === undefined) return errorResponse(401, 'You must provide an API key')
    const caller = byToken(token)
    if (caller === undefined) return errorResponse(401, 'Invalid API key')
    caller.lastUsedAt = isoNow()

    const wait = limiter.take(token, request.method)
    if (wait !== undefined) {
      return {
        status: 429,
        body: {
          errors: [
            {
              code: 'RATE_LIMIT_EXCEEDED',
              status: '429',
              title: 'Rate Limit Exceeded',
              detail: 'You have exceeded the rate limit for this API key. Try again later.',
              meta: { retry_after: Math.round(wait) / 1000 },
            },
          ],
        },
      }
    }

    if (request.method !== 'GET' && caller.readOnly) {
      return errorResponse(403, 'This API key is read-only')
    }
    if (request.path === '/auth/api_keys') {
      if (request.method === 'GET') {
        return {
          status: 200,
          body: { data: [...keys.values()].map((record) => toResource(record, false)), meta: {} },
        }
      }
      if (request.method === 'POST') return create(request.body)
      return errorResponse(405, 'Method not allowed')
    }
    const params = matchPath('/auth/api_keys/:id', request.path)
    if (params === undefined) return errorResponse(404, 'Route not found')
    const record = keys.get(params.id as string)
    if (record === undefined || request.method === 'GET') {
      // There is no single-key GET: a GET here is an unknown route.
      return errorResponse(404, record === undefined ? 'API key not found' : 'Route not found')
    }
    if (request.method === 'PUT') return change(record, request.body, true)
    if (request.method === 'PATCH') return change(record, request.body, false)
    if (request.method === 'DELETE') {
      keys.delete(record.id)
      return { status: 200 }
    }
    return errorResponse(405, 'Method not allowed')
  }

  const create = (body: unknown): EmulatedResponse => {
    const checked = checkDocument(body, undefined)
    if ('status' in checked) return checked
    const attributes = checked.attributes
    if (typeof attributes.name !== 'string' || attributes.name.trim() === '') {
      return invalid('/data/attributes/name', "Name can't be blank")
    }
    const problem = checkAttributes(attributes)
    if (problem) return problem
    const record = addKey({
      name: attributes.name,
      readOnly: (attributes.read_only as boolean | undefined) ?? false,
      allowedIps: (attributes.allowed_ips as string[] | undefined) ?? null,
    })
    return { status: 201, body: { data: toResource(record, true), meta: {} } }
  }

  /**
   * Changes a key's attributes (`PATCH`); a regenerate (`PUT`) also replaces its token, and
   * the old token stops working at once.
   */
  const change = (record: KeyRecord, body: unknown, regenerate: boolean): EmulatedResponse => {
    const checked = checkDocument(body, record.id)
    if ('status' in checked) return checked
    const problem = checkAttributes(checked.attributes)
    if (problem) return problem
    applyAttributes(record, checked.attributes)
    if (regenerate) record.token = latitudeToken()
    record.updatedAt = isoNow()
    return { status: 200, body: { data: toResource(record, regenerate), meta: {} } }
  }

  const control: EmulatorControl = {
    seedKey: (input = {}) => {
      if (input.id !== undefined && (!input.id.startsWith('tok_') || keys.has(input.id)))
        throw new RangeError('seedKey: id must be a tok_ id not yet taken')
      const record = addKey({ name: input.name ?? 'seeded' })
      if (input.id !== undefined) {
        keys.delete(record.id)
        record.id = input.id
        keys.set(record.id, record)
      }
      if (input.createdAt !== undefined) {
        record.createdAt = input.createdAt.toISOString()
        record.updatedAt = record.createdAt
      }
      if (input.lastUsedAt !== undefined) record.lastUsedAt = input.lastUsedAt.toISOString()
      return { id: record.id, secret: record.token }
    },
    keyIds: () => [...keys.keys()],
    works: (secret) => byToken(secret) !== undefined,
    keyAttributes: (secret) => {
      const record = byToken(secret)
      return record === undefined
        ? undefined
        : { name: record.name, read_only: record.readOnly, allowed_ips: record.allowedIps }
    },
    expireTokens: () => {},
  }

  const handler: VendorHandler = {
    handle,
    errorResponse,
    contentType: 'application/vnd.api+json',
  }
  return { handler, control, settings: { baseUrl: url, token: admin.token } }
}

function applyAttributes(record: KeyRecord, attributes: Record<string, unknown>): void {
  if (typeof attributes.name === 'string') record.name = attributes.name
  if (attributes.read_only !== undefined) record.readOnly = attributes.read_only as boolean | null
  if (attributes.allowed_ips !== undefined)
    record.allowedIps = attributes.allowed_ips as string[] | null
}

/** Checks a JSON:API document `{data: {type: 'api_keys', id?, attributes?}}`. */
function checkDocument(
  body: unknown,
  id: string | undefined,
): { attributes: Record<string, unknown> } | EmulatedResponse {
  if (body === INVALID_JSON || !isPlainObject(body))
    return errorResponse(400, 'The request body is not valid JSON')
  const data = body.data
  if (!isPlainObject(data)) return invalid('/data', 'data is required')
  if (data.type !== 'api_keys') return invalid('/data/type', 'type must be api_keys')
  if (id !== undefined && data.id !== undefined && data.id !== id)
    return invalid('/data/id', 'id does not match the URL')
  const attributes = data.attributes ?? {}
  if (!isPlainObject(attributes)) return invalid('/data/attributes', 'attributes must be an object')
  return { attributes }
}

function checkAttributes(attributes: Record<string, unknown>): EmulatedResponse | undefined {
  if (
    attributes.name !== undefined &&
    (typeof attributes.name !== 'string' || attributes.name.trim() === '')
  ) {
    return invalid('/data/attributes/name', "Name can't be blank")
  }
  if (
    attributes.read_only !== undefined &&
    attributes.read_only !== null &&
    typeof attributes.read_only !== 'boolean'
  ) {
    return invalid('/data/attributes/read_only', 'read_only must be a boolean')
  }
  const ips = attributes.allowed_ips
  if (ips !== undefined && ips !== null) {
    if (!Array.isArray(ips) || !ips.every((ip) => typeof ip === 'string' && isIpOrCidr(ip))) {
      return invalid(
        '/data/attributes/allowed_ips',
        'allowed_ips must be a list of IP addresses or CIDR ranges',
      )
    }
  }
  return undefined
}

function isIpOrCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/')
  if (rest.length > 0 || address === undefined) return false
  const version = isIP(address)
  if (version === 0) return false
  if (prefix === undefined) return true
  const bits = Number(prefix)
  return /^\d+$/.test(prefix) && bits <= (version === 4 ? 32 : 128)
}

/** Latitude's error titles: HTTP's reason phrases, but its own for 429 (and none for success). */
const TITLES: Record<number, string | undefined> = {
  ...STATUS_TEXT,
  200: undefined,
  201: undefined,
  429: 'Rate Limit Exceeded',
}

function errorResponse(status: number, detail: string): EmulatedResponse {
  const code = status === 404 ? 'not_found' : status === 429 ? 'RATE_LIMIT_EXCEEDED' : null
  return {
    status,
    body: { errors: [{ status: String(status), code, title: TITLES[status] ?? 'Error', detail }] },
  }
}

function invalid(pointer: string, detail: string): EmulatedResponse {
  return {
    status: 422,
    body: {
      errors: [
        {
          status: '422',
          code: 'invalid_attribute',
          title: 'Unprocessable Entity',
          detail,
          source: { pointer },
        },
      ],
    },
  }
}

function toResource(record: KeyRecord, withToken: boolean) {
  return {
    id: record.id,
    type: 'api_keys',
    attributes: {
      name: record.name,
      api_version: API_VERSION,
      ...(withToken ? { token: record.token } : {}),
      token_last_slice: record.token.slice(-5),
      read_only: record.readOnly,
      allowed_ips: record.allowedIps,
      last_used_at: record.lastUsedAt,
      user: USER,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
    },
  }
}
