import { rotateKeys } from '../rotation/rotate-keys.js'
import { auditFleet, eachStore, rotationReasons } from './fleet-audit.js'
import type { AuditPolicy, FleetPlan, FleetPlanEntry, FleetStore } from './fleet-types.js'

const DAY_MS = 86_400_000

/** A store's rotation settings as `rotateKeys` options; a successor's lifetime counts from `now`. */
export function rotationSettings(fleetStore: FleetStore, now: Date = new Date()) {
  const { retire, graceMs, concurrency, allowSelf, expiresInDays, input } =
    fleetStore.rotation ?? {}
  const lifetime =
    expiresInDays === undefined
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
 * What a fleet rotation would do under `policy`: every managed, active key the policy finds
 * too old or expiring soon, each with its rotation plan (a `rotateKeys` dry run of its
 * store, so nothing is written). Keys the rotation would skip are in `skipped`.
 */
export async function planFleet(
  stores: readonly FleetStore[],
  policy: AuditPolicy,
  now: Date,
  signal: AbortSignal | undefined,
): Promise<FleetPlan> {
  const audit = await auditFleet(stores, policy, now, signal)
  const due = new Map<string, Map<string, FleetPlanEntry['reasons']>>()
  for (const entry of audit.entries) {
    const reasons = rotationReasons(entry)
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
      const result = await rotateKeys(fleetStore.store, {
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
        const entry = {
          label: fleetStore.label,
          provider: fleetStore.store.provider,
          key,
          reasons: reasonsOf,
          plan,
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
