import { KeyStoreError } from '../errors.js'
import { rotatable } from '../rotation/rotation-plan.js'
import { type AuditContext, auditKey } from './audit-key.js'
import type {
  AuditEntry,
  AuditFinding,
  AuditPolicy,
  AuditReport,
  FleetStore,
  FleetStoreError,
} from './fleet-types.js'
import { storeError } from './store-error.js'

/** Findings for which `rotate` replaces a managed key. */
export const ROTATE_FOR: ReadonlySet<AuditFinding['kind']> = new Set(['too-old', 'expiring-soon'])

/** The findings that make a managed, active key due for rotation (none: not due). */
export function rotationReasons(entry: AuditEntry): AuditFinding[] {
  // An expired key is due too (its `expiring-soon` finding): its plan says whether it can be.
  if (!entry.managed || !rotatable(entry.key)) return []
  return entry.findings.filter((finding) => ROTATE_FOR.has(finding.kind))
}

/** One store's keys with their findings: one listing, and the store's own credential ids. */
export async function auditStore(
  fleetStore: FleetStore,
  policy: AuditPolicy,
  now: Date,
  signal: AbortSignal | undefined,
): Promise<AuditEntry[]> {
  const { store } = fleetStore
  const request = signal === undefined ? {} : { signal }
  const [keys, ownIds] = await Promise.all([
    store.list({ ...request, includeDisabled: true }),
    store.credentialKeyIds?.(request),
  ])
  const context: AuditContext = {
    label: fleetStore.label,
    provider: store.provider,
    capabilities: store.capabilities,
    select: fleetStore.select,
    ownIds,
    policy,
    now,
  }
  return keys.map((key) => auditKey(key, context))
}

/**
 * Runs `work` for every store side by side. A store that fails is an error entry, unless the
 * caller aborted (then the call rejects) or the failure is not a keyway error (a bug or a
 * broken journal: it rejects too, after the other stores were told to stop).
 */
export async function eachStore<T>(
  stores: readonly FleetStore[],
  signal: AbortSignal | undefined,
  work: (fleetStore: FleetStore, signal: AbortSignal) => Promise<T>,
): Promise<{ results: Array<{ fleetStore: FleetStore; value: T }>; errors: FleetStoreError[] }> {
  const stop = new AbortController()
  const combined = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal])
  let fatal: { error: unknown } | undefined
  const settled = await Promise.all(
    stores.map(async (fleetStore) => {
      try {
        return { fleetStore, value: await work(fleetStore, combined) }
      } catch (error) {
        if (!combined.aborted && !KeyStoreError.is(error)) {
          fatal = { error }
          stop.abort(error)
        }
        return { fleetStore, error }
      }
    }),
  )
  signal?.throwIfAborted()
  if (fatal !== undefined) throw fatal.error
  const results: Array<{ fleetStore: FleetStore; value: T }> = []
  const errors: FleetStoreError[] = []
  for (const item of settled) {
    if ('value' in item) results.push(item as { fleetStore: FleetStore; value: T })
    else errors.push(storeError(item.fleetStore, item.error))
  }
  return { results, errors }
}

/** Every store's keys with their findings; a store that fails is an error entry. */
export async function auditFleet(
  stores: readonly FleetStore[],
  policy: AuditPolicy,
  now: Date,
  signal: AbortSignal | undefined,
): Promise<AuditReport> {
  const { results, errors } = await eachStore(stores, signal, (fleetStore, storeSignal) =>
    auditStore(fleetStore, policy, now, storeSignal),
  )
  return { at: now, entries: results.flatMap((result) => result.value), errors }
}
