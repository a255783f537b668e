import {
  bearer,
  isoNow,
  isPlainObject,
  matchPath,
  randomHex,
  STATUS_TEXT,
} from './emulator-helpers.js'
import type { EmulatedRequest, EmulatedResponse, VendorHandler } from './http-server.js'
import { INVALID_JSON } from './http-server.js'
import type { RequestLimiter } from './rate-limiter.js'
import type { EmulatorControl } from './types.js'

const BASE_PATH = '/voiceable-api'
const USER = { id: 4242, email: 'owner@example.test' }

/**
 * Voiceable documents public keys as `pk_live_` + 64 hex; the private-key format is not
 * published. `sk_live_` + 64 hex stands in for it, in this one place.
 */
export const VOICEABLE_KEY_PREFIXES = { public: 'pk_live_', private: 'sk_live_' } as const

/** What Voiceable answers a delete with: 204 or 200, both seen. 204 here. */
export const VOICEABLE_DELETE_STATUS: 200 | 204 = 204

interface KeyRecord {
  id: number
  keyType: 'private' | 'public'
  name: string
  secret: string
  allowedOrigins: string[]
  allowedAssistants: string[]
  transientAssistant: boolean
  createdAt: string
  updatedAt: string
}

export function voiceableSecret(keyType: 'private' | 'public'): string {
  return `${VOICEABLE_KEY_PREFIXES[keyType]}${randomHex(64)}`
}

/** Voiceable's status messages: HTTP's reason phrases, but `Success` for 200. */
const STATUS_MESSAGES: Record<number, string> = { ...STATUS_TEXT, 200: 'Success' }

function envelope(code: number) {
  return { code, message: STATUS_MESSAGES[code] ?? 'Error' }
}

function errorResponse(
  status: number,
  error: string,
  errors: string[] = [error],
): EmulatedResponse {
  return { status, body: { status: envelope(status), error, errors, details: error } }
}

