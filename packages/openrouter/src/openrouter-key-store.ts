import {
  AmbiguousCreateError,
  type ApiKey,
  type BaseStoreSettings,
  type CreatedKey,
  type CreateKeyInput,
  createStoreClient,
  defaultKeyName,
  defineCapabilities,
  defineKeyStore,
  type KeyStatus,
  type KeyStore,
  KeyStoreError,
  paginateOffset,
  probeSecret,
  resolveCredential,
  type UpdateKeyInput,
  type VendorSettings,
} from '@keyway/core/adapter'
import { countedList } from './openrouter-counted-list.js'
import { GuardrailAssignmentError } from './openrouter-errors.js'
import { assignGuardrail, findGuardrail } from './openrouter-guardrails.js'
import {
  createInputSchema,
  createResponseSchema,
  currentKeyResponseSchema,
  deleteResponseSchema,
  keyResponseSchema,
  type LimitReset,
  listResponseSchema,
  type OpenRouterKey,
  readOpenRouterError,
  updateInputSchema,
  workspacesResponseSchema,
} from './openrouter-schemas.js'
import { openRouterSuccessorPlan } from './openrouter-successor.js'

/** OpenRouter's API base URL, the default `baseUrl`. */
export const OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1'
/** OpenRouter's fixed page size for `GET /keys`. */
export const OPENROUTER_PAGE_SIZE = 100

/** Settings of `createOpenRouterKeyStore`. */
export interface OpenRouterKeyStoreSettings
  extends BaseStoreSettings,
    VendorSettings<'openrouter'> {
  /** A management key. Default: the `OPENROUTER_MANAGEMENT_KEY` env var. */
  managementKey?: string
  /** Default `https://openrouter.ai/api/v1`. */
  baseUrl?: string
}

/** Create input at OpenRouter: the neutral fields (no metadata) plus spending limits. */
export interface OpenRouterCreateKeyInput extends CreateKeyInput {
  /** Spending limit in USD; `null` for none. */
  limit?: number | null
  /** When the limit resets; `null` never. */
  limitReset?: LimitReset | null
  /** Whether BYOK usage counts towards the limit. */
  includeByokInLimit?: boolean
  /** The workspace (a UUID) to make the key in. Default: the account's default workspace. */
  workspaceId?: string
  /**
   * A guardrail to assign to the new key, right after it is made. If that fails, the key is
   * deleted again and a `GuardrailAssignmentError` thrown.
   */
  guardrailId?: string
}

/** Update input at OpenRouter. An expiry cannot be changed after create. */
export interface OpenRouterUpdateKeyInput extends UpdateKeyInput {
  limit?: number | null
  limitReset?: LimitReset | null
  includeByokInLimit?: boolean
}

/** A `KeyStore` typed with OpenRouter's fields. */
export type OpenRouterKeyStore = KeyStore<OpenRouterCreateKeyInput, OpenRouterUpdateKeyInput>

/** What OpenRouter can do; see the README's capabilities table. */
export const openRouterCapabilities = defineCapabilities({
  get: 'native',
  pagination: 'offset',
  names: true,
  disable: true,
  expiry: true,
  spendLimit: true,
  verify: true,
  deleted: 'gone',
  create: [
    'name',
    'expiresAt',
    'limit',
    'limitReset',
    'includeByokInLimit',
    'workspaceId',
    'guardrailId',
  ],
  update: ['name', 'status', 'limit', 'limitReset', 'includeByokInLimit'],
})

/** The env vars the factory reads, by setting: spelled here once, and named by the descriptor. */
export const OPENROUTER_ENV = {
  managementKey: 'OPENROUTER_MANAGEMENT_KEY',
  baseUrl: 'OPENROUTER_BASE_URL',
} as const

const PROVIDER = 'openrouter'

/**
 * A `KeyStore` for OpenRouter's key-management API. Needs a management key. Lists the keys of
 * every workspace of the account.
 */
