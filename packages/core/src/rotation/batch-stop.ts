import { KeyStoreError } from '../errors.js'

/**
 * Stops every rotation of a batch at once: when the caller's signal aborts, or when one
 * rotation fails with an error that is not a keyway error. Every vendor and delivery failure
 * is a keyway error, so anything else is the journal (or a progress callback) failing, and
 * rotating on without a journal would be unsafe. The rotations still running are aborted,
 * and each resumes from its journal when the batch runs again.
 */
export class BatchStop {
  readonly #controller = new AbortController()
  readonly #caller: AbortSignal | undefined
  #fatal: { error: unknown } | undefined
  readonly signal: AbortSignal

  constructor(caller: AbortSignal | undefined) {
    this.#caller = caller
    this.signal =
      caller === undefined
        ? this.#controller.signal
        : AbortSignal.any([caller, this.#controller.signal])
  }

  get stopped(): boolean {
    return this.signal.aborted
  }

  /** Whether `error` stops the batch (rather than being one key's failed outcome). */
  halts(error: unknown): boolean {
    if (this.signal.aborted) return true
    if (KeyStoreError.is(error)) return false
    this.#fatal = { error }
    this.#controller.abort(error)
    return true
  }

  /** Throws what stopped the batch, if anything did. */
  rethrow(): void {
    if (this.#fatal !== undefined) throw this.#fatal.error
    this.#caller?.throwIfAborted()
  }
}
