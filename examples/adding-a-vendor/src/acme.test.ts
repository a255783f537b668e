// A vendor keyway does not ship, added from outside: Acme's API keys are listed by cursor,
// fetched, created and updated (renamed, disabled), but never deleted. The adapter is built
// from `@keyway/core/adapter`, the emulator from `@keyway/testkit`'s framework, and the
// conformance suite checks the one against the other, as it checks every bundled vendor.
import { createHash, randomBytes } from 'node:crypto'
import {
  type ApiKey,
  type BaseStoreSettings,
  createStoreClient,
  defineCapabilities,
  defineKeyStore,
  errorReader,
  isoDate,
  type KeyStore,
  lenient,
  paginateCursor,
  resolveCredential,
  type VendorSettings,
} from '@keyway/core/adapter'
import {
  bearer,
  defineEmulator,
  type EmulatedResponse,
  type EmulatorControl,
  INVALID_JSON,
  matchPath,
} from '@keyway/testkit'
import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import * as v from 'valibot'

// ---- The adapter: mapping only ----

/** What Acme's API can do: no delete, and nothing beyond a name and a status. */
export const acmeCapabilities = defineCapabilities({
  get: 'native',
  pagination: 'cursor',
  // What Acme has; a feature left out (metadata, expiry, verify…) is one it lacks.
  names: true,
  disable: true,
  deleted: false,
  create: ['name'],
  update: ['name', 'status'],
})

const acmeKeySchema = v.looseObject({
  id: v.string(),
  name: v.string(),
  status: v.picklist(['active', 'disabled']),
  created_at: isoDate,
})
const pageSchema = v.looseObject({
  keys: v.array(acmeKeySchema),
  next_cursor: v.nullable(v.string()),
})
const createdSchema = v.looseObject({ key: acmeKeySchema, secret: v.string() })
const readAcmeError = errorReader(
  v.looseObject({
    error: lenient(v.looseObject({ code: lenient(v.string()), message: lenient(v.string()) })),
  }),
  (body) => ({ code: body.error?.code, message: body.error?.message }),
)

/** Settings of `createAcmeKeyStore`. */
export interface AcmeKeyStoreSettings extends BaseStoreSettings, VendorSettings<'acme'> {
  /** An Acme admin token. Default: the `ACME_ADMIN_TOKEN` env var. */
  adminToken?: string
  /** Acme's API. Default `https://api.acme.example/v1`, or the `ACME_BASE_URL` env var. */
  baseUrl?: string
}

/** A `KeyStore` for Acme's API keys. */
export function createAcmeKeyStore(settings: AcmeKeyStoreSettings = {}): KeyStore {
  const token = resolveCredential({
    provider: 'acme',
    settings,
    setting: 'adminToken',
    envVar: 'ACME_ADMIN_TOKEN',
  })
  const client = createStoreClient(settings, {
    provider: 'acme',
    env: { baseUrl: 'ACME_BASE_URL' },
    baseUrl: 'https://api.acme.example/v1',
    headers: { authorization: `Bearer ${token}` },
    secrets: [token],
    credential: token,
    errorBody: readAcmeError,
  })
  const toApiKey = (record: v.InferOutput<typeof acmeKeySchema>): ApiKey => ({
    provider: 'acme',
    id: record.id,
    name: record.name,
    status: record.status,
    hint: null,
    createdAt: new Date(record.created_at),
    updatedAt: null,
    lastUsedAt: null,
    expiresAt: null,
    metadata: {},
    raw: record,
  })

  return defineKeyStore({
    provider: 'acme',
    capabilities: acmeCapabilities,
    client,
    idPattern: /^key_[0-9a-f]{16}$/,
    iterate: ({ signal }) =>
      paginateCursor({
        provider: 'acme',
        signal,
        fetchPage: async (cursor, pageSignal) => {
          const { data } = await client.request({
            operation: 'list',
            method: 'GET',
            path: '/keys',
            query: { limit: 100, cursor },
            schema: pageSchema,
            signal: pageSignal,
          })
          return { items: data.keys.map(toApiKey), next: data.next_cursor ?? undefined }
        },
      }),
    async get(encodedId, _id, { signal }) {
      const { data } = await client.request({
        operation: 'get',
        method: 'GET',
        path: `/keys/${encodedId}`,
        schema: acmeKeySchema,
        signal,
      })
      return toApiKey(data)
    },
    async create(input, { signal }) {
      const { data } = await client.request({
        operation: 'create',
        method: 'POST',
        path: '/keys',
        json: { name: input.name },
        schema: createdSchema,
        signal,
      })
      return { key: toApiKey(data.key), secret: client.secret(data.secret) }
    },
    async update(encodedId, patch, { signal }) {
      const { data } = await client.request({
        operation: 'update',
        method: 'PATCH',
        path: `/keys/${encodedId}`,
        json: { name: patch.name, status: patch.status },
        schema: acmeKeySchema,
        signal,
      })
      return toApiKey(data)
    },
    // The store authenticates with an admin token, which is not one of the keys listed.
    credentialKeyIds: async () => [],
  })
}

// ---- The emulator: Acme's API on loopback ----

interface AcmeKey {
  id: string
  name: string
  status: 'active' | 'disabled'
  created_at: string
  secret: string
}

