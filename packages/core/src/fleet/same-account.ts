import { SameAccountError, ValidationError } from '../errors.js'
import { fingerprintChange, type StoreFingerprint, storeFingerprint } from '../store-fingerprint.js'
import type { FleetStore } from './fleet-types.js'
import { globsCannotOverlap } from './key-selector.js'

/** One store's part of a fleet call: the keys it may touch, where they are known exactly. */
export interface StoreSelection {
  fleetStore: FleetStore
  /** The exact key ids (`keyIds`, or a journalled batch's); `undefined`: its selector decides. */
  keyIds?: readonly string[] | undefined
}

/**
 * Refuses, before anything is written, two stores that reach the same account (equal
 * fingerprints under the fleet's digest key) unless their selections provably cannot overlap:
 * disjoint exact key id lists, or name globs that no name can match both. A store that
 * cannot tell its account (not built by `defineKeyStore`) is compared by object only, which
 * `createFleet` already does.
 */
export function checkDistinctAccounts(
  operation: string,
  selections: readonly StoreSelection[],
  digestKey: Uint8Array,
): void {
  const known = selections.flatMap((selection) => {
    const fingerprint = fingerprintOf(selection.fleetStore, digestKey)
    return fingerprint === undefined ? [] : [{ ...selection, fingerprint }]
  })
  for (const [index, first] of known.entries()) {
    for (const second of known.slice(index + 1)) {
      if (fingerprintChange(first.fingerprint, second.fingerprint) !== undefined) continue
      if (cannotOverlap(first, second)) continue
      const labels = [first.fleetStore.label, second.fleetStore.label] as const
      throw new SameAccountError({
        provider: 'fleet',
        operation,
        labels,
        issues: [
          {
            path: labels[1],
            message: `reaches the same account as "${labels[0]}" and their selections may overlap`,
          },
        ],
      })
    }
  }
}

function fingerprintOf(
  fleetStore: FleetStore,
  digestKey: Uint8Array,
): StoreFingerprint | undefined {
  try {
    return storeFingerprint(fleetStore.store, digestKey)
  } catch (error) {
    if (error instanceof ValidationError) return undefined
    throw error
  }
}

/** Whether no key can be in both selections; `false` whenever that cannot be proven. */
export function cannotOverlap(first: StoreSelection, second: StoreSelection): boolean {
  if (first.keyIds !== undefined && second.keyIds !== undefined) {
    const ids = new Set(first.keyIds)
    return !second.keyIds.some((id) => ids.has(id))
  }
  // An exact key list against a selector would need the keys' names: a request. Not proven.
  if (first.keyIds !== undefined || second.keyIds !== undefined) return false
  const a = first.fleetStore.select
  const b = second.fleetStore.select
  // Status and age are not used: they change over time.
  return a?.name !== undefined && b?.name !== undefined && globsCannotOverlap(a.name, b.name)
}
