import * as v from 'valibot'
import { limitMs, waitMs } from './setting-schemas.js'
import { sleep } from './sleep.js'

/**
 * How long a store keeps looking for the key of a create whose answer was lost (a timeout,
 * a dropped connection, a 5xx) before it decides that no key was made.
 */
export interface ReconcileOptions {
  /** How long to keep looking, in all. Default `10_000` ms. `0`: look once. */
  windowMs?: number
  /** The first wait between two looks; each later wait is twice as long. Default `1_000` ms. */
  intervalMs?: number
  /** Waits `ms`, or rejects with the signal's reason when it aborts. Default: a real timer. Tests inject one. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** `ReconcileOptions` with every default filled in. */
export type ResolvedReconcileOptions = Required<ReconcileOptions>

/** The defaults: look over 10 s, at 0, 1, 3, 7 and 10 s. */
export const defaultReconcileOptions: Readonly<ResolvedReconcileOptions> = Object.freeze({
  windowMs: 10_000,
  intervalMs: 1_000,
  sleep,
})

/** `ReconcileOptions` as checked before a store is built; unknown fields are refused. */
export const reconcileOptionsSchema = v.strictObject({
  windowMs: v.optional(waitMs),
  intervalMs: v.optional(limitMs),
  sleep: v.optional(v.function()),
})

/** Fills in the defaults of options already checked against `reconcileOptionsSchema`. */
export function resolveReconcileOptions(
  options: ReconcileOptions | undefined,
): ResolvedReconcileOptions {
  const resolved = { ...defaultReconcileOptions }
  for (const [field, value] of Object.entries(options ?? {})) {
    if (value !== undefined) Object.assign(resolved, { [field]: value })
  }
  return resolved
}
