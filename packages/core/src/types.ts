import type { Secret } from './secret.js'

/**
 * Whether a key can be used. Vendors without enable/disable only have `'active'` keys.
 * `'archived'` is final (the key never works again and cannot be enabled); `'expired'` is
 * set by the vendor when the key's expiry passed.
 */
export type KeyStatus = 'active' | 'disabled' | 'archived' | 'expired'

/** The statuses `update` can set; `'archived'` only where `capabilities.archive`. */
export type SettableKeyStatus = 'active' | 'disabled' | 'archived'

/** A vendor's API key in provider-neutral form. Never holds a usable secret. */
export interface ApiKey {
  /** The vendor: `'openrouter' | 'latitudesh' | 'notedx' | 'voiceable'` or a third-party adapter's name. */
  provider: string
  /** Stable, non-secret identifier; what `get`, `update` and `delete` take. */
  id: string
  name: string | null
  status: KeyStatus
  /** Non-secret preview for display, such as `'…ca3b'`. */
  hint: string | null
  createdAt: Date | null
  updatedAt: Date | null
  lastUsedAt: Date | null
  expiresAt: Date | null
  /** String metadata; `{}` where the vendor has none. */
  metadata: Record<string, string>
  /** The vendor's own record, with every secret field removed. */
  raw: unknown
  /** Spending and its limit, where the vendor reports them (`capabilities.spendLimit`). */
  spend?: KeySpend
  /**
   * The workspace (project, team…) the key belongs to, where the vendor groups keys (OpenRouter
   * workspaces); absent where it has no such grouping.
   */
  workspace?: string
}

/**
 * A key's spending, where the vendor reports it (OpenRouter). Amounts are in the vendor's
 * unit (USD credits at OpenRouter).
 */
export interface KeySpend {
  /** Spent over the key's whole life. */
  used: number
  /** Spent this calendar month, where the vendor says. */
  usedThisMonth: number | null
  /** Spent today (UTC), where the vendor says. */
  usedToday?: number | null
  /** Spent this week (UTC, from Monday), where the vendor says. */
  usedThisWeek?: number | null
  /** The spending limit; `null` for none. */
  limit: number | null
  /** What is left of the limit in its current period; `null` without a limit. */
  remaining: number | null
  /** When the limit resets, in the vendor's words (`'daily'`, `'weekly'`, `'monthly'`); `null` never. */
  limitReset: string | null
}

/** A key that was just minted: its record and its secret, shown this once. */
export interface CreatedKey {
  key: ApiKey
  secret: Secret
}

/** Options every single-request operation takes. */
export interface RequestOptions {
  /** Aborts the call, including any retry wait, at once. */
  signal?: AbortSignal
}

/** Options of `list` and `iterate`. */
export interface ListOptions extends RequestOptions {
  /** Include disabled keys. Default `true`. */
  includeDisabled?: boolean
}

/** A store setting that names the key the store authenticates with, and its env var. */
export interface CredentialKeySetting {
  /** The factory's setting, e.g. `'credentialKeyId'`. */
  readonly setting: string
  /** The env var it defaults to, e.g. `'VOICEABLE_API_KEY_ID'`. */
  readonly env?: string
}

/** Options of `credentialKeyIds`. */
export interface CredentialKeyIdsOptions extends RequestOptions {
  /**
   * Keys the caller has just listed (with `includeDisabled`): where the store can tell its
   * own key from a listing, it picks from these instead of listing again.
   */
  among?: readonly ApiKey[]
}

/** Options of `create`. */
export interface CreateOptions extends RequestOptions {
  /**
   * A tag unique to this create call (default: a fresh random one, see `createMarker()`). It is
   * sent with the create in a way that survives a lost answer (a temporary name, or a metadata
   * entry, renamed/removed once the create is settled), so the key can be found again with
   * `findCreated(marker)`. Pass your own to journal it before the create is sent.
   */
  marker?: string
  /**
   * Called once the vendor made the key and before its marker is removed, with the key as
   * the vendor answered: a caller that journals the new key's id here can still find it
   * after a crash in between. If it throws, the key is deleted and the create fails.
   */
  onMade?: (key: ApiKey) => void | Promise<void>
}

/** Vendor-neutral fields of a new key. Each adapter widens it with its own typed fields. */
export interface CreateKeyInput {
  name?: string
  metadata?: Record<string, string>
  expiresAt?: Date
}

/** The create input for a key like an existing one, and what cannot be carried over. */
export interface SuccessorPlan<C extends CreateKeyInput = CreateKeyInput> {
  /** Every attribute a client can set at the vendor, as create input for the new key. */
  input: C
  /** What cannot be carried over to a new key, in plain words (never a secret). */
  warnings: string[]
  /** Set when this key cannot be rotated side by side at all (NoteDx sandbox), with the reason. */
  blocked?: string
}

/** Vendor-neutral fields `update` can change. Each adapter widens it with its own typed fields. */
export interface UpdateKeyInput {
  name?: string
  status?: SettableKeyStatus
  metadata?: Record<string, string>
}