/** Voiceable's API-key endpoints (VENDORS.md), held in memory, in its `{status, data}` envelope. */
export function createVoiceableEmulator(url: string, limiter: RequestLimiter, seedKeys: number) {
  const keys = new Map<number, KeyRecord>()
  const sessionToken = `emulated-session-jwt-${randomHex(32)}`
  let nextId = 101
  let clock = -seedKeys - 2

  const addKey = (input: { name: string; keyType: 'private' | 'public' } & Partial<KeyRecord>) => {
    const now = isoNow(clock < 0 ? clock++ * 1000 : 0)
    const record: KeyRecord = {
      id: nextId++,
      secret: voiceableSecret(input.keyType),
      allowedOrigins: [],
      allowedAssistants: [],
      transientAssistant: false,
      createdAt: now,
      updatedAt: now,
      ...input,
    }
    keys.set(record.id, record)
    return record
  }
  const admin = addKey({ name: 'admin', keyType: 'private' })
  for (let index = 1; index <= seedKeys; index++) {
    addKey({ name: `seed-key-${index}`, keyType: index % 2 === 0 ? 'public' : 'private' })
  }

  const authenticate = (headers: Record<string, string>): string | EmulatedResponse => {
    const token = bearer(headers)
    if (token !== undefined)
      return token === sessionToken ? token : errorResponse(401, 'Authentication required.')
    const apiKey = headers['x-api-key']
    const record = [...keys.values()].find((candidate) => candidate.secret === apiKey)
    if (apiKey === undefined || record === undefined)
      return errorResponse(401, 'Authentication required.')
    if (record.keyType !== 'private')
      return errorResponse(403, 'A private API key is required to manage API keys.')
    return apiKey
  }

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    if (!request.path.startsWith(`${BASE_PATH}/`)) return errorResponse(404, 'Not Found')
    const path = request.path.slice(BASE_PATH.length)
    const caller = authenticate(request.headers)
    if (typeof caller !== 'string') return caller

    const wait = limiter.take(caller, request.method)
    if (wait !== undefined) {
      const response = errorResponse(429, 'Rate limit exceeded')
      return {
        ...response,
        headers: { 'retry-after': String(Math.ceil(wait / 1000)), 'x-ratelimit-remaining': '0' },
      }
    }

    if (path === '/api_keys') {
      if (request.method === 'GET') {
        return {
          status: 200,
          body: {
            status: envelope(200),
            data: [...keys.values()].map((record) => toKey(record, false)),
          },
        }
      }
      if (request.method === 'POST') return create(request.body)
      return errorResponse(405, 'Method Not Allowed')
    }
    const params = matchPath('/api_keys/:id', path)
    if (params === undefined || !/^\d+$/.test(params.id as string))
      return errorResponse(404, 'Not Found')
    const record = keys.get(Number(params.id))
    if (record === undefined) return errorResponse(404, 'API key not found')
    if (request.method === 'GET')
      return { status: 200, body: { status: envelope(200), data: toKey(record, false) } }
    if (request.method === 'PUT') return update(record, request.body)
    if (request.method === 'DELETE') {
      keys.delete(record.id)
      return VOICEABLE_DELETE_STATUS === 204
        ? { status: 204 }
        : { status: 200, body: { status: envelope(200) } }
    }
    return errorResponse(405, 'Method Not Allowed')
  }

  const create = (body: unknown): EmulatedResponse => {
    if (body === INVALID_JSON || !isPlainObject(body) || !isPlainObject(body.api_key)) {
      return errorResponse(400, 'param is missing or the value is empty: api_key')
    }
    const input = body.api_key
    const errors: string[] = []
    if (typeof input.name !== 'string' || input.name.trim() === '')
      errors.push("Name can't be blank")
    if (input.key_type !== 'private' && input.key_type !== 'public')
      errors.push('Key type is not included in the list')
    errors.push(...listProblems(input))
    if (errors.length > 0) return errorResponse(400, errors[0] as string, errors)
    const record = addKey({
      name: input.name as string,
      keyType: input.key_type as 'private' | 'public',
      allowedOrigins: (input.allowed_origins as string[] | undefined) ?? [],
      allowedAssistants: (input.allowed_assistants as string[] | undefined) ?? [],
      transientAssistant: (input.transient_assistant as boolean | undefined) ?? false,
    })
    return { status: 201, body: { status: envelope(201), data: toKey(record, true) } }
  }

  const update = (record: KeyRecord, body: unknown): EmulatedResponse => {
    if (body === INVALID_JSON || !isPlainObject(body) || !isPlainObject(body.api_key)) {
      return errorResponse(400, 'param is missing or the value is empty: api_key')
    }
    const input = body.api_key
    if (input.key_type !== undefined) return errorResponse(400, 'Key type cannot be changed')
    const errors: string[] = []
    if (input.name !== undefined && (typeof input.name !== 'string' || input.name.trim() === '')) {
      errors.push("Name can't be blank")
    }
    errors.push(...listProblems(input))
    if (errors.length > 0) return errorResponse(400, errors[0] as string, errors)
    if (typeof input.name === 'string') record.name = input.name
    if (input.allowed_origins !== undefined)
      record.allowedOrigins = input.allowed_origins as string[]
    if (input.allowed_assistants !== undefined)
      record.allowedAssistants = input.allowed_assistants as string[]
    if (input.transient_assistant !== undefined)
      record.transientAssistant = input.transient_assistant as boolean
    record.updatedAt = isoNow()
    return { status: 200, body: { status: envelope(200), data: toKey(record, false) } }
  }

  const control: EmulatorControl = {
    seedKey: (input = {}) => {
      if (input.id !== undefined && (!/^[1-9][0-9]*$/.test(input.id) || keys.has(Number(input.id))))
        throw new RangeError('seedKey: id must be a whole number not yet taken')
      const record = addKey({
        ...(input.id === undefined ? {} : { id: Number(input.id) }),
        name: input.name ?? 'seeded',
        keyType: input.type === 'public' ? 'public' : 'private',
        ...(input.createdAt === undefined
          ? {}
          : { createdAt: input.createdAt.toISOString(), updatedAt: input.createdAt.toISOString() }),
      })
      nextId = Math.max(nextId, record.id + 1)
      return { id: String(record.id), secret: record.secret }
    },
    keyIds: () => [...keys.keys()].map(String),
    works: (secret) =>
      secret === sessionToken || [...keys.values()].some((record) => record.secret === secret),
    keyAttributes: (secret) => {
      const record = [...keys.values()].find((candidate) => candidate.secret === secret)
      return record === undefined
        ? undefined
        : {
            name: record.name,
            key_type: record.keyType,
            allowed_origins: record.allowedOrigins,
            allowed_assistants: record.allowedAssistants,
            transient_assistant: record.transientAssistant,
          }
    },
    expireTokens: () => {},
  }

  const handler: VendorHandler = {
    handle,
    errorResponse: (status, text) => errorResponse(status, text),
    credentialHeaders: ['authorization', 'x-api-key'],
  }
  // The admin key's id too: a store that authenticates with a key it cannot see again must be
  // told which listed key that is.
  return {
    handler,
    control,
    settings: {
      baseUrl: `${url}${BASE_PATH}`,
      apiKey: admin.secret,
      credentialKeyId: String(admin.id),
    },
  }
}

function listProblems(input: Record<string, unknown>): string[] {
  const errors: string[] = []
  for (const field of ['allowed_origins', 'allowed_assistants'] as const) {
    const value = input[field]
    if (
      value !== undefined &&
      (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    ) {
      errors.push(`${field} must be a list of strings`)
    }
  }
  if (input.transient_assistant !== undefined && typeof input.transient_assistant !== 'boolean') {
    errors.push('transient_assistant must be true or false')
  }
  return errors
}

function toKey(record: KeyRecord, withSecret: boolean) {
  return {
    id: record.id,
    key_type: record.keyType,
    name: record.name,
    key_value: withSecret ? record.secret : null,
    allowed_origins: record.allowedOrigins,
    allowed_assistants: record.allowedAssistants,
    transient_assistant: record.transientAssistant,
    user_id: USER.id,
    user_email: USER.email,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  }
}
