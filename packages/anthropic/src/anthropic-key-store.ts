import {
  type ApiKey,
  type BaseStoreSettings,
  type CreateKeyInput,
  createStoreClient,
  defineCapabilities,
  defineKeyStore,
  type KeyStore,
  nextAfterId,
  paginateCursor,
  resolveCredential,
  type UpdateKeyInput,
  type VendorSettings,
} from '@keyway/core/adapter'
import {
  type AnthropicApiKey,
  anthropicApiKeySchema,
  listResponseSchema,
  readAnthropicError,
} from './anthropic-schemas.js'

/** Anthropic's API. */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com'

/** The API version every request names in `anthropic-version`. */
export const ANTHROPIC_VERSION = '2023-06-01'

/** Keys per list page: Anthropic takes 1 to 1000. */
const PAGE_SIZE = 100

/** Settings of `createAnthropicKeyStore`. */
export interface AnthropicKeyStoreSettings extends BaseStoreSettings, VendorSettings<'anthropic'> {
  /** An Admin API key (`sk-ant-admin…`), sent as `x-api-key`. Default: the `ANTHROPIC_ADMIN_KEY` env var. */
  adminKey?: string
  /** Default `https://api.anthropic.com`, or the `ANTHROPIC_BASE_URL` env var. */
  baseUrl?: string
}

/** Update input at Anthropic: a name, and `status` `'active'`, `'disabled'` or `'archived'` (final). */
export type AnthropicUpdateKeyInput = UpdateKeyInput

/**
 * A `KeyStore` typed for Anthropic. Its `create` and `delete` always refuse: the API has
 * neither (see `anthropicCapabilities`).
 */
export type AnthropicKeyStore = KeyStore<CreateKeyInput, AnthropicUpdateKeyInput>

/**
 * What Anthropic's Admin API can do: list by cursor, get, rename, disable (`inactive`) and
 * archive. Keys are made and deleted only in the console, and secrets are never shown.
 */
export const anthropicCapabilities = defineCapabilities({
  get: 'native',
  pagination: 'cursor',
  names: true,
  disable: true,
  archive: true,
  deleted: false,
  create: false,
  update: ['name', 'status'],
})

/** The env vars the factory reads, by setting: spelled here once, and named by the descriptor. */
export const ANTHROPIC_ENV = {
  adminKey: 'ANTHROPIC_ADMIN_KEY',
  baseUrl: 'ANTHROPIC_BASE_URL',
} as const

const PROVIDER = 'anthropic'
const ID_PATTERN = /^apikey_[A-Za-z0-9]{1,64}$/
const PATH = '/v1/organizations/api_keys'

/** keyway's statuses as Anthropic spells them in an update. */
const VENDOR_STATUS = { active: 'active', disabled: 'inactive', archived: 'archived' } as const

/** A `KeyStore` for Anthropic API keys, through the Admin API. Needs an Admin API key. */
export function createAnthropicKeyStore(
  settings: AnthropicKeyStoreSettings = {},
): AnthropicKeyStore {
  const adminKey = resolveCredential({
    provider: PROVIDER,
    settings,
    setting: 'adminKey',
    envVar: ANTHROPIC_ENV.adminKey,
  })
  const client = createStoreClient(settings, {
    provider: PROVIDER,
    env: ANTHROPIC_ENV,
    baseUrl: ANTHROPIC_BASE_URL,
    headers: { 'x-api-key': adminKey, 'anthropic-version': ANTHROPIC_VERSION },
    secrets: [adminKey],
    credential: adminKey,
    errorBody: readAnthropicError,
  })

  return defineKeyStore<CreateKeyInput, AnthropicUpdateKeyInput>({
    provider: PROVIDER,
    capabilities: anthropicCapabilities,
    client,
    idPattern: ID_PATTERN,

    iterate: ({ signal, includeDisabled }) =>
      paginateCursor({
        provider: PROVIDER,
        signal,
        fetchPage: async (cursor, pageSignal) => {
          const response = await client.request({
            operation: 'list',
            method: 'GET',
            path: PATH,
            query: {
              limit: PAGE_SIZE,
              after_id: cursor,
              status: includeDisabled ? undefined : 'active',
            },
            schema: listResponseSchema,
            signal: pageSignal,
          })
          const page = response.data
          return {
            items: page.data.map(toApiKey),
            next: nextAfterId(PROVIDER, page.has_more, page.last_id),
          }
        },
      }),

    async get(encodedId, _id, { signal }) {
      const response = await client.request({
        operation: 'get',
        method: 'GET',
        path: `${PATH}/${encodedId}`,
        schema: anthropicApiKeySchema,
        signal,
      })
      return toApiKey(response.data)
    },

    async update(encodedId, patch, { signal }) {
      const response = await client.request({
        operation: 'update',
        method: 'POST',
        path: `${PATH}/${encodedId}`,
        json: {
          name: patch.name,
          status: patch.status === undefined ? undefined : VENDOR_STATUS[patch.status],
        },
        schema: anthropicApiKeySchema,
        signal,
      })
      return toApiKey(response.data)
    },

    // The store authenticates with an Admin API key, which is not among the API keys listed.
    credentialKeyIds: async () => [],
  })
}

function toApiKey(record: AnthropicApiKey): ApiKey {
  const workspace = record.scope?.workspace_id ?? undefined
  return {
    provider: PROVIDER,
    id: record.id,
    name: record.name,
    status: record.status === 'inactive' ? 'disabled' : record.status,
    // The only trace of the secret Anthropic keeps: what a leak response can match.
    hint: record.partial_key_hint ?? null,
    createdAt: new Date(record.created_at),
    updatedAt: null,
    lastUsedAt: null,
    expiresAt: record.expires_at ? new Date(record.expires_at) : null,
    metadata: {},
    raw: record,
    ...(workspace === undefined ? {} : { workspace }),
  }
}
