import { createHash } from 'node:crypto'
import {
  type ApiKey,
  type BaseStoreSettings,
  type CreateKeyInput,
  createStoreClient,
  defineCapabilities,
  defineKeyStore,
  type KeyStore,
  NotFoundError,
  readRawKey,
  requireMembers,
  resolveCredentialAlternatives,
  type UpdateKeyInput,
  ValidationError,
  type VendorSettings,
} from '@keyway/core/adapter'
import * as v from 'valibot'
import { metadataSchema, NOTEDX_SENSITIVE_WORDS } from './notedx-metadata.js'
import {
  createResponseSchema,
  fullListResponseSchema,
  itemSchema,
  messageResponseSchema,
  type NoteDxItem,
  readNoteDxError,
} from './notedx-schemas.js'
import { type NoteDxCredentials, NoteDxSession } from './notedx-session.js'

/**
 * The metadata entry a live key carries its create marker in until the create is settled.
 * Its name holds none of the words NoteDx refuses in metadata.
 */
export const NOTEDX_MARKER_ENTRY = 'kw-create-marker'

/** NoteDx's API base URL, the default `baseUrl`. */
export const NOTEDX_BASE_URL = 'https://api.notedx.io/v1'

/** A NoteDx key is a sandbox key (one per account) or a live key. */
export type NoteDxKeyType = 'sandbox' | 'live'

/** Settings of `createNoteDxKeyStore`: email and password (renewable), or an ID token. */
export interface NoteDxKeyStoreSettings extends BaseStoreSettings, VendorSettings<'notedx'> {
  /** A Firebase ID token. Default: `NOTEDX_ID_TOKEN`. It cannot be renewed: prefer email and password. */
  idToken?: string
  /** Account email, used with `password` to log in and renew tokens. Default: `NOTEDX_EMAIL`. */
  email?: string
  /** Account password. Default: `NOTEDX_PASSWORD`. */
  password?: string
  /** Default `https://api.notedx.io/v1`. */
  baseUrl?: string
  /** Words refused in metadata keys and values. Default `NOTEDX_SENSITIVE_WORDS`. */
  sensitiveWords?: readonly string[]
}

/** Create input at NoteDx: a type and, for live keys, metadata. Keys have no names. */
export interface NoteDxCreateKeyInput extends CreateKeyInput {
  /** Default `'live'`. An account has one sandbox key. */
  type?: NoteDxKeyType
}

/** Update input at NoteDx: status, and metadata on live keys. */
export type NoteDxUpdateKeyInput = UpdateKeyInput

/**
 * A `KeyStore` typed with NoteDx's fields. NoteDx shows keys again, so `reveal` is always
 * there, as is `credentialKeyIds`.
 */
export type NoteDxKeyStore = KeyStore<NoteDxCreateKeyInput, NoteDxUpdateKeyInput> &
  Required<Pick<KeyStore, 'reveal' | 'credentialKeyIds'>>

/** What NoteDx can do; see the README's capabilities table. */
export const noteDxCapabilities = defineCapabilities({
  get: 'scan',
  pagination: 'none',
  metadata: true,
  disable: true,
  lastUsed: true,
  revealAfterCreate: true,
  deleted: 'disabled',
  create: ['type', 'metadata'],
  update: ['status', 'metadata'],
})

/** The env vars the factory reads, by setting: spelled here once, and named by the descriptor. */
export const NOTEDX_ENV = {
  email: 'NOTEDX_EMAIL',
  password: 'NOTEDX_PASSWORD',
  idToken: 'NOTEDX_ID_TOKEN',
  baseUrl: 'NOTEDX_BASE_URL',
} as const

const PROVIDER = 'notedx'

/** Why a sandbox key cannot be rotated by making a second key beside it. */
export const NOTEDX_SANDBOX_BLOCKED =
  'NoteDx allows one sandbox key per account, so it cannot be rotated side by side'

