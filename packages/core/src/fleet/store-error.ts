import { KeyStoreError } from '../errors.js'
import type { FleetStore, FleetStoreError } from './fleet-types.js'

/** A store's failure as plain data: keyway errors hold no secret; any other error's text is not passed on. */
export function storeError(fleetStore: FleetStore, error: unknown): FleetStoreError {
  return {
    label: fleetStore.label,
    provider: fleetStore.store.provider,
    error: KeyStoreError.is(error)
      ? { name: error.name, code: error.code, message: error.message }
      : { name: 'Error', code: 'unknown', message: 'the store failed with a non-keyway error' },
  }
}
