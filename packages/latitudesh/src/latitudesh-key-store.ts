import {
  type ApiKey,
  type BaseStoreSettings,
  type CreateKeyInput,
  createStoreClient,
  defaultKeyName,
  defineCapabilities,
  defineKeyStore,
  type KeyStore,
  probeSecret,
  readRawKey,
  requireMembers,
  resolveCredential,
  type UpdateKeyInput,
  type VendorSettings,
} from '@keyway/core/adapter'
import type * as v from 'valibot'
import {
  createInputSchema,
  type LatitudeApiKey,
  latitudeApiKeySchema,
  listResponseSchema,
  oneResponseSchema,
  readLatitudeError,
  tokenResponseSchema,
  updateInputSchema,
} from './latitudesh-schemas.js'

/** Latitude.sh's API base URL, the default `baseUrl`. */
export const LATITUDE_BASE_URL = 'https://api.latitude.sh'
const JSON_API = 'application/vnd.api+json'

/** Settings of `createLatitudeKeyStore`. */
export interface LatitudeKeyStoreSettings extends BaseStoreSettings, VendorSettings<'latitudesh'> {
  /** An API token, sent as is (no `Bearer`). Default: the `LATITUDESH_BEARER` env var. */
  token?: string
  /** Default `https://api.latitude.sh`. */
  baseUrl?: string
}

/** Create input at Latitude.sh: a name, plus read-only and allowed IPs. */
export interface LatitudeCreateKeyInput extends CreateKeyInput {
  /** A read-only key cannot change anything. */
  readOnly?: boolean
  /** IP addresses or CIDR ranges the key may be used from. */
  allowedIps?: string[]
}

/** Update input at Latitude.sh. There is no status: keys are active until deleted. */
export interface LatitudeUpdateKeyInput extends UpdateKeyInput {
  readOnly?: boolean
  allowedIps?: string[]
}

/**
 * A `KeyStore` typed with Latitude.sh's fields. The store's token is one of its keys, so
 * `credentialKeyIds` and `useCredential` are always there.
 */
export type LatitudeKeyStore = KeyStore<LatitudeCreateKeyInput, LatitudeUpdateKeyInput> &
  Required<Pick<KeyStore, 'credentialKeyIds' | 'useCredential'>>

/** What Latitude.sh can do; see the README's capabilities table. */
export const latitudeCapabilities = defineCapabilities({
  get: 'scan',
  pagination: 'none',
  names: true,
  lastUsed: true,
  regenerate: true,
  verify: true,
  deleted: 'gone',
  create: ['name', 'readOnly', 'allowedIps'],
  update: ['name', 'readOnly', 'allowedIps'],
})

/** The env vars the factory reads, by setting: spelled here once, and named by the descriptor. */
export const LATITUDESH_ENV = {
  token: 'LATITUDESH_BEARER',
  baseUrl: 'LATITUDESH_BASE_URL',
} as const

const PROVIDER = 'latitudesh'

/**
 * A `KeyStore` for Latitude.sh. `regenerate` replaces a key's token in place: the old token
 * dies at once and the call is never retried, so prefer rotating by create and delete.
 */
