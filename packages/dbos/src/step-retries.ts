import { KeyStoreError, type RotationJournal, type RotationState } from '@keyway/core'
import { PART_WAY_STATES } from '@keyway/core/adapter'

/**
 * How often a rotation's checkpoint is tried before its workflow ends with the error: five
 * tries, 1, 2, 4 and 8 s apart (DBOS step retries).
 */
export const STEP_RETRIES = {
  retriesAllowed: true,
  maxAttempts: 5,
  intervalSeconds: 1,
  backoffRate: 2,
} as const

const PART_WAY: ReadonlySet<RotationState> = new Set(PART_WAY_STATES)

/**
 * Whether a checkpoint that failed with `error` is worth running again. A rotation the
 * journal shows part way is: a rerun reopens it from the journal and goes on, as after a
 * crash (a vendor that failed for longer than the store's own retries, a journal write the
 * database dropped). One that ended (done, rolled back, failed) is not, and neither is one
 * that never began unless the error may pass (a vendor or network failure marked
 * retryable, or an error from outside keyway such as a dropped database connection): a
 * refusal, a missing key or a bad setting stays as it is.
 */
export async function resumable(
  journal: RotationJournal,
  rotationId: string,
  error: unknown,
): Promise<boolean> {
  // A store that reaches another account stays refused however often it is asked.
  if (KeyStoreError.is(error) && error.code === 'fingerprint_mismatch') return false
  const state = (await journal.read(rotationId))?.state
  if (state !== undefined) return PART_WAY.has(state)
  return !KeyStoreError.is(error) || error.retryable
}