export function createOpenRouterKeyStore(
  settings: OpenRouterKeyStoreSettings = {},
): OpenRouterKeyStore {
  const managementKey = resolveCredential({
    provider: PROVIDER,
    settings,
    setting: 'managementKey',
    envVar: OPENROUTER_ENV.managementKey,
  })
  const client = createStoreClient(settings, {
    provider: PROVIDER,
    env: OPENROUTER_ENV,
    baseUrl: OPENROUTER_BASE_URL,
    headers: { authorization: `Bearer ${managementKey}` },
    secrets: [managementKey],
    credential: managementKey,
    errorBody: readOpenRouterError,
  })

  const deleteKey = async (encodedId: string, signal: AbortSignal | undefined) => {
    await client.request({
      operation: 'delete',
      method: 'DELETE',
      path: `/keys/${encodedId}`,
      schema: deleteResponseSchema,
      signal,
    })
  }

  /** Every workspace of the account, page by page. */
  const workspaces = (signal: AbortSignal | undefined) =>
    countedList(
      client,
      { operation: 'list', path: '/workspaces', schema: workspacesResponseSchema },
      signal,
    )

  /**
   * Assigns the guardrail a create asked for. If that fails, the new key is deleted again:
   * it is provably this call's, since its hash came in this call's own answer.
   */
  const guard = async (hash: string, guardrailId: string, signal: AbortSignal | undefined) => {
    let failure: unknown
    try {
      if ((await assignGuardrail(client, guardrailId, hash, signal)) >= 1) return
    } catch (error) {
      failure = error
    }
    const why =
      failure === undefined
        ? 'OpenRouter assigned it to no key'
        : KeyStoreError.is(failure)
          ? failure.message
          : 'the request failed'
    try {
      await deleteKey(encodeURIComponent(hash), signal)
    } catch (deleteError) {
      throw new AmbiguousCreateError({
        provider: PROVIDER,
        operation: 'create',
        message: `${PROVIDER} create: guardrail ${guardrailId} could not be assigned to new key ${hash} (${why}), and the key could not be deleted again: delete it yourself`,
        candidateIds: [hash],
        cause: deleteError,
      })
    }
    throw new GuardrailAssignmentError({
      provider: PROVIDER,
      operation: 'create',
      message: `${PROVIDER} create: guardrail ${guardrailId} could not be assigned (${why}); the new key ${hash} was deleted again`,
      guardrailId,
      deletedKeyId: hash,
      retryable: KeyStoreError.is(failure) && failure.retryable,
      ...(failure === undefined ? {} : { cause: failure }),
    })
  }

  return defineKeyStore<OpenRouterCreateKeyInput, OpenRouterUpdateKeyInput>({
    provider: PROVIDER,
    capabilities: openRouterCapabilities,
    client,
    idPattern: /^[0-9a-f]{64}$/,
    createSchema: createInputSchema,
    updateSchema: updateInputSchema,
    // A create carries its marker in a temporary name, renamed once settled.
    marking: { name: {} },

    // Without workspace_id OpenRouter lists the default workspace only: walk every workspace.
    async *iterate({ includeDisabled, signal }) {
      for await (const workspace of workspaces(signal)) {
        const keys = paginateOffset({
          pageSize: OPENROUTER_PAGE_SIZE,
          signal,
          fetchPage: async (offset, pageSignal) => {
            const response = await client.request({
              operation: 'list',
              method: 'GET',
              path: '/keys',
              query: { include_disabled: includeDisabled, offset, workspace_id: workspace.id },
              schema: listResponseSchema,
              signal: pageSignal,
            })
            return response.data.data.map((record) => toApiKey(record))
          },
        })
        // OpenRouter's filter leaves out disabled keys only; an expired key is not active either.
        // Filtered after paging: a short page is how OpenRouter says it was the last.
        for await (const key of keys) if (includeDisabled || key.status === 'active') yield key
      }
    },

    async get(encodedId, _id, { signal }) {
      const response = await client.request({
        operation: 'get',
        method: 'GET',
        path: `/keys/${encodedId}`,
        schema: keyResponseSchema,
        signal,
      })
      return toApiKey(response.data.data)
    },

    async create(input, { signal }): Promise<CreatedKey> {
      const response = await client.request({
        operation: 'create',
        method: 'POST',
        path: '/keys',
        // Fields left undefined are not sent: JSON has no undefined.
        json: {
          name: input.name ?? defaultKeyName(),
          limit: input.limit,
          limit_reset: input.limitReset,
          include_byok_in_limit: input.includeByokInLimit,
          expires_at: input.expiresAt?.toISOString(),
          workspace_id: input.workspaceId,
        },
        schema: createResponseSchema,
        signal,
      })
      const created = {
        key: toApiKey(response.data.data),
        secret: client.secret(response.data.key),
      }
      if (input.guardrailId !== undefined) {
        await guard(created.key.id, input.guardrailId, signal)
      }
      return created
    },

    async successorInput(key, { signal }) {
      const guardrailId = await findGuardrail(client, key.id, signal)
      return openRouterSuccessorPlan(key, openRouterCapabilities, guardrailId)
    },

    async update(encodedId, patch, { signal }) {
      const response = await client.request({
        operation: 'update',
        method: 'PATCH',
        path: `/keys/${encodedId}`,
        json: {
          name: patch.name,
          disabled: patch.status === undefined ? undefined : patch.status === 'disabled',
          limit: patch.limit,
          limit_reset: patch.limitReset,
          include_byok_in_limit: patch.includeByokInLimit,
        },
        schema: keyResponseSchema,
        signal,
      })
      return toApiKey(response.data.data)
    },

    delete: (encodedId, { signal }) => deleteKey(encodedId, signal),

    verify: (secret, { signal }) =>
      probeSecret(client, secret, (value) => ({
        method: 'GET',
        path: '/key',
        headers: { authorization: `Bearer ${value}` },
        schema: currentKeyResponseSchema,
        signal,
      })),

    // Management keys are made on their own dashboard page and cannot call models; /keys
    // lists only the keys they manage, so the store's own credential is never among them.
    credentialKeyIds: async () => [],
  })
}

/**
 * OpenRouter lists a key whose `expires_at` has passed as it was, though it no longer works:
 * such a key is `expired`, unless it is disabled. A disabled key stays `disabled` past its
 * expiry: a fleet manages an expired key as one still in use and replaces it, and a key that
 * a rotation retired by disabling it must never be replaced again.
 */
function statusOf(record: OpenRouterKey, now: number): KeyStatus {
  if (record.disabled) return 'disabled'
  const expires = record.expires_at ? Date.parse(record.expires_at) : Number.NaN
  return expires <= now ? 'expired' : 'active'
}

function toApiKey(record: OpenRouterKey, now: number = Date.now()): ApiKey {
  return {
    provider: PROVIDER,
    id: record.hash,
    name: record.name,
    status: statusOf(record, now),
    hint: record.label,
    createdAt: new Date(record.created_at),
    updatedAt: record.updated_at === null ? null : new Date(record.updated_at),
    lastUsedAt: null,
    expiresAt: record.expires_at ? new Date(record.expires_at) : null,
    metadata: {},
    raw: record,
    workspace: record.workspace_id,
    spend: {
      used: record.usage,
      usedThisMonth: record.usage_monthly,
      usedToday: record.usage_daily ?? null,
      usedThisWeek: record.usage_weekly ?? null,
      limit: record.limit,
      remaining: record.limit_remaining,
      limitReset: record.limit_reset,
    },
  }
}
