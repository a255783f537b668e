// The one way keys that a marked create made are settled, whether the create's answer was
// lost in this call (`createWithReconcile`) or with an earlier process (a rotation resuming
// at `'creating'`): the keys carrying the marker are provably the create's own; one is
// recovered where the vendor shows its secret again, the others are removed.
import type { ApiKey } from './types.js'

/**
 * The first of `keys` that `recover` can turn back into the caller's key, with what it
 * gave; `undefined` if none can be. Tried in order; a failure of `recover` passes through.
 */
export async function recoverFirst<T>(
  keys: readonly ApiKey[],
  recover: (key: ApiKey) => Promise<T | undefined>,
): Promise<{ key: ApiKey; recovered: T } | undefined> {
  for (const key of keys) {
    const recovered = await recover(key)
    if (recovered !== undefined) return { key, recovered }
  }
  return undefined
}

/**
 * Removes each of `keys` in order. The first removal that fails ends it with the error
 * `failed` makes of it, given the keys still left (the failed one first).
 */
export async function removeEach(
  keys: readonly ApiKey[],
  remove: (id: string) => Promise<void>,
  failed: (error: unknown, left: readonly ApiKey[]) => unknown,
): Promise<void> {
  for (const [index, key] of keys.entries()) {
    try {
      await remove(key.id)
    } catch (error) {
      throw failed(error, keys.slice(index))
    }
  }
}

/**
 * Once the create is settled: removes every key `find` still finds carrying the marker
 * (a first attempt that landed late, a second orphan), but `keptId`. Returns the ids
 * removed; a look or a removal that fails ends it quietly, leaving the rest carrying the
 * marker for a later look.
 */
export async function removeLeftovers(
  find: () => Promise<readonly ApiKey[]>,
  remove: (id: string) => Promise<void>,
  keptId?: string,
): Promise<string[]> {
  const removed: string[] = []
  try {
    for (const key of await find()) {
      if (key.id === keptId) continue
      await remove(key.id)
      removed.push(key.id)
    }
  } catch {
    // Whatever is left still carries the marker.
  }
  return removed
}
