import {
  AmbiguousCreateError,
  type ApiKey,
  type BaseStoreSettings,
  ConflictError,
  type CreatedKey,
  type CreateKeyInput,
  type CredentialKeyIdsOptions,
  createStoreClient,
  defaultSuccessorPlan,
  defineCapabilities,
  defineKeyStore,
  type HttpClient,
  invalidSetting,
  type KeyStore,
  nextAfterId,
  paginateCursor,
  readRawKey,
  resolveCredential,
  settingOrEnv,
  UnsupportedOperationError,
  type UpdateKeyInput,
  type VendorSettings,
} from '@keyway/core/adapter'
import * as v from 'valibot'
import {
  adminKeyCreatedSchema,
  deletedSchema,
  listSchema,
  type OpenAIAdminKey,
  type OpenAIProjectKey,
  openAIAdminKeySchema,
  openAIProjectKeySchema,
  readOpenAIError,
  serviceAccountCreatedSchema,
  serviceAccountSchema,
} from './openai-schemas.js'

/** OpenAI's API. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1'

/** Keys per list page: OpenAI takes 1 to 100. */
const PAGE_SIZE = 100

/** The env vars the factory reads, by setting: spelled here once, and named by the descriptor. */
export const OPENAI_ENV = {
  adminKey: 'OPENAI_ADMIN_KEY',
  project: 'OPENAI_PROJECT_ID',
  baseUrl: 'OPENAI_BASE_URL',
} as const

const PROVIDER = 'openai'
const ID_PATTERN = /^key_[A-Za-z0-9]{1,64}$/
const PROJECT_PATTERN = /^proj_[A-Za-z0-9]{1,64}$/
const ADMIN_KEYS_PATH = '/organization/admin_api_keys'

/** Settings of `createOpenAIKeyStore`. */
export interface OpenAIKeyStoreSettings extends BaseStoreSettings, VendorSettings<'openai'> {
  /** An admin API key (`sk-admin-…`), sent as a bearer token. Default: the `OPENAI_ADMIN_KEY` env var. */
  adminKey?: string
  /**
   * A project id (`proj_…`): the store then holds that project's API keys instead of the
   * organization's admin API keys. Default: the `OPENAI_PROJECT_ID` env var, else none.
   */
  project?: string
  /** Default `https://api.openai.com/v1`, or the `OPENAI_BASE_URL` env var. */
  baseUrl?: string
}

/** Create input at OpenAI. */
export interface OpenAICreateKeyInput extends CreateKeyInput {
  /**
   * Project keys only: the new service account's role in the project, `'member'` (OpenAI's
   * default) or `'owner'`.
   */
  role?: 'member' | 'owner'
}

/** A `KeyStore` typed for OpenAI; `update` only renames a service account's key. */
export type OpenAIKeyStore = KeyStore<OpenAICreateKeyInput, UpdateKeyInput>

const createInputSchema = v.looseObject({ role: v.optional(v.picklist(['member', 'owner'])) })

/**
 * What OpenAI's Admin API can do with the organization's admin API keys: list by cursor, get,
 * create with a name and an expiry (`expires_in_seconds`), delete. They cannot be renamed or
 * disabled, and a value is shown only in the create's answer.
 */
export const openAIAdminCapabilities = defineCapabilities({
  get: 'native',
  pagination: 'cursor',
  names: true,
  expiry: true,
  lastUsed: true,
  deleted: 'gone',
  create: ['name', 'expiresAt'],
  update: false,
})

/**
 * What OpenAI's Admin API can do with a project's API keys: list by cursor, get, delete. A
 * key is minted only with a new service account, which names it; renaming a service account's
 * key renames its account. Deleting a service account's key deletes its account (the API
 * deletes such a key no other way), which the store does only where the account holds that
 * key alone.
 */
export const openAIProjectCapabilities = defineCapabilities({
  get: 'native',
  pagination: 'cursor',
  names: true,
  lastUsed: true,
  deleted: 'gone',
  create: ['name', 'role'],
  update: ['name'],
})

/**
 * A `KeyStore` for OpenAI, through the Admin API (an admin API key). Without `project` it
 * holds the organization's admin API keys; with `project: 'proj_…'` that project's API keys,
 * each new one minted as a new service account of the project.
 */
