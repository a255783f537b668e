import {
  type ApiKey,
  type BaseStoreSettings,
  type CreateKeyInput,
  createHttpClient,
  defaultKeyName,
  defineCapabilities,
  defineKeyStore,
  type KeyStore,
  missingCredential,
  probeSecret,
  readCredential,
  readEnv,
  Secret,
  type UpdateKeyInput,
} from '@keyway/core'
import {
  createInputSchema,
  createResponseSchema,
  listResponseSchema,
  oneResponseSchema,
  readVoiceableError,
  updateInputSchema,
  type VoiceableApiKey,
} from './voiceable-schemas.js'

/**
 * The base URL Voiceable's own dashboard has used since 2026-05. The docs still show
 * `https://api.voiceable.dev/api/v1`, which the dashboard calls legacy.
 */
export const VOICEABLE_BASE_URL = 'https://api.voiceable.dev/voiceable-api'

/** Private keys manage the account; public keys are for browsers, limited by origin. */
export type VoiceableKeyType = 'private' | 'public'

/** Settings of `createVoiceableKeyStore`. */
export interface VoiceableKeyStoreSettings extends BaseStoreSettings {
  /** A private API key, sent as `X-API-Key`. Default: the `VOICEABLE_API_KEY` env var. */
  apiKey?: string
  /** A session JWT, sent as `Authorization: Bearer`, used when no API key is given. Default: `VOICEABLE_TOKEN`. */
  token?: string
  /** Default `https://api.voiceable.dev/voiceable-api`. */
  baseUrl?: string
}

/** Create input at Voiceable: a name, the key type, and its limits. */
export interface VoiceableCreateKeyInput extends CreateKeyInput {
  /** Default `'private'`. Cannot be changed later. */
  keyType?: VoiceableKeyType
  /** Origins a public key may be used from. */
  allowedOrigins?: string[]
  /** Ids of the assistants the key may use. */
  allowedAssistants?: string[]
  /** Whether the key may create transient assistants. Default `false`. */
  transientAssistant?: boolean
}

/** Update input at Voiceable. The key type cannot change; there is no status. */
export interface VoiceableUpdateKeyInput extends UpdateKeyInput {
  allowedOrigins?: string[]
  allowedAssistants?: string[]
  transientAssistant?: boolean
}

/** A `KeyStore` typed with Voiceable's fields. */
export type VoiceableKeyStore = KeyStore<VoiceableCreateKeyInput, VoiceableUpdateKeyInput>

/** What Voiceable can do; see the README's capabilities table. */
export const voiceableCapabilities = defineCapabilities({
  get: 'native',
  pagination: 'none',
  names: true,
  metadata: false,
  disable: false,
  expiry: false,
  regenerate: false,
  verify: true,
  revealAfterCreate: false,
  deleted: 'gone',
  create: ['name', 'keyType', 'allowedOrigins', 'allowedAssistants', 'transientAssistant'],
  update: ['name', 'allowedOrigins', 'allowedAssistants', 'transientAssistant'],
})

const PROVIDER = 'voiceable'