/** Starts a loopback server that plays Acme's API, with an admin token and a few keys. */
export const startAcmeEmulator = defineEmulator({
  vendor: 'acme',
  create: ({ url, limiter, seedKeys }) => {
    const adminToken = `acme_admin_${randomBytes(16).toString('hex')}`
    const keys = new Map<string, AcmeKey>()
    const addKey = (
      name: string,
      id = `key_${randomBytes(8).toString('hex')}`,
      at = new Date(),
    ) => {
      const key: AcmeKey = {
        id,
        name,
        status: 'active',
        created_at: at.toISOString(),
        secret: `acme_sk_${randomBytes(20).toString('hex')}`,
      }
      keys.set(id, key)
      return key
    }
    for (let index = 1; index <= seedKeys; index++) addKey(`seed-key-${index}`)

    const error = (status: number, code: string, message: string): EmulatedResponse => ({
      status,
      body: { error: { code, message } },
    })
    const shown = ({ secret: _secret, ...key }: AcmeKey) => key
    const nameProblem = (name: unknown) =>
      typeof name !== 'string' || name.trim() === '' || name.length > 100

    const control: EmulatorControl = {
      seedKey: (input = {}) => {
        if (input.id !== undefined && (!/^key_[0-9a-f]{16}$/.test(input.id) || keys.has(input.id)))
          throw new RangeError('seedKey: id must be key_ and 16 hex digits, not yet taken')
        const key = addKey(input.name ?? 'seeded', input.id, input.createdAt)
        if (input.disabled) key.status = 'disabled'
        return { id: key.id, secret: key.secret }
      },
      keyIds: () => [...keys.keys()],
      works: (secret) =>
        secret === adminToken ||
        [...keys.values()].some((key) => key.secret === secret && key.status === 'active'),
      keyAttributes: (secret) => {
        const key = [...keys.values()].find((candidate) => candidate.secret === secret)
        return key === undefined ? undefined : { name: key.name }
      },
      expireTokens: () => {},
    }

    return {
      control,
      settings: { baseUrl: `${url}/v1`, adminToken },
      handler: {
        credentialHeaders: ['authorization'],
        contentType: 'application/json',
        errorResponse: (status, message) => error(status, 'error', message),
        handle: (request) => {
          const token = bearer(request.headers)
          if (token !== adminToken) return error(401, 'unauthorized', 'Invalid admin token')
          const caller = createHash('sha256').update(token).digest('hex')
          const wait = limiter.take(caller, request.method)
          if (wait !== undefined) {
            return {
              ...error(429, 'rate_limited', 'Too many requests'),
              headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
            }
          }
          const body = request.body === INVALID_JSON ? undefined : request.body
          const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<
            string,
            unknown
          >
          if (request.path === '/v1/keys' && request.method === 'GET') {
            const limit = Number(request.query.get('limit') ?? 20)
            if (!Number.isInteger(limit) || limit < 1 || limit > 100)
              return error(400, 'invalid_request', 'limit must be 1 to 100')
            const all = [...keys.values()]
            const cursor = request.query.get('cursor')
            const start = cursor === null ? 0 : all.findIndex((key) => key.id === cursor) + 1
            if (cursor !== null && start === 0) return error(400, 'invalid_request', 'bad cursor')
            const page = all.slice(start, start + limit)
            const more = start + limit < all.length
            return {
              status: 200,
              body: { keys: page.map(shown), next_cursor: more ? (page.at(-1)?.id ?? null) : null },
            }
          }
          if (request.path === '/v1/keys' && request.method === 'POST') {
            if (nameProblem(fields.name))
              return error(422, 'invalid_request', 'name must be 1 to 100 characters')
            const key = addKey(fields.name as string)
            return { status: 201, body: { key: shown(key), secret: key.secret } }
          }
          const id = matchPath('/v1/keys/:id', request.path)?.id
          const key = id === undefined ? undefined : keys.get(id)
          if (key === undefined) return error(404, 'not_found', 'No such key')
          if (request.method === 'GET') return { status: 200, body: shown(key) }
          if (request.method !== 'PATCH') return error(405, 'method_not_allowed', 'Not allowed')
          if (fields.name !== undefined && nameProblem(fields.name))
            return error(422, 'invalid_request', 'name must be 1 to 100 characters')
          if (
            fields.status !== undefined &&
            fields.status !== 'active' &&
            fields.status !== 'disabled'
          )
            return error(422, 'invalid_request', 'status must be active or disabled')
          if (fields.name !== undefined) key.name = fields.name as string
          if (fields.status !== undefined) key.status = fields.status as AcmeKey['status']
          return { status: 200, body: shown(key) }
        },
      },
    }
  },
})

// ---- The conformance suite: the adapter against its emulator ----

describeKeyStoreConformance({
  vendor: 'acme',
  createStore: (settings) => createAcmeKeyStore(settings),
  startEmulator: startAcmeEmulator,
  createRequest: { method: 'POST', path: /\/keys$/ },
  settleRequest: { method: 'PATCH', path: /\/keys\/[^/]+$/ },
  capabilities: acmeCapabilities,
  unknownId: 'key_0000000000000000',
})