export function createOpenAIKeyStore(settings: OpenAIKeyStoreSettings = {}): OpenAIKeyStore {
  const adminKey = resolveCredential({
    provider: PROVIDER,
    settings,
    setting: 'adminKey',
    envVar: OPENAI_ENV.adminKey,
  })
  const project = resolveProject(settings)
  const client = createStoreClient(settings, {
    provider: PROVIDER,
    env: OPENAI_ENV,
    baseUrl: OPENAI_BASE_URL,
    headers: { authorization: `Bearer ${adminKey}` },
    secrets: [adminKey],
    credential: adminKey,
    account: project ?? 'organization',
    errorBody: readOpenAIError,
  })
  return project === undefined ? adminKeyStore(client, adminKey) : projectKeyStore(client, project)
}

/** The organization's admin API keys. */
function adminKeyStore(client: HttpClient, adminKey: string): OpenAIKeyStore {
  const adminKeys = (signal: AbortSignal | undefined) =>
    pages(client, ADMIN_KEYS_PATH, {}, openAIAdminKeySchema, adminApiKey, signal)

  return defineKeyStore<OpenAICreateKeyInput, UpdateKeyInput>({
    provider: PROVIDER,
    capabilities: openAIAdminCapabilities,
    client,
    idPattern: ID_PATTERN,
    // Admin keys cannot be renamed, so a create carries no marker: a key that appears after
    // a lost answer is only named in the error, never taken for this call's.
    marking: { choose: () => ({ unmarked: 'OpenAI admin API keys cannot be renamed' }) },
    matchesCreated: (key, input) => input.name === undefined || key.name === input.name,

    // OpenAI has no filter for these: without disabled keys, expired ones are left out here.
    async *iterate({ includeDisabled, signal }) {
      for await (const key of adminKeys(signal)) {
        if (includeDisabled || key.status === 'active') yield key
      }
    },

    async get(encodedId, _id, { signal }) {
      const response = await client.request({
        operation: 'get',
        method: 'GET',
        path: `${ADMIN_KEYS_PATH}/${encodedId}`,
        schema: openAIAdminKeySchema,
        signal,
      })
      return adminApiKey(response.data)
    },

    async create(input, { signal }): Promise<CreatedKey> {
      const response = await client.request({
        operation: 'create',
        method: 'POST',
        path: ADMIN_KEYS_PATH,
        json: { name: input.name, expires_in_seconds: secondsUntil(input.expiresAt) },
        schema: adminKeyCreatedSchema,
        signal,
      })
      const { value, ...record } = response.data
      return { key: adminApiKey(record), secret: client.secret(value) }
    },

    delete: (encodedId, { signal }) => deleteAt(client, `${ADMIN_KEYS_PATH}/${encodedId}`, signal),

    // The store's credential is an admin key, listed among them, but only redacted: every key
    // whose redacted value fits the credential may be it, and one that cannot be read counts.
    credentialKeyIds: async ({ signal, among }: CredentialKeyIdsOptions) => {
      const keys: ApiKey[] = [...(among ?? [])]
      if (among === undefined) {
        for await (const key of adminKeys(signal)) keys.push(key)
      }
      return keys
        .filter((key) => {
          const record = readRawKey(openAIAdminKeySchema, key, PROVIDER, 'credentialKeyIds')
          return mayBe(record.redacted_value, adminKey)
        })
        .map((key) => key.id)
    },
  })
}

