import {
  AmbiguousCreateError,
  KeyStoreError,
  NetworkError,
  ResponseValidationError,
  TimeoutError,
} from './errors.js'
import type { ApiKey, CreatedKey, RequestOptions } from './types.js'

/** The vendor calls `createWithReconcile` needs. */
export interface ReconcileCreateOptions extends RequestOptions {
  /** The vendor, for errors. */
  provider: string
  /** Lists every key, disabled ones included. */
  list: (signal: AbortSignal | undefined) => Promise<readonly ApiKey[]>
  /** Sends the create request once. */
  send: (signal: AbortSignal | undefined) => Promise<CreatedKey>
  /** Whether a key could be the one this create sent (same name or marker). */
  matches: (key: ApiKey) => boolean
  /** Deletes an orphan. */
  remove: (id: string, signal: AbortSignal | undefined) => Promise<void>
  /**
   * Where the vendor can show a key's secret again (NoteDx): turns the orphan into the
   * caller's key instead of deleting it. Returns `undefined` if it cannot.
   */
  recover?: (key: ApiKey, signal: AbortSignal | undefined) => Promise<CreatedKey | undefined>
}

/**
 * Whether a failed create may have made a key: the request may have reached the vendor and
 * been processed (connection lost after sending, a timeout, a 5xx, a 2xx we could not read).
 */
export function isAmbiguousFailure(error: unknown): boolean {
  if (!KeyStoreError.is(error)) return false
  if (error instanceof NetworkError) return error.phase === 'ambiguous'
  if (error instanceof TimeoutError || error instanceof ResponseValidationError) return true
  return error.status !== undefined && error.status >= 500
}

/**
 * Creates a key without ever leaving an unknown one behind. The ids present before the
 * create are noted; if the create fails ambiguously, the store lists again and any new key
 * that matches is the orphan. One orphan is recovered or deleted and the create is sent once
 * more; two or more are left alone and named in an `AmbiguousCreateError`.
 */
export async function createWithReconcile(options: ReconcileCreateOptions): Promise<CreatedKey> {
  const { signal } = options
  const before = new Set((await options.list(signal)).map((key) => key.id))
  const deletedIds: string[] = []

  for (let sendNumber = 1; ; sendNumber++) {
    let failure: unknown
    try {
      return await options.send(signal)
    } catch (error) {
      if (!isAmbiguousFailure(error)) throw error
      failure = error
    }

    let candidates: ApiKey[]
    try {
      candidates = (await options.list(signal)).filter(
        (key) => !before.has(key.id) && !deletedIds.includes(key.id) && options.matches(key),
      )
    } catch (listError) {
      throw ambiguous(
        options.provider,
        failure,
        [],
        deletedIds,
        'and the keys could not be listed to check',
        listError,
      )
    }

    if (candidates.length > 1) {
      throw ambiguous(
        options.provider,
        failure,
        candidates.map((key) => key.id),
        deletedIds,
        `and ${candidates.length} matching new keys exist; none was deleted`,
      )
    }

    const orphan = candidates[0]
    if (orphan !== undefined) {
      const recovered = await options.recover?.(orphan, signal)
      if (recovered !== undefined) return recovered
      try {
        await options.remove(orphan.id, signal)
        deletedIds.push(orphan.id)
      } catch (removeError) {
        throw ambiguous(
          options.provider,
          failure,
          [orphan.id],
          deletedIds,
          'and its key could not be deleted',
          removeError,
        )
      }
    }

    if (sendNumber === 2) {
      throw ambiguous(options.provider, failure, [], deletedIds, 'twice; no key was left behind')
    }
  }
}

function ambiguous(
  provider: string,
  failure: unknown,
  candidateIds: string[],
  deletedIds: string[],
  what: string,
  cause: unknown = failure,
): AmbiguousCreateError {
  const reason = KeyStoreError.is(failure) ? failure.code : 'unknown'
  const named =
    candidateIds.length > 0 ? ` Keys that may be orphans: ${candidateIds.join(', ')}.` : ''
  const cleaned = deletedIds.length > 0 ? ` Deleted orphans: ${deletedIds.join(', ')}.` : ''
  return new AmbiguousCreateError({
    provider,
    operation: 'create',
    message: `${provider} create failed ambiguously (${reason}) ${what}.${named}${cleaned}`,
    candidateIds,
    deletedIds,
    cause,
  })
}
