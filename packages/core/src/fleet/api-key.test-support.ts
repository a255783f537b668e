// A plain ApiKey for the fleet's pure-function tests, measured against a fixed clock.
import type { ApiKey } from '../types.js'

export const NOW = new Date('2026-06-01T00:00:00.000Z')
export const DAY = 86_400_000
export const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY)

/** A key named `ci-deploy`, ten days old, never used, with `fields` on top. */
export function apiKey(fields: Partial<ApiKey> = {}): ApiKey {
  return {
    provider: 'memory',
    id: 'key-1',
    name: 'ci-deploy',
    status: 'active',
    hint: null,
    createdAt: daysAgo(10),
    updatedAt: null,
    lastUsedAt: null,
    expiresAt: null,
    metadata: {},
    raw: {},
    ...fields,
  }
}

/** Where the tests' `vendor` store creates keys, as errors and checks name it. */
export const createContext = { provider: 'vendor', operation: 'create' }

/** A create marker, as `createMarker` makes them. */
export const MARKER = 'kw1111111111111111111111'

/** A key of the tests' `vendor` store, of unknown age, with `fields` on top. */
export const vendorKey = (fields: Partial<ApiKey>) =>
  apiKey({ provider: 'vendor', createdAt: null, ...fields })