/** One project's API keys; a new key is a new service account of the project. */
function projectKeyStore(client: HttpClient, project: string): OpenAIKeyStore {
  const projectPath = `/organization/projects/${encodeURIComponent(project)}`
  const keysPath = `${projectPath}/api_keys`
  const accountsPath = `${projectPath}/service_accounts`
  const toApiKey = (record: OpenAIProjectKey) => projectApiKey(record, project)

  const fetchKey = async (encodedId: string, operation: string, signal?: AbortSignal) => {
    const response = await client.request({
      operation,
      method: 'GET',
      path: `${keysPath}/${encodedId}`,
      schema: openAIProjectKeySchema,
      signal,
    })
    return response.data
  }

  /** Ids of every key of the project that `account` owns, but key `keyId`. */
  const otherKeysOf = async (account: string, keyId: string, signal: AbortSignal | undefined) => {
    const ids: string[] = []
    for await (const key of pages(
      client,
      keysPath,
      { owner_project_access: 'any' },
      openAIProjectKeySchema,
      toApiKey,
      signal,
    )) {
      const owner = (key.raw as OpenAIProjectKey).owner.service_account?.id
      if (owner === account && key.id !== keyId) ids.push(key.id)
    }
    return ids
  }

  const deleteAccount = (account: string, signal: AbortSignal | undefined) =>
    deleteAt(client, `${accountsPath}/${encodeURIComponent(account)}`, signal)

  /**
   * Makes a new service account an owner. If that fails, the account is deleted again (it is
   * provably this call's: its id came in this call's answer) and the failure thrown.
   */
  const promote = async (account: string, keyId: string, signal: AbortSignal | undefined) => {
    try {
      await client.request({
        operation: 'create',
        method: 'POST',
        path: `${accountsPath}/${encodeURIComponent(account)}`,
        json: { role: 'owner' },
        schema: serviceAccountSchema,
        signal,
        // Setting a role twice is harmless: retried as an update.
        retryAs: 'update',
      })
    } catch (failure) {
      try {
        await deleteAccount(account, signal)
      } catch (deleteError) {
        throw new AmbiguousCreateError({
          provider: PROVIDER,
          operation: 'create',
          message: `${PROVIDER} create: service account ${account} could not be made an owner, and could not be deleted again: delete it (and its key ${keyId}) yourself`,
          candidateIds: [keyId],
          cause: deleteError,
        })
      }
      throw failure
    }
  }

  return defineKeyStore<OpenAICreateKeyInput, UpdateKeyInput>({
    provider: PROVIDER,
    capabilities: openAIProjectCapabilities,
    createSchema: createInputSchema,
    client,
    idPattern: ID_PATTERN,
    // The marker rides in the new service account's name, which names its key.
    marking: { name: { maxLength: 256 } },

    iterate: ({ includeDisabled, signal }) =>
      pages(
        client,
        keysPath,
        // Without the filter OpenAI applies membership rules that may hide enabled keys.
        { owner_project_access: includeDisabled ? 'any' : 'active' },
        openAIProjectKeySchema,
        toApiKey,
        signal,
      ),

    get: async (encodedId, _id, { signal }) => toApiKey(await fetchKey(encodedId, 'get', signal)),

    async create(input, { signal }): Promise<CreatedKey> {
      const response = await client.request({
        operation: 'create',
        method: 'POST',
        path: accountsPath,
        json: { name: input.name },
        schema: serviceAccountCreatedSchema,
        signal,
      })
      const { api_key: apiKey, ...account } = response.data
      if (input.role === 'owner') await promote(account.id, apiKey.id, signal)
      const record: OpenAIProjectKey = {
        object: 'organization.project.api_key',
        id: apiKey.id,
        name: apiKey.name,
        // The value is shown, not its redacted form: the secret's last characters stand in.
        redacted_value: `…${apiKey.value.slice(-4)}`,
        created_at: apiKey.created_at,
        last_used_at: null,
        owner: {
          type: 'service_account',
          service_account: {
            id: account.id,
            name: account.name,
            created_at: account.created_at,
            role: input.role ?? account.role,
          },
        },
        owner_project_access: 'active',
      }
      return { key: toApiKey(record), secret: client.secret(apiKey.value) }
    },

    async update(encodedId, patch, { signal, id }) {
      const record = await fetchKey(encodedId, 'update', signal)
      const account = record.owner.service_account
      if (account === undefined) {
        throw new UnsupportedOperationError({
          provider: PROVIDER,
          operation: 'update',
          feature: 'update.name',
          message: `${PROVIDER} update: key ${id} belongs to a user, and OpenAI renames only service accounts`,
        })
      }
      await client.request({
        operation: 'update',
        method: 'POST',
        path: `${accountsPath}/${encodeURIComponent(account.id)}`,
        json: { name: patch.name },
        schema: serviceAccountSchema,
        signal,
      })
      return toApiKey(await fetchKey(encodedId, 'update', signal))
    },

    async delete(encodedId, { signal, id }) {
      const record = await fetchKey(encodedId, 'delete', signal)
      const account = record.owner.service_account
      if (account === undefined) return deleteAt(client, `${keysPath}/${encodedId}`, signal)
      // OpenAI deletes a service account's key only with the account: never one holding more.
      const others = await otherKeysOf(account.id, id, signal)
      if (others.length > 0) {
        throw new ConflictError({
          provider: PROVIDER,
          operation: 'delete',
          message: `${PROVIDER} delete: key ${id} belongs to service account ${account.id}, which holds ${others.length} other key(s); OpenAI deletes a service account's key only with its account, so nothing was deleted`,
        })
      }
      await deleteAccount(account.id, signal)
    },

    async successorInput(key, { signal }) {
      const record = readRawKey(openAIProjectKeySchema, key, PROVIDER)
      const plan = defaultSuccessorPlan(key, openAIProjectCapabilities)
      const account = record.owner.service_account
      if (account === undefined) {
        return {
          ...plan,
          blocked: `${PROVIDER} mints project keys only as service accounts: key ${key.id} belongs to a user, who makes keys in the dashboard`,
        }
      }
      const others = await otherKeysOf(account.id, key.id, signal)
      if (others.length > 0) {
        return {
          ...plan,
          blocked: `${PROVIDER} deletes a service account's key only with its account, and service account ${account.id} holds ${others.length} other key(s)`,
        }
      }
      if (account.role === 'owner') return { ...plan, input: { ...plan.input, role: 'owner' } }
      if (account.role !== 'member') {
        plan.warnings.push(
          `The service account's role (${account.role}) is not carried over: the new service account is a member.`,
        )
      }
      return plan
    },

    // The store authenticates with an admin key, which is never a project's key.
    credentialKeyIds: async () => [],
  })
}

