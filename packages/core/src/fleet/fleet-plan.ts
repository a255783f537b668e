import type { HistoryEntry } from '../history/history-entry.js'
import { rotateKeys } from '../rotation/rotate-keys.js'
import { rotatable } from '../rotation/rotation-plan.js'
import { fingerprintFunction, storeFingerprint } from '../store-fingerprint.js'
import type { ApiKey, KeyStore, RequestOptions } from '../types.js'
import { auditFleet, eachStore, rotationReasons } from './fleet-audit.js'
import type {
  AuditEntry,
  AuditFinding,
  AuditPolicy,
  FleetPlan,
  FleetPlanEntry,
  FleetStore,
} from './fleet-types.js'
import {
  describeSchedule,
  type RotationHistory,
  rotationHistory,
  type ScheduleState,
  scheduledKeys,
  scheduleLifetimeMs,
  scheduleList,
  scheduleOf,
} from './rotation-schedule.js'

const DAY_MS = 86_400_000

/** A store's rotation settings as `rotateKeys` options; a successor's lifetime counts from `now`. */
export function rotationSettings(fleetStore: FleetStore, now: Date = new Date()) {
  const { retire, graceMs, concurrency, allowSelf, expiresInDays, input } =
    fleetStore.rotation ?? {}
  // With schedules, each key's lifetime is its schedule's (see `rotationStore`).
  const lifetime =
    expiresInDays === undefined || scheduleList(fleetStore.schedule).length > 0
      ? {}
      : { expiresAt: new Date(now.getTime() + expiresInDays * DAY_MS) }
  const successor = { ...input, ...lifetime }
  return {
    ...(Object.keys(successor).length === 0 ? {} : { input: successor }),
    ...(retire === undefined ? {} : { retire }),
    ...(allowSelf === undefined ? {} : { allowSelf }),
    ...(graceMs === undefined ? {} : { graceMs }),
    ...(concurrency === undefined ? {} : { concurrency }),
  }
}

/**
 * The store a fleet rotates through: with schedules, each successor expires after its key's
 * schedule's `lifetime` (else the store's `expiresInDays`), counted from `now` (a time, or a
 * clock read at each successor). Everything else is the store's own (its account, its rules).
 */
export function rotationStore(
  fleetStore: Pick<FleetStore, 'store' | 'schedule' | 'rotation'>,
  now: Date | (() => Date),
): KeyStore {
  const { store } = fleetStore
  const clock = typeof now === 'function' ? now : () => now
  const schedules = scheduleList(fleetStore.schedule)
  if (!schedules.some((schedule) => schedule.lifetime !== undefined)) return store
  const days = fleetStore.rotation?.expiresInDays
  const successorInput = async (key: ApiKey, options?: RequestOptions) => {
    const plan = await store.successorInput(key, options)
    const schedule = scheduleOf(schedules, key)
    const lifetime =
      (schedule === undefined ? undefined : scheduleLifetimeMs(schedule)) ??
      (days === undefined ? undefined : days * DAY_MS)
    if (lifetime === undefined) return plan
    return { ...plan, input: { ...plan.input, expiresAt: new Date(clock().getTime() + lifetime) } }
  }
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'successorInput') return successorInput
      const value = Reflect.get(target, property, receiver)
      // A fixed member (the store's hidden account and rules) is handed out as it is.
      if (Object.getOwnPropertyDescriptor(target, property)?.configurable === false) return value
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/**
 * What `history` says of the stores' rotations (see `rotationHistory`): with `historyDigestKey`,
 * each store's entries count only where they name the account the store reaches now.
 */
export function fleetHistory(
  stores: readonly Pick<FleetStore, 'label' | 'store'>[],
  options: { history?: readonly HistoryEntry[]; historyDigestKey?: string | Uint8Array },
): RotationHistory {
  const { history = [], historyDigestKey } = options
  if (historyDigestKey === undefined) return rotationHistory(history)
  const accounts = new Map(
    stores.map(({ label, store }) => [
      label,
      // A store not built by `defineKeyStore` cannot tell its account.
      fingerprintFunction(store) === undefined
        ? undefined
        : storeFingerprint(store, historyDigestKey),
    ]),
  )
  return rotationHistory(history, (label) => accounts.get(label))
}

/**
 * Why a managed key is due, at `now`: by its schedule when one covers it (then the policy does
 * not apply to it), else by the policy's findings. `[]`: not due.
 */
