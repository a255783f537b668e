import type { HistoryEntry } from '../history/history-entry.js'
import type { RotateKeysProgress } from '../rotation/batch-outcome.js'
import type { RotateKeysResult } from '../rotation/rotate-keys.js'
import type { RotationJournal } from '../rotation/rotation-journal.js'
import type { RetireMode } from '../rotation/rotation-options.js'
import type { RotationPlan } from '../rotation/rotation-plan.js'
import type { DeliveryTarget } from '../targets/delivery-target.js'
import type { ApiKey, CreatedKey, KeyStore, ListOptions } from '../types.js'
import type { LastUse } from './last-use.js'
import type { RotationSchedule, ScheduleState } from './rotation-schedule.js'

/** Which keys of a store a fleet manages (rotates). Every given field must match. */
export interface KeySelector {
  /** Glob on the key's name: `*` any run of characters, `?` one; a nameless key never matches. */
  name?: string
  /** Only keys created at least this many days ago (a key without a creation date never matches). */
  olderThanDays?: number
  /** Which status a managed key has. Default `'active'`, which includes keys that have expired. */
  status?: 'active' | 'disabled' | 'any'
  /** Only keys of this workspace (`ApiKey.workspace`, e.g. an OpenRouter workspace id); a key without one never matches. */
  workspace?: string
}

/** A store's rotation settings within a fleet. */
export interface FleetRotationSettings {
  /** What happens to an old key: `'delete'` (default), `'disable'` or `'keep'`. */
  retire?: RetireMode
  /** Wait between the new keys' verification and retiring the old ones, in ms. Default `0`. */
  graceMs?: number
  /** Rotations of this store at once. Default `4`. */
  concurrency?: number
  /**
   * Rotate a key that may be the store's own credential too (see `RotationOptions.allowSelf`):
   * the store switches to the new key first. Default `false`: such a key is skipped.
   */
  allowSelf?: boolean
  /**
   * Each successor expires this many days after it is made. Default: it keeps the old key's
   * expiry, so a key due because it expires soon is skipped (its successor would expire at
   * the same moment, and every run would rotate it again).
   */
  expiresInDays?: number
  /** Fields every successor is made with, over those carried from the old key (e.g. OpenRouter's `limit`). */
  input?: Record<string, unknown>
}

/** One store of a fleet. */
export interface FleetStore {
  /**
   * Unique in the fleet: names the store in output, batch ids and results
   * (`"openrouter-prod"`). Letters, digits, `.`, `_` and `-`, starting with a letter or
   * digit, at most 64 characters.
   */
  label: string
  /** The store itself; a store object may belong to one label only. */
  // biome-ignore lint/suspicious/noExplicitAny: a fleet mixes stores of every vendor's input types
  store: KeyStore<any, any>
  /** Keys the fleet manages; none given = every key is managed. */
  select?: KeySelector
  /** Rotation settings for this store's keys (retire mode, grace, concurrency). */
  rotation?: FleetRotationSettings
  /**
   * When its managed keys are rotated: one schedule, or a list where the first that covers a
   * key applies (see `RotationSchedule`). A key a schedule covers is due by its schedule alone
   * (`scheduledKeys`); the others by the policy. Needs `rotation.retire` other than `'keep'`
   * (a kept old key would stay due), and a store with expiry for a `lifetime`.
   */
  schedule?: RotationSchedule | readonly RotationSchedule[]
}

/** A key tagged with the label of its store. */
export interface FleetKey {
  label: string
  provider: string
  key: ApiKey
}

/** What an audit checks every key against. Each rule applies only when given. */
export interface AuditPolicy {
  /** A key created more than this many days ago: finding `'too-old'`. */
  maxAgeDays?: number
  /** A key not used for this many days (since `lastUsedAt`, or `createdAt` when never used): `'unused'`. */
  unusedDays?: number
  /** A key that expires within this many days, or has expired: `'expiring-soon'`. */
  expiringWithinDays?: number
  /**
   * A key with neither a spending limit nor an expiry, where the vendor offers either
   * (`capabilities.spendLimit` or `capabilities.expiry`): `'no-limit-or-expiry'`.
   */
  requireLimitOrExpiry?: boolean
}

/** The kinds of audit finding. */
export type AuditFindingKind =
  | 'too-old'
  | 'unused'
  | 'expiring-soon'
  | 'no-limit-or-expiry'
  | 'disabled'
  | 'own-credential'
  | 'unmanaged'
  | 'scheduled'

/** One thing an audit found about a key, in plain words. Never a secret. */
export interface AuditFinding {
  kind: AuditFindingKind
  message: string
}

/** One key in an audit, with its findings. */
export interface AuditEntry {
  label: string
  provider: string
  key: ApiKey
  /** Whole days since the key was made, where the vendor says. */
  ageDays: number | null
  /** Whether the store's selector matches the key (always, without a selector). */
  managed: boolean
  /** Whether the key may be the store's own credential (`credentialKeyIds`, or a store that cannot tell). */
  ownCredential: boolean
  /** What is known of its last use: a date, a period its spending shows, `never`, or `unknown`. */
  lastUse: LastUse
  findings: AuditFinding[]
}

/** A store that could not be read or rotated, its error as plain data. Never a secret. */
export interface FleetStoreError {
  label: string
  provider: string
  error: { name: string; code: string; message: string }
}