/** What a vendor can do, so neutral code can branch before it calls. */
export interface Capabilities {
  /** `'native'`: the vendor has a single-key GET; `'scan'`: the store lists and finds the id. */
  get: 'native' | 'scan'
  /** How the vendor pages its list: by offset, by cursor, by page number, or not at all. */
  pagination: 'offset' | 'cursor' | 'page' | 'none'
  /** Keys have names. */
  names: boolean
  /** Keys carry string metadata. */
  metadata: boolean
  /** Keys can be disabled and enabled again. */
  disable: boolean
  /** Keys can be archived: a final status, after which the key never works again. Default `false`. */
  archive?: boolean
  /** An expiry can be set on create. */
  expiry: boolean
  /** Keys can have a spending limit, and listed keys report their spend (`ApiKey.spend`). */
  spendLimit: boolean
  /**
   * The vendor reports when a key was last used (`ApiKey.lastUsedAt`), so a key without a
   * date was never used. Where it does not (absent or `false`), `null` there means unknown.
   */
  lastUsed?: boolean
  /** The vendor can replace a key's secret in place (`regenerate`). */
  regenerate: boolean
  /** `verify(secret)` can check a secret against the vendor. */
  verify: boolean
  /** The vendor shows a key's secret again after creation. */
  revealAfterCreate: boolean
  /**
   * What `delete` leaves behind: `'gone'` (later calls 404) or `'disabled'` (still listed,
   * disabled); `false` where the vendor cannot delete keys through its API.
   */
  deleted: 'gone' | 'disabled' | false
  /** Fields `update` accepts; `false` where the vendor cannot change keys. */
  update: readonly string[] | false
  /** Fields `create` accepts; `false` where the vendor cannot mint keys through its API. */
  create: readonly string[] | false
}

/** One interface over every vendor's key-management API. */
export interface KeyStore<
  C extends CreateKeyInput = CreateKeyInput,
  U extends UpdateKeyInput = UpdateKeyInput,
> {
  readonly provider: string
  readonly capabilities: Capabilities
  /** Every key, all pages. */
  list(options?: ListOptions): Promise<ApiKey[]>
  /** Keys page by page, in constant memory. */
  iterate(options?: ListOptions): AsyncIterable<ApiKey>
  /** One key by id; `NotFoundError` if there is none. */
  get(id: string, options?: RequestOptions): Promise<ApiKey>
  /**
   * Makes a key and returns its secret, once. The create carries a marker (see
   * `CreateOptions.marker`) until it is settled; a key it may have left behind is named in
   * the error, or found later with `findCreated(marker)`, never guessed by name. Where
   * `capabilities.create` is `false`, `UnsupportedOperationError` before any request.
   */
  create(input: C, options?: CreateOptions): Promise<CreatedKey>
  /** Keys that still carry `marker`: made by a create whose answer was lost or that is still settling. */
  findCreated(marker: string, options?: RequestOptions): Promise<ApiKey[]>
  /**
   * Changes the given fields; fields the vendor lacks throw before sending, and so does every
   * update where `capabilities.update` is `false`.
   */
  update(id: string, patch: U, options?: RequestOptions): Promise<ApiKey>
  /**
   * Deletes a key; see `capabilities.deleted` for what the vendor keeps. Where it is `false`,
   * `UnsupportedOperationError` before any request.
   */
  delete(id: string, options?: RequestOptions): Promise<void>
  /** Replaces a key's secret in place; only where `capabilities.regenerate`. */
  regenerate(id: string, options?: RequestOptions): Promise<CreatedKey>
  /**
   * Checks that a secret works at the vendor; only where `capabilities.verify`. A 2xx whose
   * body is not the vendor's shape is a `ResponseValidationError`: it proves nothing either way.
   */
  verify(secret: Secret, options?: RequestOptions): Promise<boolean>
  /**
   * The create input for a new key with the same settings as `key` (name, limits, restrictions,
   * workspace, guardrail…), what cannot be carried over, and whether it can be rotated at all.
   */
  successorInput(key: ApiKey, options?: RequestOptions): Promise<SuccessorPlan<C>>
  /**
   * Ids of listed keys that may be the credential this store itself authenticates with,
   * so that rotation never retires it by accident. `[]` where the credential is not a
   * listed key; absent where the store cannot tell.
   */
  credentialKeyIds?(options?: CredentialKeyIdsOptions): Promise<string[]>
  /**
   * Where the operator names the key this store authenticates with, when `credentialKeyIds`
   * cannot tell it alone: Voiceable's `{ setting: 'credentialKeyId', env: 'VOICEABLE_API_KEY_ID' }`.
   * A rotation plan that will not retire a key because it may be the store's own says so.
   */
  readonly credentialKeySetting?: CredentialKeySetting
  /**
   * Makes the store authenticate with another key from now on: how a rotation of the
   * store's own credential switches over before retiring the old key.
   */
  useCredential?(secret: Secret): void
  /** Shows a key's secret again, where the vendor can (`capabilities.revealAfterCreate`). */
  reveal?(id: string, options?: RequestOptions): Promise<Secret>
}
