import { KeyStoreError } from '../errors.js'
import type { RequestOptions } from '../types.js'
import type { DeliveryTarget } from './delivery-target.js'

/** What a probe of one target found. Plain data, never a secret. */
export interface TargetProbe {
  target: string
  kind: string
  /**
   * `'reachable'`: the probe passed (the target's own check: a permissions read, a dry
   * run); `'failed'`: it did not (see `error`); `'unchecked'`: the target has no probe.
   */
  status: 'reachable' | 'failed' | 'unchecked'
  /** Why it failed: the keyway error's code and message (scrubbed), or `null`. */
  error: { code: string; message: string } | null
}

/**
 * Checks each target without writing a secret (each target's `probe`), one after another,
 * for audits: a target that cannot be reached or lacks a permission shows before a rotation
 * needs it. Never throws for a target's failure; an aborted signal stops at once.
 */
export async function probeTargets(
  targets: readonly DeliveryTarget[],
  options: RequestOptions = {},
): Promise<TargetProbe[]> {
  const probes: TargetProbe[] = []
  for (const target of targets) {
    const base = { target: target.name, kind: target.description.kind }
    if (target.probe === undefined) {
      probes.push({ ...base, status: 'unchecked', error: null })
      continue
    }
    try {
      await target.probe(options)
      probes.push({ ...base, status: 'reachable', error: null })
    } catch (error) {
      options.signal?.throwIfAborted()
      probes.push({
        ...base,
        status: 'failed',
        error: KeyStoreError.is(error)
          ? { code: error.code, message: error.message }
          : {
              code: 'unknown',
              message: 'the probe failed with an error that is not a keyway error',
            },
      })
    }
  }
  return probes
}