/** Every key of every store with its findings, and the stores that failed. */
export interface AuditReport {
  /** The time the audit measured ages against. */
  at: Date
  entries: AuditEntry[]
  errors: FleetStoreError[]
}

/** A key `rotate` would rotate, with the findings behind it (`'too-old'`, `'expiring-soon'`). */
export interface FleetPlanEntry {
  label: string
  provider: string
  key: ApiKey
  reasons: AuditFinding[]
  /** The rotation's own plan: successor input, warnings, skip reason. */
  plan: RotationPlan
  /** Where the key stands under its schedule, for a key a schedule covers. */
  schedule?: ScheduleState
}

/** What `rotate` would do under a policy. */
export interface FleetPlan {
  at: Date
  /** Keys that would be rotated. */
  entries: FleetPlanEntry[]
  /** Keys that are due but would be skipped (`plan.action === 'skip'`, with `plan.reason`). */
  skipped: FleetPlanEntry[]
  errors: FleetStoreError[]
}

/** Options of `Fleet.rotate`. */
export interface FleetRotateOptions {
  /**
   * Names the batch. Each store's part is a `rotateKeys` batch journalled under
   * `${batchId}:${label}`, so running the batch again finishes exactly what is unfinished.
   * Default: a new UUID.
   */
  batchId?: string
  /** The caller means to resume: a `batchId` the journal knows for no store is a `ValidationError`. */
  resume?: boolean
  /** Where every store's rotations are journalled (one journal for the fleet). */
  journal: RotationJournal
  /**
   * Delivers one new secret of one store. Required unless `targets` is given; beside targets
   * it is one more target of each key.
   */
  deliver?: (created: CreatedKey, store: FleetStore) => void | Promise<void>
  /**
   * Where each key's new secret goes (see `RotationOptions.targets`): the delivery targets of
   * one key of one store. A key given none goes through `deliver`.
   */
  targets?: (
    key: { keyId: string; key: ApiKey | null },
    store: FleetStore,
  ) => readonly DeliveryTarget[]
  /** Exactly these keys per label (a plan's keys); stores not named are left out. Default: what `plan(policy)` selects. */
  keyIds?: Record<string, readonly string[]>
  /** The policy that chooses the keys when `keyIds` is not given. */
  policy?: AuditPolicy
  /** The time `policy` and schedules measure against. Default: now. */
  now?: Date
  /** History, for keys whose last rotation only history holds (see `scheduledKeys`). */
  history?: readonly HistoryEntry[]
  /**
   * The digest key `history`'s account fingerprints were made with (see `storeFingerprint`).
   * With it, a store's history counts only where it names the account the store reaches now
   * (see `rotationHistory`); without it, by label and key id alone.
   */
  historyDigestKey?: string | Uint8Array
  /** Told each key's outcome and each pause, with the store's label. Never a secret. */
  onProgress?: (progress: RotateKeysProgress & { label: string }) => void
  /** Stops every store's rotations; the batch resumes when run again. */
  signal?: AbortSignal
  /** Plan only: nothing is written (not even the journal). */
  dryRun?: boolean
}

/** One store's part of a fleet rotation. */
export interface FleetRotateStoreResult {
  label: string
  provider: string
  /** The store's batch outcome; `null` when the store failed as a whole (see `error`). */
  result: RotateKeysResult | null
  error?: FleetStoreError['error']
}

/**
 * A fleet rotation's outcome: every store's batch, and totals. `rotated`, `failed` and
 * `skipped` count keys over every store; a store that failed as a whole is not counted there
 * but has its `error` in `stores`.
 */
export interface FleetRotateResult {
  batchId: string
  stores: FleetRotateStoreResult[]
  rotated: number
  failed: number
  skipped: number
}

/** Options of `Fleet.audit` and `Fleet.plan`. */
export interface FleetAuditOptions {
  /** The time ages, expiries and schedules are measured against. Default: now. */
  now?: Date
  /** History, for keys whose last rotation only history holds (see `scheduledKeys`). */
  history?: readonly HistoryEntry[]
  /**
   * The digest key `history`'s account fingerprints were made with (see `storeFingerprint`).
   * With it, a store's history counts only where it names the account the store reaches now
   * (see `rotationHistory`); without it, by label and key id alone.
   */
  historyDigestKey?: string | Uint8Array
  signal?: AbortSignal
}

/** Several stores (any vendors, several accounts each) listed, audited and rotated as one. */
export interface Fleet {
  readonly stores: readonly FleetStore[]
  /** Every key of every store, each tagged with its store's label. A store that fails rejects the call. */
  list(options?: ListOptions): Promise<FleetKey[]>
  /** Every key of every store, store after store, page by page. */
  iterate(options?: ListOptions): AsyncIterable<FleetKey>
  /** Every key of every store with its findings under `policy`; a store that fails is an error entry. */
  audit(policy: AuditPolicy, options?: FleetAuditOptions): Promise<AuditReport>
  /** The managed keys `policy` finds too old or expiring soon, with their rotation plans. Writes nothing. */
  plan(policy: AuditPolicy, options?: FleetAuditOptions): Promise<FleetPlan>
  /** Rotates each store's due keys through `rotateKeys`, the stores side by side. */
  rotate(options: FleetRotateOptions): Promise<FleetRotateResult>
}
