import { AmbiguousCreateError, CreateSettleError, KeyStoreError } from './errors.js'
import { recoverFirst, removeEach, removeLeftovers } from './marked-keys.js'
import { defaultReconcileOptions, type ResolvedReconcileOptions } from './reconcile-options.js'
import { mayHaveTakenEffect } from './retry-policy.js'
import type { ApiKey, CreatedKey, RequestOptions } from './types.js'

/** The vendor calls `createWithReconcile` needs, bound to one create call and its marker. */
export interface ReconcileCreateOptions extends RequestOptions {
  /** The vendor, for errors. */
  provider: string
  /** The marker this create carries. */
  marker: string
  /**
   * Set where this create could carry no marker, with the reason: it is then sent once and
   * never again, and the keys `find` returns are only named, never touched.
   */
  unmarked?: string
  /** Sends the create request once, the marker in its input. */
  send: (signal: AbortSignal | undefined) => Promise<CreatedKey>
  /**
   * Active keys this create made: those carrying its marker. For an unmarked create, the
   * new keys that could be its (named in the error only).
   */
  find: (signal: AbortSignal | undefined) => Promise<readonly ApiKey[]>
  /** Renames the key to the requested name or removes its marker entry; returns it settled. */
  settle: (created: CreatedKey, signal: AbortSignal | undefined) => Promise<CreatedKey>
  /** Deletes a key this create made (or disables it, where the vendor cannot delete keys). */
  remove: (id: string, signal: AbortSignal | undefined) => Promise<void>
  /**
   * What `remove` does, for the words of an error: `'delete'` (default), or `'disable'` where
   * the vendor cannot delete keys. Either way the key's id is in `deletedIds`.
   */
  removes?: 'delete' | 'disable'
  /**
   * Where the vendor shows a key's secret again (NoteDx): turns a key this create made into
   * the caller's key instead of deleting it. Returns `undefined` if it cannot.
   */
  recover?: (key: ApiKey, signal: AbortSignal | undefined) => Promise<CreatedKey | undefined>
  /** How long to keep looking after a lost answer. Default `defaultReconcileOptions`. */
  window?: ResolvedReconcileOptions
}

/**
 * Creates a key without ever touching a key it cannot prove it made. The create carries a
 * marker; if its answer is lost, the store looks for keys carrying that marker over a
 * bounded window (an answer may be lost before the vendor got round to the create). Keys
 * found are this call's: one is recovered where the vendor shows secrets again, otherwise
 * they are deleted and the create is sent once more with the same marker, so a key the first
 * attempt makes even later still carries it. Anything it cannot settle is named in an
 * `AmbiguousCreateError` with the marker; a made key that cannot be settled is deleted and
 * reported in a `CreateSettleError`.
 */
export async function createWithReconcile(options: ReconcileCreateOptions): Promise<CreatedKey> {
  const { signal } = options
  const window = options.window ?? defaultReconcileOptions
  const deletedIds: string[] = []
  const fail = (what: string, candidateIds: string[], failure: unknown, cause = failure) =>
    ambiguous(options, { what, candidateIds, deletedIds, failure, cause })
  /** A key this call made and has not settled yet: named if the call stops. */
  let unsettled: string | undefined
  let sent = false

  const settle = async (created: CreatedKey): Promise<CreatedKey> => {
    unsettled = created.key.id
    let settled: CreatedKey
    try {
      settled = await options.settle(created, signal)
    } catch (settleError) {
      if (signal?.aborted) throw settleError
      throw await discardUnsettled(options, created.key.id, deletedIds, settleError)
    }
    unsettled = undefined
    return settled
  }

  signal?.throwIfAborted()
  try {
    for (let sendNumber = 1; ; sendNumber++) {
      let failure: unknown
      let created: CreatedKey | undefined
      sent = true
      try {
        created = await options.send(signal)
      } catch (error) {
        if (!mayHaveTakenEffect(error)) throw error
        failure = error
      }
      if (created !== undefined) {
        const settled = await settle(created)
        // A first attempt that lands after the window carries the marker too: ours to delete.
        if (sendNumber > 1) await discardQuietly(options, settled.key.id, deletedIds)
        return settled
      }

      let found: readonly ApiKey[]
      try {
        found = await lookOverWindow(options, window)
      } catch (listError) {
        if (signal?.aborted) throw listError
        throw fail(
          'and the keys could not be listed to look for it: the outcome is unknown',
          [],
          failure,
          listError,
        )
      }

      if (options.unmarked !== undefined) {
        const named = found.map((key) => key.id)
        throw fail(
          `and was not sent again: ${options.unmarked}${named.length > 0 ? '; keys that may be its were left untouched' : ''}`,
          named,
          failure,
        )
      }

      if (found.length === 0) {
        if (sendNumber >= 2) {
          throw fail(
            `twice, and no key carrying its marker appeared within ${window.windowMs} ms`,
            [],
            failure,
          )
        }
        continue
      }

      const { recover } = options
      const recovered =
        recover === undefined ? undefined : await recoverFirst(found, (key) => recover(key, signal))
      if (recovered !== undefined) {
        const settled = await settle(recovered.recovered)
        await discardQuietly(options, settled.key.id, deletedIds)
        return settled
      }
      await removeAll(options, found, deletedIds, failure)
      if (sendNumber >= 2) {
        throw fail(`twice; each key it made was ${removed(options)} again`, [], failure)
      }
    }
  } catch (error) {
    if (signal?.aborted && sent && !(error instanceof AmbiguousCreateError)) {
      throw ambiguous(options, {
        what: unsettled
          ? `was aborted before key ${unsettled} was settled; its secret was not returned`
          : 'was aborted while the vendor may have been making the key',
        candidateIds: unsettled === undefined ? [] : [unsettled],
        deletedIds,
        failure: error,
        cause: error,
        aborted: true,
      })
    }
    throw error
  }
}

