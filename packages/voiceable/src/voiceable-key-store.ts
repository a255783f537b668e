import {
  type ApiKey,
  type BaseStoreSettings,
  type CreateKeyInput,
  type CredentialKeyIdsOptions,
  createStoreClient,
  defaultKeyName,
  defineCapabilities,
  defineKeyStore,
  invalidSetting,
  type KeyStore,
  probeSecret,
  readRawKey,
  resolveCredentialAlternatives,
  type Secret,
  settingOrEnv,
  type UpdateKeyInput,
  ValidationError,
  type VendorSettings,
} from '@keyway/core/adapter'
import {
  createInputSchema,
  createResponseSchema,
  listResponseSchema,
  oneResponseSchema,
  readVoiceableError,
  updateInputSchema,
  type VoiceableApiKey,
  voiceableApiKeySchema,
} from './voiceable-schemas.js'

/**
 * The base URL Voiceable's own dashboard has used since 2026-05. The docs still show
 * `https://api.voiceable.dev/api/v1`, which the dashboard calls legacy.
 */
export const VOICEABLE_BASE_URL = 'https://api.voiceable.dev/voiceable-api'

/** Private keys manage the account; public keys are for browsers, limited by origin. */
export type VoiceableKeyType = 'private' | 'public'

/** Settings of `createVoiceableKeyStore`. */
export interface VoiceableKeyStoreSettings extends BaseStoreSettings, VendorSettings<'voiceable'> {
  /** A private API key, sent as `X-API-Key`. Default: the `VOICEABLE_API_KEY` env var. */
  apiKey?: string
  /** A session JWT, sent as `Authorization: Bearer`, used when no API key is given. Default: `VOICEABLE_TOKEN`. */
  token?: string
  /** Default `https://api.voiceable.dev/voiceable-api`. */
  baseUrl?: string
  /**
   * The id of the listed key that `apiKey` is. Voiceable never shows a key's value again, so
   * without it every private key counts as possibly the store's own credential and rotation
   * keeps its hands off them; the same holds when the id named is not listed as a private
   * key (a typo, or a key already retired). Default: the `VOICEABLE_API_KEY_ID` env var.
   * Only with `apiKey`.
   */
  credentialKeyId?: string
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
  verify: true,
  deleted: 'gone',
  create: ['name', 'keyType', 'allowedOrigins', 'allowedAssistants', 'transientAssistant'],
  update: ['name', 'allowedOrigins', 'allowedAssistants', 'transientAssistant'],
})

/** The env vars the factory reads, by setting: spelled here once, and named by the descriptor. */
export const VOICEABLE_ENV = {
  apiKey: 'VOICEABLE_API_KEY',
  token: 'VOICEABLE_TOKEN',
  credentialKeyId: 'VOICEABLE_API_KEY_ID',
  baseUrl: 'VOICEABLE_BASE_URL',
} as const

const PROVIDER = 'voiceable'
const ID_PATTERN = /^\d{1,18}$/

