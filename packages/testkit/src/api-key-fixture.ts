import type { ApiKey } from '@keyway/core/adapter'

/**
 * A plain `ApiKey` for tests of code that reads keys (`memory` key `k1` named `ci`, active,
 * with every date unknown), with `fields` on top.
 */
export function apiKeyFixture(fields: Partial<ApiKey> = {}): ApiKey {
  return {
    provider: 'memory',
    id: 'k1',
    name: 'ci',
    status: 'active',
    hint: null,
    createdAt: null,
    updatedAt: null,
    lastUsedAt: null,
    expiresAt: null,
    metadata: {},
    raw: {},
    ...fields,
  }
}