/** Looks for the keys at once, then after waits doubling from `intervalMs`, until found or the window is over. */
async function lookOverWindow(
  options: ReconcileCreateOptions,
  window: ResolvedReconcileOptions,
): Promise<readonly ApiKey[]> {
  let waited = 0
  let wait = window.intervalMs
  for (;;) {
    const found = await options.find(options.signal)
    if (found.length > 0 || waited >= window.windowMs) return found
    const step = Math.min(wait, window.windowMs - waited)
    await window.sleep(step, options.signal)
    waited += step
    wait *= 2
  }
}

function removeAll(
  options: ReconcileCreateOptions,
  keys: readonly ApiKey[],
  deletedIds: string[],
  failure: unknown,
): Promise<void> {
  const remove = async (id: string) => {
    await options.remove(id, options.signal)
    deletedIds.push(id)
  }
  return removeEach(keys, remove, (removeError, left) => {
    if (options.signal?.aborted) return removeError
    return ambiguous(options, {
      what: `and a key it made could not be ${removed(options)}`,
      candidateIds: left.map((key) => key.id),
      deletedIds,
      failure,
      cause: removeError,
    })
  })
}

/**
 * Once the caller's key is settled: deletes any other key carrying the marker (a first
 * attempt that landed late, a second orphan). A failure leaves them carrying the marker.
 */
async function discardQuietly(
  options: ReconcileCreateOptions,
  keptId: string,
  deletedIds: string[],
): Promise<void> {
  const { signal } = options
  const late = await removeLeftovers(
    () => options.find(signal),
    (id) => options.remove(id, signal),
    keptId,
  )
  deletedIds.push(...late)
}

/** The key was made but not settled: delete it (it is provably ours) and say what happened. */
async function discardUnsettled(
  options: ReconcileCreateOptions,
  keyId: string,
  deletedIds: string[],
  settleError: unknown,
): Promise<CreateSettleError> {
  const base = {
    provider: options.provider,
    operation: 'create',
    keyId,
    marker: options.marker,
    cause: settleError,
  }
  try {
    await options.remove(keyId, options.signal)
  } catch {
    return new CreateSettleError({
      ...base,
      message: `${options.provider} create made key ${keyId} but could not settle it (rename it or remove its marker), nor ${options.removes ?? 'delete'} it: it is left behind, carrying marker ${options.marker}, and its secret was not returned.`,
      candidateIds: [keyId],
      deletedIds: [...deletedIds],
    })
  }
  return new CreateSettleError({
    ...base,
    message: `${options.provider} create made key ${keyId} but could not settle it (rename it or remove its marker), so it was ${removed(options)} again; ${options.removes === 'disable' ? 'it is left disabled' : 'no key was left behind'}.`,
    candidateIds: [],
    deletedIds: [...deletedIds, keyId],
  })
}

function ambiguous(
  options: ReconcileCreateOptions,
  details: {
    what: string
    candidateIds: string[]
    deletedIds: string[]
    /** The create's own failure. */
    failure: unknown
    cause: unknown
    aborted?: boolean
  },
): AmbiguousCreateError {
  const { provider, marker, unmarked } = options
  const reason = KeyStoreError.is(details.failure) ? details.failure.code : 'unknown'
  const named =
    details.candidateIds.length > 0
      ? ` Keys that may be orphans: ${details.candidateIds.join(', ')}.`
      : ''
  const cleaned =
    details.deletedIds.length > 0
      ? ` ${options.removes === 'disable' ? 'Disabled' : 'Deleted'} orphans: ${details.deletedIds.join(', ')}.`
      : ''
  const look =
    unmarked === undefined
      ? ` A key it made carries marker ${marker}; look for it later with findCreated('${marker}').`
      : ''
  return new AmbiguousCreateError({
    provider,
    operation: 'create',
    message: `${provider} create ${details.aborted ? '' : `failed ambiguously (${reason}) `}${details.what}.${named}${cleaned}${look}`,
    candidateIds: details.candidateIds,
    deletedIds: [...details.deletedIds],
    marker,
    cause: details.cause,
  })
}

/** The past participle of what `remove` does, for an error's words. */
function removed(options: ReconcileCreateOptions): string {
  return options.removes === 'disable' ? 'disabled' : 'deleted'
}
