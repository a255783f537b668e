import * as v from 'valibot'
import type { HistoryEntry } from '../history/history-entry.js'
import { fingerprintChange, type StoreFingerprint } from '../store-fingerprint.js'
import type { ApiKey } from '../types.js'
import { globPattern, timeOf } from './key-selector.js'

/** Which keys a schedule covers, as a delivery target's `keys` says: every given field must match. */
export interface ScheduleKeys {
  /** Glob on the key's name (`*`, `?`), or the name itself; a nameless key never matches. */
  name?: string
  /**
   * These key ids. A successor made by a create has a new id, so this fits keys regenerated in
   * place; select created keys by name or labels.
   */
  ids?: readonly string[]
  /** Labels the key carries (its metadata), each value exactly. */
  metadata?: Readonly<Record<string, string>>
}

/**
 * When keys are rotated: every `every`, in a daily window opening `at` (if given) and open for
 * `window`; each successor expires `lifetime` after it is made (where the vendor has expiry).
 * Plain JSON, as a fleet config holds it. Lengths are a whole number and a unit: `m`inutes,
 * `h`ours, `d`ays or `w`eeks (`30d`, `12h`, `90m`, `2w`).
 */
export interface RotationSchedule {
  /** Which keys; none given = every key the store manages. */
  keys?: ScheduleKeys
  /** How long after its last rotation (or its creation) a key is due: `30d`. */
  every: string
  /**
   * The time of day a rotation window opens, with its zone: `03:00Z`, `04:30+02:00`. A key
   * that is due is rotated only inside a window. Default: no window (rotated once due).
   */
  at?: string
  /** How long each window stays open, at most `24h` and at most `every`. Default `2h`. */
  window?: string
  /** Each successor expires this long after it is made; must be longer than `every` + `window`. */
  lifetime?: string
}

/** A day, an hour and a minute in milliseconds. */
const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS
const UNIT_MS: Readonly<Record<string, number>> = {
  m: MINUTE_MS,
  h: HOUR_MS,
  d: DAY_MS,
  w: 7 * DAY_MS,
}

/** `30d`, `12h`, `90m`, `2w`: a whole number above 0 (at most five digits) and a unit. */
const LENGTH = /^([1-9][0-9]{0,4})([mhdw])$/
/** `03:00Z`, `23:59+05:30`, `04:00-08:00`. */
const TIME_OF_DAY = /^([01][0-9]|2[0-3]):([0-5][0-9])(Z|([+-])(0[0-9]|1[0-4]):([0-5][0-9]))$/

/** A schedule length in milliseconds; `undefined` for text that is not one. */
export function scheduleLengthMs(text: string): number | undefined {
  const match = LENGTH.exec(text)
  if (match === null) return undefined
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number)
}

/** Milliseconds after midnight UTC at which a window opens (`03:00+02:00` → 01:00 UTC). */
function windowStartMs(at: string): number {
  const match = TIME_OF_DAY.exec(at) as RegExpExecArray
  const local = Number(match[1]) * HOUR_MS + Number(match[2]) * MINUTE_MS
  if (match[3] === 'Z') return local
  const offset = Number(match[5]) * HOUR_MS + Number(match[6]) * MINUTE_MS
  const utc = match[4] === '+' ? local - offset : local + offset
  return ((utc % DAY_MS) + DAY_MS) % DAY_MS
}

// Checks, not `v.regex`: the message is keyway's own wording wherever the issue is shown.
const length = (example: string) =>
  v.pipe(
    v.string(),
    v.check(
      (text) => LENGTH.test(text),
      `expected a whole number and a unit (m, h, d or w), such as "${example}"; not a fraction, 0 or another unit`,
    ),
  )

const nonEmpty = (what: string) => v.pipe(v.string(), v.minLength(1, `expected ${what}`))

/** `ScheduleKeys`, as a config holds it. */
export const scheduleKeysSchema = v.strictObject({
  name: v.optional(nonEmpty('a non-empty glob')),
  ids: v.optional(
    v.pipe(v.array(nonEmpty('a key id')), v.minLength(1, 'expected at least one key id')),
  ),
  metadata: v.optional(v.record(v.string(), v.string())),
})

