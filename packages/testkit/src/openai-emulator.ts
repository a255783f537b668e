import { bearer, isPlainObject, matchPath, randomAlphanumeric } from './emulator-helpers.js'
import type { EmulatedRequest, EmulatedResponse, VendorHandler } from './http-server.js'
import { INVALID_JSON } from './http-server.js'
import type { RequestLimiter } from './rate-limiter.js'
import type { EmulatorControl, SeedKeyInput } from './types.js'

/** OpenAI's list page size: `limit` defaults to 20 and takes 1 to 100. */
export const OPENAI_LIST_LIMIT = { default: 20, max: 100 } as const

/** The project every OpenAI emulator holds, with service-account keys and one user's key. */
export const OPENAI_EMULATED_PROJECT = 'proj_emulatedproject0000000001'

/** Where the emulator's API lives below its URL: the SDK's and the store's base URL end in it. */
export const OPENAI_API_PREFIX = '/v1'

const ADMIN_KEYS_PATH = '/organization/admin_api_keys'
const ADMIN_PREFIX = 'sk-admin-'
const SERVICE_ACCOUNT_PREFIX = 'sk-svcacct-'
const USER_KEY_PREFIX = 'sk-proj-'
const OWNER = {
  id: 'user_emulatedowner00000001',
  name: 'Emulated Owner',
  email: 'owner@example.com',
}

/**
 * OpenAI's error type for each status. VENDORS.md gives no error bodies for these endpoints:
 * the shape is the one the official SDK reads (`{error: {message, type, param, code}}`), the
 * type and code strings are the emulator's choice.
 */
const ERROR_TYPES: Record<number, string> = {
  429: 'requests',
  500: 'server_error',
  502: 'server_error',
  503: 'server_error',
  504: 'server_error',
}

function errorResponse(status: number, message: string, code: string | null = null) {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error')
  return { status, body: { error: { message, type, param: null, code } } }
}

interface AdminKeyRecord {
  id: string
  name: string
  secret: string
  createdAt: number
  expiresAt: number | null
  lastUsedAt: number | null
}

interface ServiceAccountRecord {
  id: string
  name: string
  role: 'owner' | 'member' | 'none'
  createdAt: number
}

interface ProjectKeyRecord {
  id: string
  name: string
  secret: string
  createdAt: number
  lastUsedAt: number | null
  /** The service account that owns the key, or `undefined` for the owning user's key. */
  serviceAccountId: string | undefined
  /** A user's key: whether the user still has access to the project. */
  userActive: boolean
}

interface ProjectRecord {
  serviceAccounts: ServiceAccountRecord[]
  keys: ProjectKeyRecord[]
}

/** Which keys an OpenAI emulator's `seedKey` makes when not told. */
export type OpenAISeedKind = 'admin' | 'project'

/** What `seedKey` takes at OpenAI, beyond the shared fields. */
export interface OpenAISeedKeyInput extends SeedKeyInput {
  /** An admin API key, or a key in the emulated project. Default: the emulator's `seedKind`. */
  kind?: OpenAISeedKind
  /** A project key: owned by a new service account (default), or by the project's user. */
  owner?: 'service_account' | 'user'
  /** An admin key: when it expires. Default: never. */
  expiresAt?: Date
}

/** A service account of the emulated project, as the emulator holds it. */
export interface OpenAIServiceAccountState {
  id: string
  name: string
  role: 'owner' | 'member' | 'none'
  keyIds: string[]
}

/** The OpenAI emulator's controls: seed either kind of key, and read a project whole. */
export interface OpenAIEmulatorControl extends EmulatorControl {
  seedKey(input?: OpenAISeedKeyInput): { id: string; secret: string }
  /**
   * Every service account and key of a project, with no secret: what a test compares before
   * and after a rotation to see that nothing else changed. `undefined` for an unknown project.
   */
  projectState(project?: string):
    | {
        serviceAccounts: OpenAIServiceAccountState[]
        keys: Array<{ id: string; name: string; owner: string; active: boolean }>
      }
    | undefined
}

const unix = (date: Date) => Math.floor(date.getTime() / 1000)
const nowSeconds = () => Math.floor(Date.now() / 1000)