export function dueReasons(
  entry: AuditEntry,
  fleetStore: FleetStore | undefined,
  now: Date,
  history: RotationHistory,
): { reasons: AuditFinding[]; schedule?: ScheduleState } {
  const schedules = scheduleList(fleetStore?.schedule)
  const [scheduled] =
    schedules.length === 0 || !entry.managed
      ? []
      : scheduledKeys([{ label: entry.label, key: entry.key, schedules }], { now, history })
  if (scheduled === undefined) return { reasons: rotationReasons(entry) }
  const { state } = scheduled
  if (!state.due || !rotatable(entry.key)) return { reasons: [], schedule: state }
  const since =
    state.lastRotated === null
      ? 'its last rotation is not known'
      : `last rotated ${state.lastRotated.toISOString()}${state.lastRotatedFrom === 'history' ? ' (history)' : ''}`
  return {
    reasons: [
      {
        kind: 'scheduled',
        message: `due by its schedule (${describeSchedule(scheduled.schedule)}): ${since}`,
      },
    ],
    schedule: state,
  }
}

/**
 * What a fleet rotation would do under `policy` and each store's schedules: every managed key
 * its schedule finds due, and every other managed, active key the policy finds too old or
 * expiring soon, each with its rotation plan (a `rotateKeys` dry run of its store, so nothing
 * is written). Keys the rotation would skip are in `skipped`.
 */
export async function planFleet(
  stores: readonly FleetStore[],
  policy: AuditPolicy,
  now: Date,
  signal: AbortSignal | undefined,
  history: RotationHistory = rotationHistory([]),
): Promise<FleetPlan> {
  const audit = await auditFleet(stores, policy, now, signal)
  const byLabel = new Map(stores.map((fleetStore) => [fleetStore.label, fleetStore]))
  const due = new Map<string, Map<string, FleetPlanEntry['reasons']>>()
  const states = new Map<string, ScheduleState>()
  for (const entry of audit.entries) {
    const { reasons, schedule } = dueReasons(entry, byLabel.get(entry.label), now, history)
    if (schedule !== undefined) states.set(`${entry.label}\n${entry.key.id}`, schedule)
    if (reasons.length === 0) continue
    const ofStore = due.get(entry.label) ?? new Map()
    ofStore.set(entry.key.id, reasons)
    due.set(entry.label, ofStore)
  }
  const { results, errors } = await eachStore(
    stores.filter((fleetStore) => due.has(fleetStore.label)),
    signal,
    async (fleetStore, storeSignal) => {
      const reasons = due.get(fleetStore.label) as Map<string, FleetPlanEntry['reasons']>
      const result = await rotateKeys(rotationStore(fleetStore, now), {
        ...rotationSettings(fleetStore, now),
        keyIds: [...reasons.keys()],
        dryRun: true,
        signal: storeSignal,
      })
      const keys = new Map(
        audit.entries
          .filter((entry) => entry.label === fleetStore.label)
          .map((entry) => [entry.key.id, entry.key]),
      )
      return result.plans.flatMap((plan): FleetPlanEntry[] => {
        const key = keys.get(plan.keyId)
        if (key === undefined) return []
        const reasonsOf = reasons.get(plan.keyId) ?? []
        const schedule = states.get(`${fleetStore.label}\n${plan.keyId}`)
        const entry = {
          label: fleetStore.label,
          provider: fleetStore.store.provider,
          key,
          reasons: reasonsOf,
          plan,
          ...(schedule === undefined ? {} : { schedule }),
        }
        const reason = sameExpiry(entry)
        return [
          reason === undefined ? entry : { ...entry, plan: { ...plan, action: 'skip', reason } },
        ]
      })
    },
  )
  const planned = results.flatMap((result) => result.value)
  return {
    at: now,
    entries: planned.filter((entry) => entry.plan.action === 'rotate'),
    skipped: planned.filter((entry) => entry.plan.action !== 'rotate'),
    errors: [...audit.errors, ...errors],
  }
}

/**
 * Why a key due only because it expires soon is not rotated: its successor would expire at
 * the same moment, so the successor would be due at once and every run would rotate it again.
 */
function sameExpiry(entry: FleetPlanEntry): string | undefined {
  const { key, plan, reasons } = entry
  if (plan.action !== 'rotate' || reasons.some((reason) => reason.kind !== 'expiring-soon'))
    return undefined
  const expires = timeOf(key.expiresAt)
  if (expires === null || timeOf(plan.input.expiresAt) !== expires) return undefined
  return `key ${key.id} expires at ${new Date(expires).toISOString()}, and its successor would expire at the same moment, so rotating it would not help and the next run would rotate it again; give successors a lifetime (the store's rotation expiresInDays)`
}

function timeOf(value: unknown): number | null {
  if (!(value instanceof Date) && typeof value !== 'string') return null
  const time = new Date(value).getTime()
  return Number.isNaN(time) ? null : time
}