/** A `KeyStore` for Voiceable. Managing keys needs a private key or a session token. */
export function createVoiceableKeyStore(
  settings: VoiceableKeyStoreSettings = {},
): VoiceableKeyStore {
  const credential = resolveCredential(settings)
  const client = createHttpClient({
    ...settings,
    provider: PROVIDER,
    baseUrl: settings.baseUrl ?? readEnv('VOICEABLE_BASE_URL') ?? VOICEABLE_BASE_URL,
    headers:
      'apiKey' in credential
        ? { 'x-api-key': credential.apiKey }
        : { authorization: `Bearer ${credential.token}` },
    secrets: ['apiKey' in credential ? credential.apiKey : credential.token],
    errorBody: readVoiceableError,
  })
  const fieldsOf = (input: VoiceableCreateKeyInput | VoiceableUpdateKeyInput) => ({
    name: input.name,
    allowed_origins: input.allowedOrigins,
    allowed_assistants: input.allowedAssistants,
    transient_assistant: input.transientAssistant,
  })

  return defineKeyStore<VoiceableCreateKeyInput, VoiceableUpdateKeyInput>({
    provider: PROVIDER,
    capabilities: voiceableCapabilities,
    client,
    idPattern: /^\d{1,18}$/,
    createSchema: createInputSchema,
    updateSchema: updateInputSchema,
    // A create carries its marker in a temporary name, renamed once settled.
    marking: { name: {} },

    async *iterate({ signal }) {
      const response = await client.request({
        operation: 'list',
        method: 'GET',
        path: '/api_keys',
        schema: listResponseSchema,
        signal,
      })
      yield* response.data.data.map(toApiKey)
    },

    async get(encodedId, _id, { signal }) {
      const response = await client.request({
        operation: 'get',
        method: 'GET',
        path: `/api_keys/${encodedId}`,
        schema: oneResponseSchema,
        signal,
      })
      return toApiKey(response.data.data)
    },

    async create(input, { signal }) {
      const response = await client.request({
        operation: 'create',
        method: 'POST',
        path: '/api_keys',
        json: {
          api_key: {
            ...fieldsOf(input),
            name: input.name ?? defaultKeyName(),
            key_type: input.keyType ?? 'private',
          },
        },
        schema: createResponseSchema,
        signal,
      })
      return { key: toApiKey(response.data.data), secret: new Secret(response.data.data.key_value) }
    },

    async update(encodedId, patch, { signal }) {
      const response = await client.request({
        operation: 'update',
        method: 'PUT',
        path: `/api_keys/${encodedId}`,
        json: { api_key: fieldsOf(patch) },
        schema: oneResponseSchema,
        signal,
      })
      return toApiKey(response.data.data)
    },

    async delete(encodedId, { signal }) {
      // 204 or 200, with or without a body: any 2xx is done.
      await client.request({
        operation: 'delete',
        method: 'DELETE',
        path: `/api_keys/${encodedId}`,
        notFoundAfterRetryIsSuccess: true,
        signal,
      })
    },

    verify: (secret, { signal }) =>
      probeSecret(client, secret, (value) => ({
        method: 'GET',
        path: '/api_keys',
        // Only the key being checked: not the session token the store may use.
        headers: { 'x-api-key': value, authorization: undefined },
        signal,
      })),

    // A session token is not a key. An API key is, but Voiceable never shows its value
    // again, so the store cannot tell which listed key it is.
    ...('token' in credential
      ? { credentialKeyIds: async () => [] }
      : {
          useCredential: (secret: Secret) => {
            const value = secret.reveal()
            client.setCredential('x-api-key', value, value)
          },
        }),
  })
}

function resolveCredential(
  settings: VoiceableKeyStoreSettings,
): { apiKey: string } | { token: string } {
  const apiKey = readCredential({
    provider: PROVIDER,
    value: settings.apiKey,
    setting: 'apiKey',
    envVar: 'VOICEABLE_API_KEY',
  })
  if (apiKey !== undefined) return { apiKey }
  const token = readCredential({
    provider: PROVIDER,
    value: settings.token,
    setting: 'token',
    envVar: 'VOICEABLE_TOKEN',
  })
  if (token !== undefined) return { token }
  throw missingCredential(
    PROVIDER,
    ['`apiKey` (or set VOICEABLE_API_KEY)', '`token` (or set VOICEABLE_TOKEN)'],
    'apiKey',
  )
}

function toApiKey(record: VoiceableApiKey): ApiKey {
  const { key_value: keyValue, ...rest } = record
  return {
    provider: PROVIDER,
    id: String(record.id),
    name: record.name,
    // Voiceable has no disabled state: a key works until deleted.
    status: 'active',
    hint: keyValue ? `…${keyValue.slice(-4)}` : null,
    createdAt: record.created_at ? new Date(record.created_at) : null,
    updatedAt: record.updated_at ? new Date(record.updated_at) : null,
    lastUsedAt: null,
    expiresAt: null,
    metadata: {},
    raw: { ...rest, key_value: null },
  }
}
