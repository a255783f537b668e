import { rotateKeys } from '../rotation/rotate-keys.js'
import { auditFleet, eachStore, rotationReasons } from './fleet-audit.js'
import type { AuditPolicy, FleetPlan, FleetPlanEntry, FleetStore } from './fleet-types.js'

/** A store's rotation settings as `rotateKeys` options. */
export function rotationSettings(fleetStore: FleetStore) {
  const { retire, graceMs, concurrency, allowSelf } = fleetStore.rotation ?? {}
  return {
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
        ...rotationSettings(fleetStore),
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
        return [
          {
            label: fleetStore.label,
            provider: fleetStore.store.provider,
            key,
            reasons: reasonsOf,
            plan,
          },
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
