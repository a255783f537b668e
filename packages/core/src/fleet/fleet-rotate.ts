import { randomUUID } from 'node:crypto'
import { ValidationError } from '../errors.js'
import { type RotateKeysResult, rotateKeys } from '../rotation/rotate-keys.js'
import { storeRules } from '../store-rules.js'
import type { KeyStore } from '../types.js'
import { auditStore, eachStore } from './fleet-audit.js'
import { dueReasons, fleetHistory, rotationSettings, rotationStore } from './fleet-plan.js'
import { invalidFleet } from './fleet-schemas.js'
import type {
  FleetRotateOptions,
  FleetRotateResult,
  FleetRotateStoreResult,
  FleetStore,
} from './fleet-types.js'
import { scheduleList } from './rotation-schedule.js'
import { checkDistinctAccounts } from './same-account.js'

/**
 * The `rotateKeys` batch id of one store's part of a fleet batch. A label holds no `:`, so two
 * fleet batches never share a store's batch id (`b.x` + `y` and `b` + `x.y` stay apart).
 */
export function storeBatchId(batchId: string, label: string): string {
  return `${batchId}:${label}`
}

/**
 * Rotates each store's part of a fleet batch through `rotateKeys`, the stores side by side.
 * A store whose part began earlier (its batch is in the journal) goes on with exactly its
 * journalled keys, so a rerun of a finished batch sends no write; any other store's keys are
 * `keyIds[label]`, or the managed keys `policy` finds too old or expiring soon.
 */
export async function rotateFleet(
  stores: readonly FleetStore[],
  options: FleetRotateOptions,
  digestKey: Uint8Array,
): Promise<FleetRotateResult> {
  const { journal, signal, deliver, targets } = options
  if (deliver === undefined && targets === undefined) {
    throw invalidFleet('rotate', [
      { path: 'deliver', message: 'required (or targets): stores each new secret' },
    ])
  }
  const batchId = options.batchId ?? randomUUID()
  const chosen =
    options.keyIds === undefined
      ? stores
      : stores.filter((fleetStore) => options.keyIds?.[fleetStore.label] !== undefined)
  const unknown = Object.keys(options.keyIds ?? {}).filter(
    (label) => !stores.some((fleetStore) => fleetStore.label === label),
  )
  if (unknown.length > 0) {
    throw invalidFleet(
      'rotate',
      unknown.map((label) => ({ path: `keyIds.${label}`, message: 'no store has this label' })),
    )
  }
  // Every store's keys by that store's own rules, before any store sends anything; and no
  // store's secret as another's id (that store would neither know nor redact it).
  const badIds = chosen.flatMap((fleetStore) =>
    (options.keyIds?.[fleetStore.label] ?? []).flatMap((keyId, index) => {
      const problem = idProblem(fleetStore.store, keyId) ?? anotherStoresSecret(stores, keyId)
      return problem === undefined
        ? []
        : [{ path: `keyIds.${fleetStore.label}.${index}`, message: problem }]
    }),
  )
  if (badIds.length > 0) throw invalidFleet('rotate', badIds)
  const earlier = new Map<string, boolean>()
  const journalled = new Map<string, readonly string[]>()
  if (options.batchId !== undefined) {
    for (const fleetStore of chosen) {
      const record = await journal.readBatch(storeBatchId(batchId, fleetStore.label))
      earlier.set(fleetStore.label, record !== undefined)
      if (record !== undefined) journalled.set(fleetStore.label, record.keyIds)
    }
  }
  // Before any write: two stores of one account would rotate a shared key twice.
  checkDistinctAccounts(
    'rotate',
    chosen.map((fleetStore) => ({
      fleetStore,
      keyIds: options.keyIds?.[fleetStore.label] ?? journalled.get(fleetStore.label),
    })),
    digestKey,
  )
  const begun = [...earlier.values()].some(Boolean)
  const scheduled = chosen.some((fleetStore) => scheduleList(fleetStore.schedule).length > 0)
  if (options.keyIds === undefined && options.policy === undefined && !scheduled && !begun) {
    throw invalidFleet('rotate', [
      {
        path: 'policy',
        message:
          'give a policy or keyIds (or stores with schedules): they choose the keys to rotate',
      },
    ])
  }
  if (options.resume === true && !begun) {
    const where = journal.path === undefined ? 'the journal given' : `the journal ${journal.path}`
    throw invalidFleet('rotate', [
      {
        path: 'batchId',
        message:
          options.batchId === undefined
            ? 'required to resume a batch'
            : `batch ${batchId} is not in ${where}; nothing was rotated`,
      },
    ])
  }

  const { results, errors } = await eachStore(chosen, signal, async (fleetStore, storeSignal) => {
    const { label } = fleetStore
    const given = options.keyIds?.[label]
    const keyIds =
      given ??
      (earlier.get(label) === true ? undefined : await dueKeyIds(fleetStore, options, storeSignal))
    const now = options.now ?? new Date()
    return rotateKeys(rotationStore(fleetStore, now), {
      ...rotationSettings(fleetStore, now),
      batchId: storeBatchId(batchId, label),
      journal,
      ...(keyIds === undefined ? {} : { keyIds }),
      ...(deliver === undefined ? {} : { deliver: (created) => deliver(created, fleetStore) }),
      ...(targets === undefined ? {} : { targets: (key) => targets(key, fleetStore) }),
      signal: storeSignal,
      dryRun: options.dryRun ?? false,
      ...(options.onProgress === undefined
        ? {}
        : { onProgress: (progress) => options.onProgress?.({ ...progress, label }) }),
    })
  })
  const byLabel = new Map<string, RotateKeysResult>(
    results.map((result) => [result.fleetStore.label, result.value]),
  )
  const failures = new Map(errors.map((error) => [error.label, error.error]))
  const storeResults = chosen.map((fleetStore): FleetRotateStoreResult => {
    const failure = failures.get(fleetStore.label)
    return {
      label: fleetStore.label,
      provider: fleetStore.store.provider,
      result: byLabel.get(fleetStore.label) ?? null,
      ...(failure === undefined ? {} : { error: failure }),
    }
  })
  const total = (field: 'rotated' | 'failed' | 'skipped') =>
    storeResults.reduce((sum, entry) => sum + (entry.result?.[field] ?? 0), 0)
  return {
    batchId,
    stores: storeResults,
    rotated: total('rotated'),
    failed: total('failed'),
    skipped: total('skipped'),
  }
}

/** Why the store refuses `keyId` (in words that never quote it), or `undefined`. */
function idProblem(store: KeyStore, keyId: string): string | undefined {
  try {
    storeRules(store).checkId(keyId, 'rotate')
    return undefined
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    return error.issues[0]?.message ?? 'invalid key id'
  }
}

/** Says so where `keyId` holds a secret any store of the fleet knows. */
function anotherStoresSecret(stores: readonly FleetStore[], keyId: string): string | undefined {
  return stores.some((fleetStore) => storeRules(fleetStore.store).holdsSecret(keyId))
    ? 'holds a secret (a credential or a key), not a key id'
    : undefined
}

/** The keys of a store its schedules or `policy` find due (none without either). */
async function dueKeyIds(
  fleetStore: FleetStore,
  options: FleetRotateOptions,
  signal: AbortSignal,
): Promise<string[]> {
  const now = options.now ?? new Date()
  const entries = await auditStore(fleetStore, options.policy ?? {}, now, signal)
  const history = fleetHistory([fleetStore], options)
  return entries
    .filter((entry) => dueReasons(entry, fleetStore, now, history).reasons.length > 0)
    .map((entry) => entry.key.id)
}