/** One `RotationSchedule`, with the checks between its fields. */
export const rotationScheduleSchema = v.pipe(
  v.strictObject({
    keys: v.optional(scheduleKeysSchema),
    every: length('30d'),
    at: v.optional(
      v.pipe(
        v.string(),
        v.check(
          (text) => TIME_OF_DAY.test(text),
          'expected a time of day from 00:00 to 23:59 with its zone, such as "03:00Z" or "04:30+02:00"',
        ),
      ),
    ),
    window: v.optional(length('2h')),
    lifetime: v.optional(length('45d')),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const schedule = dataset.value
    const at = (key: 'window' | 'lifetime', message: string) =>
      addIssue({
        message,
        path: [{ type: 'object', origin: 'value', input: schedule, key, value: schedule[key] }],
      })
    const every = scheduleLengthMs(schedule.every) as number
    if (schedule.window !== undefined) {
      const window = scheduleLengthMs(schedule.window) as number
      if (schedule.at === undefined) at('window', 'needs "at": the time of day the window opens')
      else if (window > DAY_MS) at('window', 'at most 24h: a window opens every day')
      else if (window > every)
        at('window', `at most "every" (${schedule.every}): a key would be due twice in one window`)
    }
    if (schedule.lifetime !== undefined) {
      const lifetime = scheduleLengthMs(schedule.lifetime) as number
      if (lifetime <= every + windowMs(schedule))
        at(
          'lifetime',
          `must be longer than "every"${schedule.at === undefined ? '' : ' and the window'}: a successor would expire before its next rotation`,
        )
    }
  }),
)

/** A store's schedules as a config holds them: one schedule, or a list (the first that covers a key wins). */
export const storeSchedulesSchema = v.union([
  rotationScheduleSchema,
  v.pipe(v.array(rotationScheduleSchema), v.minLength(1, 'expected at least one schedule')),
])

/** A store's schedules as a list: one schedule or a list of them. */
export function scheduleList(
  schedule: RotationSchedule | readonly RotationSchedule[] | undefined,
): readonly RotationSchedule[] {
  if (schedule === undefined) return []
  return Array.isArray(schedule) ? schedule : [schedule as RotationSchedule]
}

/** A schedule's window length (0 without `at`). */
function windowMs(schedule: RotationSchedule): number {
  if (schedule.at === undefined) return 0
  const every = scheduleLengthMs(schedule.every) as number
  return scheduleLengthMs(schedule.window ?? '') ?? Math.min(HOUR_MS * 2, every)
}

/** A successor's lifetime in ms under `schedule`, or `undefined` when it sets none. */
export function scheduleLifetimeMs(schedule: RotationSchedule): number | undefined {
  return schedule.lifetime === undefined ? undefined : scheduleLengthMs(schedule.lifetime)
}

/** Whether `schedule` covers `key`: every field of its `keys` matches (none given: every key). */
export function scheduleCovers(schedule: RotationSchedule, key: ApiKey): boolean {
  const keys = schedule.keys
  if (keys === undefined) return true
  if (keys.ids !== undefined && !keys.ids.includes(key.id)) return false
  if (keys.name !== undefined && (key.name === null || !globPattern(keys.name).test(key.name)))
    return false
  for (const [field, value] of Object.entries(keys.metadata ?? {}))
    if (key.metadata[field] !== value) return false
  return true
}

/** The first of `schedules` that covers `key`, or `undefined`: the key has no schedule. */
export function scheduleOf(
  schedules: readonly RotationSchedule[],
  key: ApiKey,
): RotationSchedule | undefined {
  return schedules.find((schedule) => scheduleCovers(schedule, key))
}

/** Where a key's last rotation was read from. */
export type LastRotationSource = 'created' | 'history'

/** Where a scheduled key stands at a moment. Plain data. */
export interface ScheduleState {
  /**
   * When the key was last rotated: the later of its creation (as the vendor tells it: a
   * successor is made by its rotation) and its last regenerate in place that history holds;
   * `null` when neither is known.
   */
  lastRotated: Date | null
  /** `'created'`: the vendor's creation time; `'history'`: a regenerate (or create) history holds. */
  lastRotatedFrom: LastRotationSource | null
  /**
   * When it is (or was) due: its last rotation plus `every`, moved to the start of the window
   * it falls in, or of the next window, or when it expired if that was sooner; `null` when its
   * last rotation is unknown (due now).
   */
  dueAt: Date | null
  /**
   * Whether a run at `now` rotates it: it is due and `now` is in a window (or there is none),
   * or it has expired (due at once, window or not: it no longer works).
   */
  due: boolean
  /** When a run will next rotate it: `now` when `due`, else the first moment it is due in a window. */
  nextRun: Date
}

/**
 * The facts of a key's last rotation that history holds, by store label and key id (and the
 * account the label reaches now, where `rotationHistory` was told it).
 */
