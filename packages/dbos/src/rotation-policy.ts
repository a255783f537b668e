import type { ApiKey, AuditPolicy, RotationHistory } from '@keyway/core'
import { lastRotation } from '@keyway/core/adapter'

/**
 * Which keys a scheduled policy rotates. It also names the batch: a key it already rotated or
 * is rotating has the same workflow id the next time it fires, so nothing is started twice,
 * and the new key (young, with another id) is not old enough yet. With `fromSchedules`, and
 * with `maxAgeMs` where keys are regenerated in place (`rotation.strategy: 'regenerate'`), the
 * batch is the policy's name and the moment the key fell due (`<name>~YYYYMMDDTHHMMZ`), so a
 * key regenerated in place (the same id) is rotated again once it is due again; otherwise it
 * is the policy's name.
 */
export interface RotationPolicy {
  /** Names the policy, its DBOS schedule and its batch: letters, digits, `-` and `_`. */
  name: string
  /** When it fires: a DBOS crontab, five fields, or six with seconds first. */
  schedule: string
  /** The store labels it covers. Default: every store. */
  labels?: readonly string[]
  /** Rotate keys at least this old (by `createdAt`; a key without one counts as old). */
  maxAgeMs?: number
  /** Rotate only keys this returns `true` for. Default: every active key. */
  select?: (key: ApiKey, label: string) => boolean
  /**
   * Rotate what a fleet plan rotates under this audit policy, as `keyway plan` and core's
   * `createFleet(…).plan(policy)` do: the managed, active keys it finds too old or expiring
   * soon (each store's `select` says which keys are managed), never a key the rotation would
   * skip (the store's own credential, unless allowed). Instead of `maxAgeMs` and `select`.
   */
  audit?: AuditPolicy
  /**
   * Rotate what each store's `schedule` finds due, as `keyway apply` does with the same
   * schedules (core's `scheduledKeys`: the vendor's creation time, else the history table),
   * instead of `maxAgeMs`, `select` and `audit`. Fire it often (`'* * * * *'`): each due key is
   * rotated once per due time, whichever firing (on whichever worker) sees it first.
   */
  fromSchedules?: boolean
}

/**
 * Whether `key` is due under `policy` at `now` (ms since the epoch). Its age counts from its
 * last rotation as core's schedules read it (`lastRotation`): its creation, or a regenerate in
 * place that `history` holds; a key with neither counts as old.
 */
export function isDue(
  policy: RotationPolicy,
  key: ApiKey,
  label: string,
  now: number,
  history?: RotationHistory,
): boolean {
  if (key.status !== 'active') return false
  if (policy.select !== undefined && !policy.select(key, label)) return false
  const last = lastRotation(key, label, history)
  if (policy.maxAgeMs === undefined || last === null) return true
  return now - last.at.getTime() >= policy.maxAgeMs
}

const MINUTE_MS = 60_000

/**
 * When `key` fell due under `policy`'s `maxAgeMs` (ms since the epoch): its last rotation as
 * `isDue` reads it, taken to the minute, plus `maxAgeMs`; `null` without `maxAgeMs` or where its
 * last rotation is unknown.
 */
export function dueSince(
  policy: RotationPolicy,
  key: ApiKey,
  label: string,
  history?: RotationHistory,
): number | null {
  const last = lastRotation(key, label, history)
  if (policy.maxAgeMs === undefined || last === null) return null
  return Math.floor(last.at.getTime() / MINUTE_MS) * MINUTE_MS + policy.maxAgeMs
}

/** A policy's batch for a key that fell due at `dueAt`: `<policy>~YYYYMMDDTHHMMZ` (`~unknown` without it). */
export function dueBatch(policy: string, dueAt: Date | number | null | undefined): string {
  const stamp =
    dueAt == null
      ? 'unknown'
      : `${new Date(dueAt).toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`
  return `${policy}~${stamp}`
}