/**
 * The stable, non-secret id keyway gives a NoteDx key, which NoteDx identifies by the
 * key itself: `ndx_` and 24 hex of the key's SHA-256.
 */
export function noteDxKeyId(key: string): string {
  return `ndx_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`
}

/** A `KeyStore` for NoteDx. Ids are derived from the keys; raw keys never leave the store. */
export function createNoteDxKeyStore(settings: NoteDxKeyStoreSettings = {}): NoteDxKeyStore {
  const credentials = resolveCredentials(settings)
  const client = createStoreClient(settings, {
    provider: PROVIDER,
    env: NOTEDX_ENV,
    baseUrl: NOTEDX_BASE_URL,
    secrets: 'idToken' in credentials ? [credentials.idToken] : [credentials.password],
    credential:
      'idToken' in credentials ? credentials.idToken : [credentials.email, credentials.password],
    errorBody: readNoteDxError,
  })
  const session = new NoteDxSession(client, credentials)
  const metadata = metadataSchema(settings.sensitiveWords ?? NOTEDX_SENSITIVE_WORDS)

  /** Every key with its raw value, which is remembered for redaction and never returned. */
  const listFull = async (signal: AbortSignal | undefined): Promise<NoteDxItem[]> => {
    const response = await session.request({
      operation: 'list',
      method: 'GET',
      path: '/user/list-api-keys',
      query: { showFull: true },
      schema: fullListResponseSchema,
      signal,
    })
    client.redactor.add(...response.data.api_keys.map((item) => item.key))
    return response.data.api_keys
  }

  const findItem = async (id: string, operation: string, signal: AbortSignal | undefined) => {
    const item = (await listFull(signal)).find((candidate) => noteDxKeyId(candidate.key) === id)
    if (item !== undefined) return item
    throw new NotFoundError({
      provider: PROVIDER,
      operation,
      status: 404,
      message: `${PROVIDER} ${operation} failed: no key with id ${id}`,
    })
  }

  const sandboxMetadata = (operation: string) => {
    const message = 'metadata is only allowed on live keys'
    return new ValidationError({
      provider: PROVIDER,
      operation,
      message: `${PROVIDER} ${operation}: ${message}`,
      issues: [{ path: 'metadata', message }],
    })
  }

  const store = defineKeyStore<NoteDxCreateKeyInput, NoteDxUpdateKeyInput>({
    provider: PROVIDER,
    capabilities: noteDxCapabilities,
    client,
    idPattern: /^ndx_[0-9a-f]{24}$/,
    createSchema: v.pipe(
      v.looseObject({
        type: v.optional(v.picklist(['sandbox', 'live'])),
        metadata: v.optional(metadata),
      }),
      v.forward(
        v.check(
          (input) => input.metadata === undefined || input.type !== 'sandbox',
          'metadata only on live keys',
        ),
        ['metadata'],
      ),
    ),
    updateSchema: v.looseObject({ metadata: v.optional(metadata) }),
    // Live keys carry the marker in a metadata entry whose name holds no word NoteDx refuses
    // (key, token, secret…); it is removed once the create is settled.
    marking: {
      metadata: { entry: NOTEDX_MARKER_ENTRY },
      choose: (input) =>
        input.type === 'sandbox'
          ? {
              unmarked:
                'NoteDx sandbox keys take no metadata; an account has at most one, so look at its sandbox key',
            }
          : 'metadata',
    },

    async *iterate({ includeDisabled, signal }) {
      for (const item of await listFull(signal)) {
        if (includeDisabled || item.status === 'active') yield toApiKey(item)
      }
    },

    async create(input, { signal }) {
      const type = input.type ?? 'live'
      const response = await session.request({
        operation: 'create',
        method: 'POST',
        path: '/user/create-api-key',
        json: { keyType: type, metadata: input.metadata ?? null },
        schema: createResponseSchema,
        signal,
      })
      const key = response.data.api_key
      const item: NoteDxItem = {
        key,
        type: response.data.key_type,
        status: 'active',
        metadata: response.data.metadata ?? null,
      }
      return { key: toApiKey(item), secret: client.secret(key) }
    },

    // A sandbox create carries no marker: a new sandbox key may be its (named, never touched).
    matchesCreated: (key, input) => (key.raw as { type?: string }).type === (input.type ?? 'live'),

    // NoteDx shows keys again, so a key a lost create made can simply be handed over.
    async recoverCreated(key, { signal }) {
      const item = await findItem(key.id, 'create', signal)
      return { key: toApiKey(item), secret: client.secret(item.key) }
    },

    async update(_encodedId, patch, { id, signal }) {
      let item = await findItem(id, 'update', signal)
      if (patch.metadata !== undefined && item.type !== 'live') throw sandboxMetadata('update')
      if (patch.metadata !== undefined) {
        await session.request({
          operation: 'update',
          method: 'POST',
          path: '/user/update-api-key-metadata',
          json: { apiKey: item.key, metadata: patch.metadata },
          schema: messageResponseSchema,
          signal,
        })
        item = { ...item, metadata: patch.metadata }
      }
      if (patch.status !== undefined) {
        const status = patch.status === 'active' ? 'active' : 'inactive'
        await session.request({
          operation: 'update',
          method: 'POST',
          path: `/user/api-keys/${encodeURIComponent(item.key)}/status`,
          json: { apiKey: item.key, status },
          schema: messageResponseSchema,
          signal,
        })
        item = { ...item, status }
      }
      return toApiKey(item)
    },

    async delete(_encodedId, { id, signal }) {
      const item = await findItem(id, 'delete', signal)
      await session.request({
        operation: 'delete',
        method: 'POST',
        path: '/user/delete-api-key',
        json: { apiKey: item.key },
        schema: messageResponseSchema,
        signal,
      })
    },

    // A key like this one: its type and, on a live key, its metadata. Keys have no names.
    async successorInput(key) {
      const item = readRawKey(itemSchema, key, PROVIDER)
      if (item.type === 'sandbox') {
        return { input: { type: 'sandbox' }, warnings: [], blocked: NOTEDX_SANDBOX_BLOCKED }
      }
      return { input: { type: 'live', metadata: { ...(item.metadata ?? {}) } }, warnings: [] }
    },

    async reveal(_encodedId, { id, signal }) {
      return client.secret((await findItem(id, 'reveal', signal)).key)
    },

    // The store authenticates with an ID token, which is not one of the keys.
    credentialKeyIds: async () => [],
  })
  return requireMembers(store, ['reveal', 'credentialKeyIds'])
}