export interface RotationHistory {
  /** The last regenerate in place that succeeded at `label` for `keyId`. */
  regenerated(label: string, keyId: string): Date | undefined
  /** When keyway created the key `keyId` at `label` (its successful create). */
  created(label: string, keyId: string): Date | undefined
}

/**
 * The account each store label reaches now, as `storeFingerprint` tells it with the digest key
 * the history's fingerprints were made with; `undefined` for a label whose account cannot be told.
 */
export type HistoryAccounts = (label: string) => StoreFingerprint | undefined

/**
 * What history says of rotations: each key's last successful regenerate and its create. Only
 * outcomes that succeeded count: an attempt whose outcome never came may not have happened.
 *
 * Key ids are the vendor's, and two accounts may use the same ones (Latitude.sh's are small
 * numbers), so with `accounts` an entry counts for a label only where it names the account the
 * label reaches now (`fingerprintChange` finds no change): a label pointed at another account
 * does not take the first account's rotations for its own keys. An entry that names no account
 * then does not count either: it cannot be told apart, and counting it could only put a key's
 * rotation off, while leaving it out at worst rotates the key once more. Without `accounts`, or
 * for a label whose account it cannot tell, entries count by label and key id alone.
 */
export function rotationHistory(
  entries: readonly HistoryEntry[],
  accounts?: HistoryAccounts,
): RotationHistory {
  const regenerated = new Map<string, number>()
  const created = new Map<string, number>()
  const current = new Map<string, StoreFingerprint | undefined>()
  const ofThisAccount = (entry: HistoryEntry) => {
    if (accounts === undefined) return true
    if (!current.has(entry.store)) current.set(entry.store, accounts(entry.store))
    const now = current.get(entry.store)
    if (now === undefined) return true
    return entry.account !== null && fingerprintChange(entry.account, now) === undefined
  }
  for (const entry of entries) {
    if (entry.phase !== 'outcome' || entry.outcome !== 'succeeded' || entry.keyId === null) continue
    const into =
      entry.action === 'regenerate' ? regenerated : entry.action === 'create' ? created : undefined
    const time = timeOf(entry.at)
    if (into === undefined || time === null || !ofThisAccount(entry)) continue
    const id = `${entry.store}\n${entry.keyId}`
    into.set(id, Math.max(into.get(id) ?? time, time))
  }
  const read = (from: Map<string, number>) => (label: string, keyId: string) => {
    const time = from.get(`${label}\n${keyId}`)
    return time === undefined ? undefined : new Date(time)
  }
  return { regenerated: read(regenerated), created: read(created) }
}

const NO_HISTORY: RotationHistory = { regenerated: () => undefined, created: () => undefined }

/**
 * When `key` was last rotated. A key made by a rotation's create carries its vendor's creation
 * time, which survives a runner that lost its files; a key regenerated in place (Latitude.sh)
 * keeps its creation time, so its regenerate is read from history. A vendor's `updatedAt` is not
 * used: a rename moves it too. History's create fills in for a vendor that tells no creation time.
 */
export function lastRotation(
  key: ApiKey,
  label: string,
  history: RotationHistory = NO_HISTORY,
): { at: Date; from: LastRotationSource } | null {
  const created = timeOf(key.createdAt)
  const regenerated = history.regenerated(label, key.id)?.getTime()
  if (regenerated !== undefined && (created === null || regenerated > created))
    return { at: new Date(regenerated), from: 'history' }
  if (created !== null) return { at: new Date(created), from: 'created' }
  const made = history.created(label, key.id)
  return made === undefined ? null : { at: made, from: 'history' }
}

/**
 * Where `key` stands under `schedule` at `now`: its last rotation, when it is due, whether a
 * run now rotates it, and when a run next will. Pure: the same inputs give the same answer,
 * so `keyway apply`, `keyway status` and durable workers decide alike. Times are taken to the
 * minute (a rotation finished at 03:00:40 counts from 03:00), so a schedule run by cron each
 * minute does not drift by a minute at every rotation.
 */