/**
 * OpenAI's Admin API for admin API keys, project API keys and project service accounts
 * (VENDORS.md, "Beyond the first four"; shapes from the official SDK's declarations): cursor
 * lists `{object: "list", data, first_id, last_id, has_more}`, secrets shown once in a
 * create's answer. A project key is minted only by creating a service account (or a key on
 * one); a service account's key cannot be deleted on its own (the SDK: "an error if the key
 * belonged to a service account"), only with its account.
 */
export function createOpenAIEmulator(
  url: string,
  limiter: RequestLimiter,
  seedKeys: number,
  seedKind: OpenAISeedKind = 'admin',
) {
  const adminKeys: AdminKeyRecord[] = []
  const projects = new Map<string, ProjectRecord>([
    [OPENAI_EMULATED_PROJECT, { serviceAccounts: [], keys: [] }],
  ])
  const project = projects.get(OPENAI_EMULATED_PROJECT) as ProjectRecord
  // Seeded records a second apart, oldest first, so list order is stable.
  let clock = nowSeconds() - 2 * seedKeys - 10
  const nextTime = (date?: Date) => (date === undefined ? Math.max(clock++, 0) : unix(date))
  const takenIds = new Set<string>()
  const freshId = (prefix: string, given?: string) => {
    if (given !== undefined) {
      if (takenIds.has(given)) throw new RangeError('seedKey: id already taken')
      takenIds.add(given)
      return given
    }
    let id: string
    do id = `${prefix}${randomAlphanumeric(24)}`
    while (takenIds.has(id))
    takenIds.add(id)
    return id
  }

  const addAdminKey = (input: OpenAISeedKeyInput & { name: string }): AdminKeyRecord => {
    const record: AdminKeyRecord = {
      id: freshId('key_', input.id),
      name: input.name,
      secret: `${ADMIN_PREFIX}${randomAlphanumeric(64)}`,
      createdAt: nextTime(input.createdAt),
      expiresAt: input.expiresAt === undefined ? null : unix(input.expiresAt),
      lastUsedAt: input.lastUsedAt === undefined ? null : unix(input.lastUsedAt),
    }
    adminKeys.push(record)
    return record
  }

  const addServiceAccount = (
    record: ProjectRecord,
    name: string,
    role: ServiceAccountRecord['role'],
  ): ServiceAccountRecord => {
    const account = { id: freshId('svc_acct_'), name, role, createdAt: nextTime() }
    record.serviceAccounts.push(account)
    return account
  }

  const addProjectKey = (
    record: ProjectRecord,
    input: { id?: string; name: string; serviceAccountId?: string; userActive?: boolean },
    createdAt?: Date,
    lastUsedAt?: Date,
  ): ProjectKeyRecord => {
    const key: ProjectKeyRecord = {
      id: freshId('key_', input.id),
      name: input.name,
      secret: `${input.serviceAccountId === undefined ? USER_KEY_PREFIX : SERVICE_ACCOUNT_PREFIX}${randomAlphanumeric(64)}`,
      createdAt: nextTime(createdAt),
      lastUsedAt: lastUsedAt === undefined ? null : unix(lastUsedAt),
      serviceAccountId: input.serviceAccountId,
      userActive: input.userActive ?? true,
    }
    record.keys.push(key)
    return key
  }

  const seed = (input: OpenAISeedKeyInput = {}): { id: string; secret: string } => {
    const kind = input.kind ?? seedKind
    const name = input.name ?? 'seeded'
    if (kind === 'admin') return addAdminKey({ ...input, name })
    if (input.owner === 'user') {
      return addProjectKey(
        project,
        { id: input.id, name, userActive: input.disabled !== true },
        input.createdAt,
        input.lastUsedAt,
      )
    }
    const account = addServiceAccount(project, name, input.disabled === true ? 'none' : 'member')
    return addProjectKey(
      project,
      { id: input.id, name, serviceAccountId: account.id },
      input.createdAt,
      input.lastUsedAt,
    )
  }

  const credential = addAdminKey({ name: 'keyway-admin' })
  for (let index = 1; index <= seedKeys; index++) {
    addAdminKey({ name: `seed-admin-key-${index}` })
    seed({ kind: 'project', name: `seed-service-account-${index}` })
  }
  seed({ kind: 'project', owner: 'user', name: 'owner-laptop' })

  const adminKeyActive = (record: AdminKeyRecord) =>
    record.expiresAt === null || record.expiresAt > nowSeconds()

  const accountOf = (record: ProjectRecord, key: ProjectKeyRecord) =>
    record.serviceAccounts.find((account) => account.id === key.serviceAccountId)

  const keyActive = (record: ProjectRecord, key: ProjectKeyRecord) => {
    if (key.serviceAccountId === undefined) return key.userActive
    const account = accountOf(record, key)
    return account !== undefined && account.role !== 'none'
  }

  const redacted = (secret: string, prefix: string) => `${prefix}...${secret.slice(-4)}`

  const toAdminKey = (record: AdminKeyRecord) => ({
    object: 'organization.admin_api_key',
    id: record.id,
    name: record.name,
    redacted_value: redacted(record.secret, 'sk-admin'),
    created_at: record.createdAt,
    last_used_at: record.lastUsedAt,
    expires_at: record.expiresAt,
    owner: {
      type: 'user',
      object: 'organization.user',
      id: OWNER.id,
      name: OWNER.name,
      created_at: 1_700_000_000,
      role: 'owner',
    },
  })

  const toServiceAccount = (account: ServiceAccountRecord) => ({
    object: 'organization.project.service_account',
    id: account.id,
    name: account.name,
    role: account.role,
    created_at: account.createdAt,
  })

  const toProjectKey = (record: ProjectRecord, key: ProjectKeyRecord) => {
    const account = accountOf(record, key)
    return {
      object: 'organization.project.api_key',
      id: key.id,
      name: key.name,
      redacted_value: redacted(key.secret, account === undefined ? 'sk-proj' : 'sk-svcacct'),
      created_at: key.createdAt,
      last_used_at: key.lastUsedAt,
      owner:
        account === undefined
          ? {
              type: 'user',
              user: { ...OWNER, created_at: 1_700_000_000, role: 'owner' },
            }
          : {
              type: 'service_account',
              service_account: {
                id: account.id,
                name: account.name,
                created_at: account.createdAt,
                role: account.role,
              },
            },
      owner_project_access: keyActive(record, key) ? 'active' : 'inactive',
    }
  }

  const authenticate = (headers: Record<string, string>): string | EmulatedResponse => {
    const given = bearer(headers)
    if (given === undefined) {
      return errorResponse(401, 'You did not provide an API key.', 'missing_api_key')
    }
    const admin = adminKeys.find((record) => record.secret === given)
    if (admin !== undefined && adminKeyActive(admin)) {
      admin.lastUsedAt = nowSeconds()
      return given
    }
    const projectKey = [...projects.values()].some((record) =>
      record.keys.some((key) => key.secret === given && keyActive(record, key)),
    )
    if (projectKey) {
      return errorResponse(
        403,
        'This endpoint requires an admin API key.',
        'insufficient_permissions',
      )
    }
    return errorResponse(401, 'Incorrect API key provided.', 'invalid_api_key')
  }

  /** One cursor page of `items` (in list order), after `query`'s `after`, of its `limit`. */
  const page = <T extends { id: string }>(
    items: readonly T[],
    query: URLSearchParams,
    render: (item: T) => unknown,
  ): EmulatedResponse => {
    const limitText = query.get('limit') ?? String(OPENAI_LIST_LIMIT.default)
    const limit = Number(limitText)
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > OPENAI_LIST_LIMIT.max) {
      return errorResponse(
        400,
        `Invalid 'limit': must be an integer from 1 to ${OPENAI_LIST_LIMIT.max}.`,
      )
    }
    const after = query.get('after')
    const at = after === null ? -1 : items.findIndex((item) => item.id === after)
    if (after !== null && at === -1)
      return errorResponse(400, `Invalid 'after': no object ${after}.`)
    const data = items.slice(at + 1, at + 1 + limit)
    return {
      status: 200,
      body: {
        object: 'list',
        data: data.map(render),
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: at + 1 + limit < items.length,
      },
    }
  }

  const deleted = (object: string, id: string): EmulatedResponse => ({
    status: 200,
    body: { object, id, deleted: true },
  })

  const bodyProblem = (body: unknown, allowed: readonly string[]): EmulatedResponse | undefined => {
    if (body === INVALID_JSON || (body !== undefined && !isPlainObject(body))) {
      return errorResponse(400, 'We could not parse the JSON body of your request.')
    }
    const extra = Object.keys(body ?? {}).filter((field) => !allowed.includes(field))
    if (extra.length > 0) return errorResponse(400, `Unrecognized request argument: ${extra[0]}`)
    return undefined
  }

  const validName = (name: unknown, required: boolean): EmulatedResponse | undefined => {
    if (name === undefined && !required) return undefined
    if (typeof name !== 'string' || name.trim() === '' || name.length > 256) {
      return errorResponse(400, "Invalid 'name': expected a string of 1 to 256 characters.")
    }
    return undefined
  }

  const adminKeysRoute = (request: EmulatedRequest): EmulatedResponse => {
    if (request.path === ADMIN_KEYS_PATH) {
      if (request.method === 'GET') {
        const order = request.query.get('order') ?? 'asc'
        if (order !== 'asc' && order !== 'desc') {
          return errorResponse(400, "Invalid 'order': must be asc or desc.")
        }
        // By creation time; keys made in one second keep the order they were made in.
        const oldestFirst = adminKeys
          .map((record, index) => ({ record, index }))
          .sort((a, b) => a.record.createdAt - b.record.createdAt || a.index - b.index)
          .map(({ record }) => record)
        const ordered = order === 'asc' ? oldestFirst : oldestFirst.reverse()
        return page(ordered, request.query, toAdminKey)
      }
      if (request.method === 'POST') return createAdminKey(request.body)
      return errorResponse(405, `Method ${request.method} not allowed.`)
    }
    const params = matchPath(`${ADMIN_KEYS_PATH}/:id`, request.path)
    if (params === undefined) return errorResponse(404, 'Not found.')
    const index = adminKeys.findIndex((record) => record.id === params.id)
    const record = adminKeys[index]
    if (record === undefined) {
      return errorResponse(404, `No admin API key found with id '${params.id}'.`)
    }
    if (request.method === 'GET') return { status: 200, body: toAdminKey(record) }
    if (request.method === 'DELETE') {
      adminKeys.splice(index, 1)
      return deleted('organization.admin_api_key.deleted', record.id)
    }
    return errorResponse(405, `Method ${request.method} not allowed.`)
  }

  const createAdminKey = (body: unknown): EmulatedResponse => {
    const problem = bodyProblem(body, ['name', 'expires_in_seconds'])
    if (problem !== undefined) return problem
    const { name, expires_in_seconds: expiresIn } = (body ?? {}) as Record<string, unknown>
    const nameProblem = validName(name, true)
    if (nameProblem !== undefined) return nameProblem
    if (
      expiresIn !== undefined &&
      (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 1)
    ) {
      return errorResponse(400, "Invalid 'expires_in_seconds': expected a positive integer.")
    }
    const now = nowSeconds()
    const record = addAdminKey({ name: name as string })
    record.createdAt = now
    record.expiresAt = typeof expiresIn === 'number' ? now + expiresIn : null
    return { status: 200, body: { ...toAdminKey(record), value: record.secret } }
  }

  const projectRoute = (request: EmulatedRequest): EmulatedResponse => {
    const parts = request.path.split('/')
    // /organization/projects/:project/<collection>[/:id[/api_keys]]
    const projectId = decodeSegment(parts[3])
    const record = projectId === undefined ? undefined : projects.get(projectId)
    if (record === undefined) {
      return errorResponse(404, `No project found with id '${projectId ?? ''}'.`)
    }
    const base = `/organization/projects/${parts[3]}`
    const rest = request.path.slice(base.length)
    if (rest === '/api_keys') {
      if (request.method !== 'GET')
        return errorResponse(405, `Method ${request.method} not allowed.`)
      const access = request.query.get('owner_project_access')
      if (access !== null && !['active', 'inactive', 'any'].includes(access)) {
        return errorResponse(
          400,
          "Invalid 'owner_project_access': must be active, inactive or any.",
        )
      }
      // Without the filter, the API's membership rules may hide keys: here, inactive ones.
      const shown = record.keys.filter((key) => {
        const active = keyActive(record, key)
        return access === 'any' || (access === 'inactive' ? !active : active)
      })
      return page(shown, request.query, (key) => toProjectKey(record, key))
    }
    const keyParams = matchPath('/api_keys/:id', rest)
    if (keyParams !== undefined) {
      const key = record.keys.find((candidate) => candidate.id === keyParams.id)
      if (key === undefined) {
        return errorResponse(404, `No API key found with id '${keyParams.id}' in this project.`)
      }
      if (request.method === 'GET') return { status: 200, body: toProjectKey(record, key) }
      if (request.method === 'DELETE') {
        if (key.serviceAccountId !== undefined) {
          return errorResponse(
            400,
            'This API key belongs to a service account: delete the service account to remove it.',
          )
        }
        record.keys.splice(record.keys.indexOf(key), 1)
        return deleted('organization.project.api_key.deleted', key.id)
      }
      return errorResponse(405, `Method ${request.method} not allowed.`)
    }
    if (rest === '/service_accounts') {
      if (request.method === 'GET')
        return page(record.serviceAccounts, request.query, toServiceAccount)
      if (request.method === 'POST') return createServiceAccount(record, request.body)
      return errorResponse(405, `Method ${request.method} not allowed.`)
    }
    const accountKeys = matchPath('/service_accounts/:id/api_keys', rest)
    const accountParams = accountKeys ?? matchPath('/service_accounts/:id', rest)
    if (accountParams === undefined) return errorResponse(404, 'Not found.')
    const account = record.serviceAccounts.find((candidate) => candidate.id === accountParams.id)
    if (account === undefined) {
      return errorResponse(404, `No service account found with id '${accountParams.id}'.`)
    }
    if (accountKeys !== undefined) {
      if (request.method !== 'POST')
        return errorResponse(405, `Method ${request.method} not allowed.`)
      const problem = bodyProblem(request.body, ['name', 'scopes'])
      if (problem !== undefined) return problem
      const { name } = (request.body ?? {}) as Record<string, unknown>
      const nameProblem = validName(name, false)
      if (nameProblem !== undefined) return nameProblem
      const key = addProjectKey(record, {
        name: (name as string | undefined) ?? account.name,
        serviceAccountId: account.id,
      })
      key.createdAt = nowSeconds()
      return {
        status: 200,
        body: {
          object: 'organization.project.service_account.api_key',
          id: key.id,
          name: key.name,
          created_at: key.createdAt,
          value: key.secret,
        },
      }
    }
    if (request.method === 'GET') return { status: 200, body: toServiceAccount(account) }
    if (request.method === 'POST') {
      const problem = bodyProblem(request.body, ['name', 'role'])
      if (problem !== undefined) return problem
      const { name, role } = (request.body ?? {}) as Record<string, unknown>
      const nameProblem = validName(name, false)
      if (nameProblem !== undefined) return nameProblem
      if (role !== undefined && role !== 'member' && role !== 'owner') {
        return errorResponse(400, "Invalid 'role': must be member or owner.")
      }
      if (typeof name === 'string') account.name = name
      if (role === 'member' || role === 'owner') account.role = role
      return { status: 200, body: toServiceAccount(account) }
    }
    if (request.method === 'DELETE') {
      record.serviceAccounts.splice(record.serviceAccounts.indexOf(account), 1)
      record.keys = record.keys.filter((key) => key.serviceAccountId !== account.id)
      return deleted('organization.project.service_account.deleted', account.id)
    }
    return errorResponse(405, `Method ${request.method} not allowed.`)
  }

  const createServiceAccount = (record: ProjectRecord, body: unknown): EmulatedResponse => {
    const problem = bodyProblem(body, ['name', 'create_service_account_only'])
    if (problem !== undefined) return problem
    const { name, create_service_account_only: accountOnly } = (body ?? {}) as Record<
      string,
      unknown
    >
    const nameProblem = validName(name, true)
    if (nameProblem !== undefined) return nameProblem
    if (accountOnly !== undefined && accountOnly !== null && typeof accountOnly !== 'boolean') {
      return errorResponse(400, "Invalid 'create_service_account_only': expected a boolean.")
    }
    const account = addServiceAccount(record, name as string, accountOnly ? 'none' : 'member')
    account.createdAt = nowSeconds()
    const key = accountOnly
      ? undefined
      : addProjectKey(record, { name: name as string, serviceAccountId: account.id })
    if (key !== undefined) key.createdAt = account.createdAt
    return {
      status: 200,
      body: {
        ...toServiceAccount(account),
        api_key:
          key === undefined
            ? null
            : {
                object: 'organization.project.service_account.api_key',
                id: key.id,
                name: key.name,
                created_at: key.createdAt,
                value: key.secret,
              },
      },
    }
  }

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    if (!request.path.startsWith(`${OPENAI_API_PREFIX}/`)) return errorResponse(404, 'Not found.')
    const path = request.path.slice(OPENAI_API_PREFIX.length)
    const caller = authenticate(request.headers)
    if (typeof caller !== 'string') return caller
    const wait = limiter.take(caller, request.method)
    if (wait !== undefined) {
      const response = errorResponse(
        429,
        'Rate limit reached for requests. Please try again later.',
        'rate_limit_exceeded',
      )
      return { ...response, headers: { 'retry-after': String(Math.ceil(wait / 1000)) } }
    }
    const routed = { ...request, path }
    if (path === ADMIN_KEYS_PATH || path.startsWith(`${ADMIN_KEYS_PATH}/`)) {
      return adminKeysRoute(routed)
    }
    if (path.startsWith('/organization/projects/')) return projectRoute(routed)
    return errorResponse(404, 'Not found.')
  }

  const findSecret = (secret: string) => {
    const admin = adminKeys.find((record) => record.secret === secret)
    if (admin !== undefined) return { admin }
    for (const [id, record] of projects) {
      const key = record.keys.find((candidate) => candidate.secret === secret)
      if (key !== undefined) return { project: id, record, key }
    }
    return undefined
  }

  const control: OpenAIEmulatorControl = {
    seedKey: (input = {}) => {
      const { id, secret } = seed(input)
      return { id, secret }
    },
    keyIds: () => [
      ...adminKeys.map((record) => record.id),
      ...[...projects.values()].flatMap((record) => record.keys.map((key) => key.id)),
    ],
    works: (secret) => {
      const found = findSecret(secret)
      if (found === undefined) return false
      if (found.admin !== undefined) return adminKeyActive(found.admin)
      return keyActive(found.record, found.key)
    },
    keyAttributes: (secret) => {
      const found = findSecret(secret)
      if (found === undefined) return undefined
      if (found.admin !== undefined) {
        return { name: found.admin.name, expires: found.admin.expiresAt !== null }
      }
      const account = accountOf(found.record, found.key)
      return account === undefined
        ? { project: found.project, owner: 'user', name: found.key.name }
        : {
            project: found.project,
            owner: 'service_account',
            name: account.name,
            role: account.role,
          }
    },
    expireTokens: () => {},
    projectState: (projectId = OPENAI_EMULATED_PROJECT) => {
      const record = projects.get(projectId)
      if (record === undefined) return undefined
      return {
        serviceAccounts: record.serviceAccounts.map((account) => ({
          id: account.id,
          name: account.name,
          role: account.role,
          keyIds: record.keys
            .filter((key) => key.serviceAccountId === account.id)
            .map((key) => key.id),
        })),
        keys: record.keys.map((key) => ({
          id: key.id,
          name: key.name,
          owner: key.serviceAccountId ?? OWNER.id,
          active: keyActive(record, key),
        })),
      }
    },
  }

  const handler: VendorHandler = {
    handle,
    errorResponse: (status, message) => errorResponse(status, message),
  }
  return {
    handler,
    control,
    settings: { baseUrl: `${url}${OPENAI_API_PREFIX}`, adminKey: credential.secret },
  }
}

function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined || segment === '') return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}
