import { TimeoutError } from '../errors.js'
import { sleep } from '../sleep.js'

/** Options of `pollUntil`. */
export interface PollOptions {
  /** When to give up (epoch milliseconds), as `TargetConfirmContext.deadline`. */
  deadline: number
  /** Pause between checks, in ms. */
  intervalMs: number
  signal?: AbortSignal | undefined
  /** For the error: the target's provider, the operation and what was awaited, in words. */
  provider: string
  operation: string
  what: string
}

/**
 * Checks until `check` gives a value (not `undefined`) or the deadline passes; then throws a
 * `TimeoutError` saying what never happened. A check that throws ends the wait with its error
 * (a failed deployment is not worth waiting for). The pause before the next check never runs
 * past the deadline.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  for (;;) {
    options.signal?.throwIfAborted()
    const value = await check()
    if (value !== undefined) return value
    const left = options.deadline - Date.now()
    if (left <= 0) {
      throw new TimeoutError({
        provider: options.provider,
        operation: options.operation,
        message: `${options.provider} ${options.operation}: ${options.what} by the deadline`,
      })
    }
    await sleep(Math.min(options.intervalMs, left), options.signal)
  }
}