export function createLatitudeKeyStore(settings: LatitudeKeyStoreSettings = {}): LatitudeKeyStore {
  let token = resolveCredential({
    provider: PROVIDER,
    settings,
    setting: 'token',
    envVar: LATITUDESH_ENV.token,
  })
  const client = createStoreClient(settings, {
    provider: PROVIDER,
    env: LATITUDESH_ENV,
    baseUrl: LATITUDE_BASE_URL,
    headers: { authorization: token, accept: JSON_API },
    secrets: [token],
    credential: token,
    errorBody: readLatitudeError,
  })
  const document = (attributes: Record<string, unknown>, id?: string) => ({
    data: { ...(id === undefined ? {} : { id }), type: 'api_keys', attributes },
  })
  const attributesOf = (input: LatitudeCreateKeyInput | LatitudeUpdateKeyInput) => ({
    name: input.name,
    read_only: input.readOnly,
    allowed_ips: input.allowedIps,
  })
  /** A key and its new token, from a create's or a regenerate's answer. */
  const created = (resource: v.InferOutput<typeof tokenResponseSchema>['data']) => ({
    key: toApiKey(resource),
    secret: client.secret(resource.attributes.token),
  })
  const listAll = async (signal: AbortSignal | undefined) =>
    (
      await client.request({
        operation: 'list',
        method: 'GET',
        path: '/auth/api_keys',
        schema: listResponseSchema,
        signal,
      })
    ).data.data

  const store = defineKeyStore<LatitudeCreateKeyInput, LatitudeUpdateKeyInput>({
    provider: PROVIDER,
    capabilities: latitudeCapabilities,
    client,
    idPattern: /^tok_[a-zA-Z0-9]{13}$/,
    createSchema: createInputSchema,
    updateSchema: updateInputSchema,
    // A create carries its marker in a temporary name, renamed once settled.
    marking: { name: {} },

    async *iterate({ signal }) {
      yield* (await listAll(signal)).map(toApiKey)
    },

    async create(input, { signal }) {
      const response = await client.request({
        operation: 'create',
        method: 'POST',
        path: '/auth/api_keys',
        json: document({ ...attributesOf(input), name: input.name ?? defaultKeyName() }),
        schema: tokenResponseSchema,
        signal,
      })
      return created(response.data.data)
    },

    async update(encodedId, patch, { id, signal }) {
      const response = await client.request({
        operation: 'update',
        method: 'PATCH',
        path: `/auth/api_keys/${encodedId}`,
        json: document(attributesOf(patch), id),
        schema: oneResponseSchema,
        signal,
      })
      return toApiKey(response.data.data)
    },

    async delete(encodedId, { signal }) {
      await client.request({
        operation: 'delete',
        method: 'DELETE',
        path: `/auth/api_keys/${encodedId}`,
        signal,
      })
    },

    async regenerate(encodedId, { id, signal }) {
      const response = await client.request({
        operation: 'regenerate',
        method: 'PUT',
        path: `/auth/api_keys/${encodedId}`,
        json: { data: { id, type: 'api_keys' } },
        schema: tokenResponseSchema,
        signal,
      })
      return created(response.data.data)
    },

    // A key like this one: its name, read-only flag and allowed IPs. Nothing else is settable.
    async successorInput(key) {
      const { attributes } = readRawKey(latitudeApiKeySchema, key, PROVIDER)
      const input: LatitudeCreateKeyInput = {}
      if (attributes.name) input.name = attributes.name
      if (typeof attributes.read_only === 'boolean') input.readOnly = attributes.read_only
      if (Array.isArray(attributes.allowed_ips)) input.allowedIps = [...attributes.allowed_ips]
      return { input, warnings: [] }
    },

    // The answer must be Latitude's key list: a 2xx of another shape proves nothing and is a
    // ResponseValidationError.
    verify: (secret, { signal }) =>
      probeSecret(client, secret, (value) => ({
        method: 'GET',
        path: '/auth/api_keys',
        headers: { authorization: value },
        schema: listResponseSchema,
        signal,
      })),

    useCredential(secret) {
      token = secret.reveal()
      client.setCredential('authorization', token, token)
    },

    // The store's own token is one of the listed keys; Latitude shows its last 5 characters.
    // Every attribute is optional in Latitude's spec: a key listed without its last
    // characters may be the store's own too. A listing the caller already has serves as
    // well as a new one.
    async credentialKeyIds({ signal, among }) {
      const slice = token.slice(-5)
      const records =
        among === undefined
          ? await listAll(signal)
          : among.map((key) => readRawKey(latitudeApiKeySchema, key, PROVIDER, 'credentialKeyIds'))
      return records
        .filter((key) => {
          const shown = key.attributes.token_last_slice
          return shown === undefined || shown === null || shown === '' || shown === slice
        })
        .map((key) => key.id)
    },
  })
  return requireMembers(store, ['credentialKeyIds', 'useCredential'])
}

function toApiKey(resource: LatitudeApiKey): ApiKey {
  const { token: _token, ...attributes } = resource.attributes
  const date = (value: string | null | undefined) => (value ? new Date(value) : null)
  return {
    provider: PROVIDER,
    id: resource.id,
    name: attributes.name ?? null,
    // Latitude has no disabled state: a key is active until deleted.
    status: 'active',
    hint: attributes.token_last_slice ? `…${attributes.token_last_slice}` : null,
    createdAt: date(attributes.created_at),
    updatedAt: date(attributes.updated_at),
    lastUsedAt: date(attributes.last_used_at),
    expiresAt: null,
    metadata: {},
    raw: { ...resource, attributes },
  }
}
