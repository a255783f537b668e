/**
 * Every state a rotation can be in, written once: the states on its way to `'done'` in
 * order, then the ends it may reach instead. The `RotationState` type, the order, "part way"
 * and "past create" all derive from this list. Each state is journalled before the work of
 * the next step begins.
 */
export const ROTATION_STATES = [
  'started', // the old key was checked; nothing made yet
  'creating', // a create (or regenerate) is about to be sent, carrying `marker`; its answer may be lost
  'created', // the new key exists; its secret has not been delivered
  'delivered', // the caller's deliver returned: it holds the new secret
  'verified', // the new secret works at the vendor (or could not be checked, see warnings)
  'switched', // the store itself now uses the new secret
  'done', // the old key is retired as asked
  'rolling-back', // a step failed; the new key is being deleted (a rerun finishes that first)
  'rolled-back', // the new key was deleted; the old key is untouched
  'failed', // stopped for good: a rerun changes nothing; `reason` says what is left to do
] as const

/** Where a rotation stands (see `ROTATION_STATES`). */
export type RotationState = (typeof ROTATION_STATES)[number]

/** The states a rotation moves through on its way to `'done'`, in order. */
export const FORWARD_STATES: readonly RotationState[] = ROTATION_STATES.slice(
  0,
  ROTATION_STATES.indexOf('done') + 1,
)

/** Whether a rotation in state `state` has reached `target` on its way to `'done'`. */
export function hasReached(state: RotationState, target: RotationState): boolean {
  const at = FORWARD_STATES.indexOf(state)
  return at !== -1 && at >= FORWARD_STATES.indexOf(target)
}

/** States of a rotation on its way to `'done'` and not there yet: one stopped there can go on. */
export const PART_WAY_STATES: readonly RotationState[] = FORWARD_STATES.filter(
  (state) => state !== 'done',
)

/** Whether a rotation in `state` has its new key verified, so that no create follows. */
export function isPastCreate(state: RotationState): boolean {
  return hasReached(state, 'verified')
}
