import { AuthenticationError, KeyStoreError } from '../errors.js'
import { mayHaveTakenEffect } from '../retry-policy.js'
import type { CreatedKey } from '../types.js'
import { deliverStepWith, uncheckedOnResume } from './create-steps.js'
import { type RotationRun, reasonOf } from './rotation-run.js'
import { type RotationStepDefinition, StepFailure } from './run-steps.js'
import { verifySecret } from './verify-secret.js'

// A regenerate replaces the secret of the same key in place: the old secret dies the moment
// the vendor answers, and there is no old key left to fall back to. So nothing here is ever
// deleted or undone, every error says the old secret is dead, and a key whose new secret was
// delivered is never regenerated again.

const dead = (run: RotationRun) =>
  `the key ${run.oldKeyId} was regenerated in place, so its old secret no longer works`

/**
 * Regenerate: ask the vendor for a new secret. Where the key may be the store's own
 * credential (and `allowSelf`), the store switches to it at once: the old one is dead.
 */
export const regenerateStep: RotationStepDefinition = {
  name: 'create',
  phase: 'replace',
  isDone: (run) => run.reached('created'),
  async run(run) {
    await run.advance('creating', { marker: null, newKeyName: run.oldKey?.name ?? null })
    let created: CreatedKey
    try {
      created = await run.store.regenerate(run.oldKeyId, run.request)
    } catch (error) {
      throw regenerateFailure(run, error)
    }
    run.hold(created)
    if (run.plan.switchesCredential) {
      run.store.useCredential?.(created.secret)
      run.switchedHere = true
    }
    await run.advance('created', { newKeyId: created.key.id })
  },
}

function regenerateFailure(run: RotationRun, error: unknown): StepFailure {
  const reason = reasonOf(run, error)
  if (run.resumed && error instanceof AuthenticationError && run.plan.credential !== 'other') {
    return new StepFailure(
      `the store could not authenticate (${reason}): an interrupted run may have regenerated the store's own credential and lost the new secret. Make a new credential in the vendor's dashboard`,
      error,
    )
  }
  if (run.settings.signal?.aborted || mayHaveTakenEffect(error) || !KeyStoreError.is(error)) {
    return new StepFailure(
      `the regenerate's answer was lost (${reason}): the old secret may already be dead, and the new one was not received. Run the rotation again: it regenerates once more and delivers that secret`,
      error,
    )
  }
  return new StepFailure(
    `the vendor refused the regenerate (${reason}); the old secret still works`,
    error,
    'rolled-back',
  )
}

/** Deliver the regenerated secret. A failure cannot be undone: the error says where the secret is not. */
export const deliverRegeneratedStep = deliverStepWith(
  'stop',
  (run, reason) =>
    `${dead(run)}, and delivery failed (${reason}), so the new secret reached no one. Run the rotation again: it regenerates once more and delivers that secret`,
)

/**
 * Verify the regenerated secret (and, for the store's own key, that the store works with
 * it). A failure marks the rotation `'failed'`: its secret was delivered, so a rerun must
 * neither regenerate it again nor call it done.
 */
export const verifyRegeneratedStep: RotationStepDefinition = {
  name: 'verify',
  phase: 'replace',
  isDone: (run) => run.reached('verified'),
  async run(run) {
    if (run.created === undefined) {
      run.warn(uncheckedOnResume(run))
      await run.advance('verified')
      return
    }
    const verification = await verifySecret(run, run.created)
    let problem: unknown
    if (verification.outcome === 'failed') problem = verification.error ?? 'it was refused'
    else if (run.switchedHere) {
      problem = await run.store.get(run.oldKeyId, run.request).then(
        () => undefined,
        (error: unknown) => error,
      )
    }
    if (problem !== undefined) {
      const reason = `${dead(run)}; the new secret was delivered but did not work (${reasonOf(run, problem)}). keyway does not regenerate a key whose secret was delivered: check the secret where it was delivered, or regenerate the key by hand`
      throw new StepFailure(reason, problem, 'failed')
    }
    run.verified = verification.outcome === 'passed'
    await run.advance('verified')
  },
}

/** Finish: nothing to retire, the old secret died in place. */
export const finishRegenerateStep: RotationStepDefinition = {
  name: 'retire',
  phase: 'retire',
  isDone: (run) => run.reached('done'),
  async run(run) {
    await run.advance('done', { retired: 'replaced' })
  },
}

/** Every step of an in-place regenerate, in order. */
export const REGENERATE_STEPS: readonly RotationStepDefinition[] = [
  regenerateStep,
  deliverRegeneratedStep,
  verifyRegeneratedStep,
  finishRegenerateStep,
]
