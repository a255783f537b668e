import { KeyStoreError, RotationError } from '../errors.js'
import { storeRules } from '../store-rules.js'
import type { TargetDelivery } from '../targets/delivery-target.js'
import type { KeyStore } from '../types.js'
import type { RotationResult } from './rotation-run.js'

/** One key's outcome in a batch. Errors are kept as plain data. */
export type RotateKeysOutcome =
  | { keyId: string; status: 'rotated'; result: RotationResult }
  | {
      keyId: string
      status: 'failed'
      error: {
        name: string
        code: string
        message: string
        step?: string
        rolledBack?: boolean
        /** Where each delivery target stands (which key it holds), when the rotation has targets. */
        deliveries?: TargetDelivery[]
      }
    }
  | { keyId: string; status: 'skipped'; reason: string }

/** Told as a batch goes: each key's outcome once it is final, and each pause before it begins. */
export type RotateKeysProgress =
  | {
      kind: 'key'
      batchId: string
      /** Keys with a final outcome so far, this one included. */
      done: number
      total: number
      outcome: RotateKeysOutcome
    }
  | {
      kind: 'waiting'
      batchId: string
      /** The key whose rotation pauses; `null` for the batch's one grace period. */
      keyId: string | null
      /** `'grace'`: before the old keys are retired; `'verify'`: between two checks of a new secret. */
      reason: 'grace' | 'verify'
      ms: number
    }

/**
 * A failed outcome: the error as plain data, through the store's redaction, never a secret
 * (keyway errors hold none; another error's text is not passed on).
 */
export function failedOutcome(store: KeyStore, keyId: string, thrown: unknown): RotateKeysOutcome {
  const error = storeRules(store).redact(thrown)
  if (error instanceof RotationError) {
    return {
      keyId,
      status: 'failed',
      error: {
        name: error.name,
        code: error.code,
        message: error.message,
        step: error.step,
        rolledBack: error.rolledBack,
        ...(error.deliveries === undefined
          ? {}
          : { deliveries: error.deliveries.map((delivery) => ({ ...delivery })) }),
      },
    }
  }
  if (KeyStoreError.is(error)) {
    return {
      keyId,
      status: 'failed',
      error: { name: error.name, code: error.code, message: error.message },
    }
  }
  return {
    keyId,
    status: 'failed',
    error: { name: 'Error', code: 'unknown', message: 'rotation failed with a non-keyway error' },
  }
}

/** Runs `work` over `items`, at most `limit` at once, in order of the items. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