/** A `KeyStore` for Voiceable. Managing keys needs a private key or a session token. */
export function createVoiceableKeyStore(
  settings: VoiceableKeyStoreSettings = {},
): VoiceableKeyStore {
  const credential = voiceableCredential(settings)
  const secret = 'apiKey' in credential ? credential.apiKey : credential.token
  // The id of the store's own key, where the operator named it; forgotten on useCredential.
  let ownKeyId = 'token' in credential ? undefined : resolveCredentialKeyId(settings)
  const client = createStoreClient(settings, {
    provider: PROVIDER,
    env: VOICEABLE_ENV,
    baseUrl: VOICEABLE_BASE_URL,
    headers:
      'apiKey' in credential
        ? { 'x-api-key': credential.apiKey }
        : { authorization: `Bearer ${credential.token}` },
    secrets: [secret],
    credential: secret,
    errorBody: readVoiceableError,
  })
  const fieldsOf = (input: VoiceableCreateKeyInput | VoiceableUpdateKeyInput) => ({
    name: input.name,
    allowed_origins: input.allowedOrigins,
    allowed_assistants: input.allowedAssistants,
    transient_assistant: input.transientAssistant,
  })
  const listAll = async (operation: string, signal: AbortSignal | undefined) =>
    (
      await client.request({
        operation,
        method: 'GET',
        path: '/api_keys',
        schema: listResponseSchema,
        signal,
      })
    ).data.data

  return defineKeyStore<VoiceableCreateKeyInput, VoiceableUpdateKeyInput>({
    provider: PROVIDER,
    capabilities: voiceableCapabilities,
    client,
    idPattern: ID_PATTERN,
    createSchema: createInputSchema,
    updateSchema: updateInputSchema,
    // A create carries its marker in a temporary name, renamed once settled.
    marking: { name: {} },

    async *iterate({ signal }) {
      yield* (await listAll('list', signal)).map(toApiKey)
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
      return {
        key: toApiKey(response.data.data),
        secret: client.secret(response.data.data.key_value),
      }
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
        signal,
      })
    },

    // A key like this one: name, type, allowed origins and assistants, transient assistants.
    async successorInput(key) {
      const record = readRawKey(voiceableApiKeySchema, key, PROVIDER)
      const input: VoiceableCreateKeyInput = { keyType: record.key_type }
      if (record.name) input.name = record.name
      if (record.allowed_origins) input.allowedOrigins = [...record.allowed_origins]
      if (record.allowed_assistants) input.allowedAssistants = [...record.allowed_assistants]
      if (typeof record.transient_assistant === 'boolean') {
        input.transientAssistant = record.transient_assistant
      }
      return { input, warnings: [] }
    },

    // The answer must be Voiceable's key list (or a 403 for a public key, which it knows):
    // a 2xx of another shape proves nothing and is a ResponseValidationError.
    verify: (secret, { signal }) =>
      probeSecret(client, secret, (value) => ({
        method: 'GET',
        path: '/api_keys',
        // Only the key being checked: not the session token the store may use.
        headers: { 'x-api-key': value, authorization: undefined },
        schema: listResponseSchema,
        signal,
      })),

    // A session token is not a key. An API key is, but Voiceable never shows its value
    // again: the operator names its id, or every private key (only those can manage keys)
    // may be it. A named id counts only where it is listed as a private key: a name that
    // is not (a typo, or the id of a key an earlier rotation retired while the setting still
    // names it) proves nothing, and trusting it would let a rotation retire the real one.
    ...('token' in credential
      ? { credentialKeyIds: async () => [] }
      : {
          credentialKeySetting: {
            setting: 'credentialKeyId',
            env: VOICEABLE_ENV.credentialKeyId,
          },
          credentialKeyIds: async ({ signal, among }: CredentialKeyIdsOptions) => {
            // A listing the caller already has serves as well as a new one.
            const records =
              among === undefined
                ? await listAll('credentialKeyIds', signal)
                : among.map((key) =>
                    readRawKey(voiceableApiKeySchema, key, PROVIDER, 'credentialKeyIds'),
                  )
            const privateIds = records
              .filter((record) => record.key_type === 'private')
              .map((record) => String(record.id))
            if (ownKeyId !== undefined && privateIds.includes(ownKeyId)) return [ownKeyId]
            return privateIds
          },
          useCredential: (secret: Secret) => {
            const value = secret.reveal()
            client.setCredential('x-api-key', value, value)
            // The named id was the old key's; the new key's is not known to the store.
            ownKeyId = undefined
          },
        }),
  })
}

/** The store's credential: a private API key, or else a session token. */
function voiceableCredential(
  settings: VoiceableKeyStoreSettings,
): { apiKey: string } | { token: string } {
  const credential = resolveCredentialAlternatives(PROVIDER, settings, [
    [{ setting: 'apiKey', envVar: VOICEABLE_ENV.apiKey }],
    [{ setting: 'token', envVar: VOICEABLE_ENV.token }],
  ])
  if ('token' in credential && settings.credentialKeyId !== undefined) {
    const message = 'names the key of an apiKey, but the store uses a session token'
    throw new ValidationError({
      provider: PROVIDER,
      operation: 'configure',
      message: `${PROVIDER}: credentialKeyId ${message}`,
      issues: [{ path: 'credentialKeyId', message }],
    })
  }
  return credential
}

/** The `credentialKeyId` setting or `VOICEABLE_API_KEY_ID`, checked; only for an API key. */
function resolveCredentialKeyId(settings: VoiceableKeyStoreSettings): string | undefined {
  const id = settingOrEnv(PROVIDER, settings, 'credentialKeyId', VOICEABLE_ENV.credentialKeyId) as
    | string
    | undefined
  if (id === undefined || ID_PATTERN.test(id)) return id
  throw invalidSetting(
    PROVIDER,
    'credentialKeyId',
    VOICEABLE_ENV.credentialKeyId,
    'expected a Voiceable key id (digits)',
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