export function scheduleState(
  key: ApiKey,
  schedule: RotationSchedule,
  options: { now: Date; label: string; history?: RotationHistory },
): ScheduleState {
  const now = options.now.getTime()
  const last = lastRotation(key, options.label, options.history)
  const every = scheduleLengthMs(schedule.every)
  if (every === undefined) throw new RangeError('schedule.every is not a schedule length')
  const earliest =
    last === null ? null : Math.floor(last.at.getTime() / MINUTE_MS) * MINUTE_MS + every
  const window = windowMs(schedule)
  const dueAt =
    earliest === null || schedule.at === undefined
      ? earliest
      : windowFrom(earliest, windowStartMs(schedule.at), window)
  // An expired key no longer works: it is due at once, in a window or not, whatever `every`.
  const expired = expiredAt(key, now)
  if (expired !== null)
    return state(last, dueAt === null ? expired : Math.min(dueAt, expired), true, now)
  if (schedule.at === undefined) {
    const due = dueAt === null || now >= dueAt
    return state(last, dueAt, due, due ? now : (dueAt as number))
  }
  const opensNow = windowFrom(now, windowStartMs(schedule.at), window)
  const inWindow = opensNow <= now
  const due = (dueAt === null || now >= dueAt) && inWindow
  const nextRun = due ? now : Math.max(opensNow, dueAt ?? opensNow)
  return state(last, dueAt, due, nextRun)
}

/**
 * When `key` expired, in ms, where its expiry is at or before `now`; `now` for a key the vendor
 * calls expired without saying when; `null` for a key that has not expired.
 */
export function expiredAt(key: ApiKey, now: number): number | null {
  const expires = timeOf(key.expiresAt)
  if (expires !== null && expires <= now) return expires
  return key.status === 'expired' ? now : null
}

/** The start of the window holding `time`, or of the next window when none holds it. */
function windowFrom(time: number, startMs: number, window: number): number {
  const opened = Math.floor((time - startMs) / DAY_MS) * DAY_MS + startMs
  return time < opened + window ? opened : opened + DAY_MS
}

function state(
  last: { at: Date; from: LastRotationSource } | null,
  dueAt: number | null,
  due: boolean,
  nextRun: number,
): ScheduleState {
  return {
    lastRotated: last?.at ?? null,
    lastRotatedFrom: last?.from ?? null,
    dueAt: dueAt === null ? null : new Date(dueAt),
    due,
    nextRun: new Date(nextRun),
  }
}

/** A key with its store's label and schedules, as `dueKeys` reads it. */
export interface ScheduledKeyInput {
  /** The store's label, as history names it. */
  label: string
  /** The key as its store lists it. */
  key: ApiKey
  /** The store's schedules; the first that covers the key applies. */
  schedules: readonly RotationSchedule[]
}

/** What `scheduledKeys` and `dueKeys` measure against. */
export interface ScheduleOptions {
  /** The moment asked about. */
  now: Date
  /** History (its entries, or `rotationHistory` of them), for regenerates in place. */
  history?: readonly HistoryEntry[] | RotationHistory
}

/** A key a schedule covers, with where it stands. */
export interface ScheduledKey {
  /** The store's label. */
  label: string
  /** The key as its store lists it. */
  key: ApiKey
  /** The schedule that covers it (the first of its store's that does). */
  schedule: RotationSchedule
  /** Where it stands at the moment asked. */
  state: ScheduleState
}

/**
 * Every key a schedule covers, with where it stands at `now` (`state.due`: a run now rotates
 * it). Keys no schedule covers are left out. The one place that decides what is due by a
 * schedule: `keyway apply`, `keyway status` and `@keyway/dbos` all ask it.
 */
export function scheduledKeys(
  keys: readonly ScheduledKeyInput[],
  options: ScheduleOptions,
): ScheduledKey[] {
  const given = options.history ?? []
  const history = Array.isArray(given)
    ? rotationHistory(given as readonly HistoryEntry[])
    : (given as RotationHistory)
  return keys.flatMap(({ label, key, schedules }) => {
    const schedule = scheduleOf(schedules, key)
    if (schedule === undefined) return []
    return [
      { label, key, schedule, state: scheduleState(key, schedule, { ...options, label, history }) },
    ]
  })
}

/** The keys a run at `now` rotates by their schedules (see `scheduledKeys`). */
export function dueKeys(
  keys: readonly ScheduledKeyInput[],
  options: ScheduleOptions,
): ScheduledKey[] {
  return scheduledKeys(keys, options).filter((entry) => entry.state.due)
}

/** A schedule in words: `every 30d, 03:00Z–05:00Z`. */
export function describeSchedule(schedule: RotationSchedule): string {
  if (schedule.at === undefined) return `every ${schedule.every}`
  const minutes = windowMs(schedule) / MINUTE_MS
  const length = minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`
  return `every ${schedule.every} in a window opening ${schedule.at} for ${length}`
}