/** Deletes what `path` names: a key or a service account; OpenAI answers with `deleted`. */
async function deleteAt(
  client: HttpClient,
  path: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  await client.request({
    operation: 'delete',
    method: 'DELETE',
    path,
    schema: deletedSchema,
    signal,
  })
}

/** Walks one OpenAI cursor list: `after` the last id of each page until `has_more` is false. */
function pages<TItem extends v.GenericSchema>(
  client: HttpClient,
  path: string,
  query: Record<string, string>,
  item: TItem,
  toApiKey: (record: v.InferOutput<TItem>) => ApiKey,
  signal: AbortSignal | undefined,
): AsyncGenerator<ApiKey> {
  const schema = listSchema(item)
  return paginateCursor({
    provider: PROVIDER,
    signal,
    fetchPage: async (cursor, pageSignal) => {
      const response = await client.request({
        operation: 'list',
        method: 'GET',
        path,
        query: { ...query, limit: PAGE_SIZE, after: cursor },
        schema,
        signal: pageSignal,
      })
      // The schema checked the page; its generic item type is lost in the inference.
      const page = response.data as { data: unknown[]; last_id?: string | null; has_more: boolean }
      const records = page.data as v.InferOutput<TItem>[]
      // Without a last_id, the last key listed.
      const last = page.last_id ?? (records.at(-1) as { id?: string } | undefined)?.id
      return { items: records.map(toApiKey), next: nextAfterId(PROVIDER, page.has_more, last) }
    },
  })
}

/**
 * Whether a redacted value (`sk-admin...abcd`) may be `credential`'s: its visible start and
 * end fit. One that is not in that form cannot be told apart, so it may be.
 */
function mayBe(redacted: string, credential: string): boolean {
  const [head, tail, ...rest] = redacted.split(/\.{3}|…/)
  if (head === undefined || tail === undefined || rest.length > 0) return true
  return credential.startsWith(head) && credential.endsWith(tail)
}

function secondsUntil(expiresAt: Date | undefined): number | undefined {
  if (expiresAt === undefined) return undefined
  return Math.max(1, Math.ceil((expiresAt.getTime() - Date.now()) / 1000))
}

function adminApiKey(record: OpenAIAdminKey): ApiKey {
  const expiresAt = record.expires_at === null ? null : new Date(record.expires_at * 1000)
  return {
    provider: PROVIDER,
    id: record.id,
    name: record.name ?? null,
    status: expiresAt !== null && expiresAt.getTime() <= Date.now() ? 'expired' : 'active',
    hint: record.redacted_value,
    createdAt: new Date(record.created_at * 1000),
    updatedAt: null,
    lastUsedAt: record.last_used_at ? new Date(record.last_used_at * 1000) : null,
    expiresAt,
    metadata: {},
    raw: record,
  }
}

function projectApiKey(record: OpenAIProjectKey, project: string): ApiKey {
  return {
    provider: PROVIDER,
    id: record.id,
    // A service account's key goes by its account's name: the one given at create.
    name: record.owner.service_account?.name ?? record.name,
    status: record.owner_project_access === 'active' ? 'active' : 'disabled',
    hint: record.redacted_value,
    createdAt: new Date(record.created_at * 1000),
    updatedAt: null,
    lastUsedAt: record.last_used_at === null ? null : new Date(record.last_used_at * 1000),
    expiresAt: null,
    metadata: {},
    raw: record,
    workspace: project,
  }
}

/** The `project` setting or `OPENAI_PROJECT_ID`, checked; `undefined` for the admin keys. */
function resolveProject(settings: OpenAIKeyStoreSettings): string | undefined {
  const project = settingOrEnv(PROVIDER, settings, 'project', OPENAI_ENV.project) as unknown
  if (project === undefined) return undefined
  if (typeof project === 'string' && PROJECT_PATTERN.test(project)) return project
  throw invalidSetting(
    PROVIDER,
    'project',
    OPENAI_ENV.project,
    'expected an OpenAI project id (proj_…)',
  )
}