function resolveCredentials(settings: NoteDxKeyStoreSettings): NoteDxCredentials {
  const credential = resolveCredentialAlternatives(PROVIDER, settings, [
    // Email and password go in a JSON body; a password is kept exactly as given.
    [
      { setting: 'email', envVar: NOTEDX_ENV.email, sentIn: 'body' },
      { setting: 'password', envVar: NOTEDX_ENV.password, sentIn: 'body' },
    ],
    [{ setting: 'idToken', envVar: NOTEDX_ENV.idToken }],
  ])
  if ('idToken' in credential) return credential
  return { email: credential.email.trim(), password: credential.password }
}

function toApiKey(item: NoteDxItem): ApiKey {
  const masked = `${'*'.repeat(23)}${item.key.slice(-4)}`
  return {
    provider: PROVIDER,
    id: noteDxKeyId(item.key),
    name: null,
    status: item.status === 'active' ? 'active' : 'disabled',
    hint: `…${item.key.slice(-4)}`,
    createdAt: item.created_at ? new Date(item.created_at) : null,
    updatedAt: null,
    lastUsedAt: item.last_used ? new Date(item.last_used) : null,
    expiresAt: null,
    metadata: item.metadata ?? {},
    // The vendor's record, with the key itself masked as NoteDx masks it.
    raw: { ...item, key: masked },
  }
}
