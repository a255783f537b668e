import { createMarker } from '../create-marker.js'
import { AmbiguousCreateError, KeyStoreError } from '../errors.js'
import { mayHaveTakenEffect } from '../retry-policy.js'
import { sleep } from '../sleep.js'
import type { CreatedKey } from '../types.js'
import { createdAtOf } from './key-identity.js'
import { sweepAbandoned } from './lost-create.js'
import { type RotationRun, reasonOf } from './rotation-run.js'
import { type RotationStepDefinition, StepFailure } from './run-steps.js'
import { deliverToTargets, hasTargets } from './target-steps.js'
import { verifySecret } from './verify-secret.js'

/**
 * Create: journal a fresh marker, then send the create carrying it. Once the key exists,
 * its undo (delete it, by id) is registered. A create whose outcome is unknown leaves the
 * journal at `'creating'`: a rerun finds the key by the marker, never by its name.
 */
export const createStep: RotationStepDefinition = {
  name: 'create',
  phase: 'replace',
  isDone: (run) => run.reached('created'),
  async run(run) {
    const marker = createMarker()
    const input = run.plan.successor
    await run.advance('creating', {
      marker,
      newKeyName: typeof input.name === 'string' ? input.name : null,
      newKeyId: null,
      newKeyCreatedAt: null,
    })
    let created: CreatedKey
    try {
      created = await run.store.create(input, {
        ...run.request,
        marker,
        // Settling removes the marker: the journal names the key by its id first.
        onMade: (key) => run.note({ newKeyId: key.id, newKeyCreatedAt: createdAtOf(key) }),
      })
    } catch (error) {
      throw createFailure(run, error, marker)
    }
    run.hold(created)
    const id = created.key.id
    try {
      await run.advance('created', { newKeyId: id, newKeyCreatedAt: createdAtOf(created.key) })
    } catch (journalError) {
      // The journal cannot name the key: delete it while this call still knows its id.
      await run.discard(id).catch(() => {})
      throw journalError
    }
    run.compensations.push(`deleting the new key ${id}`, () => run.discard(id))
  },
}

function createFailure(run: RotationRun, error: unknown, marker: string): unknown {
  if (run.settings.signal?.aborted) return error
  const unknownOutcome =
    error instanceof AmbiguousCreateError || mayHaveTakenEffect(error) || !KeyStoreError.is(error)
  if (unknownOutcome) {
    return new StepFailure(
      `the create's outcome is unknown (${reasonOf(run, error)}). Any key it made carries marker ${marker} and is this rotation's: run the rotation again to find and delete such keys (nothing else is touched) and create again`,
      error,
    )
  }
  return new StepFailure(
    `the new key could not be created (${reasonOf(run, error)}); the old key is untouched`,
    error,
    'rolled-back',
  )
}

/**
 * A deliver step: hand the new key to the caller; `'delivered'` is journalled only once that
 * returned. `failure` words a failed delivery from its reason.
 */
export function deliverStepWith(
  onFailure: RotationStepDefinition['onFailure'],
  failure: (run: RotationRun, reason: string) => string,
): RotationStepDefinition {
  return {
    name: 'deliver',
    phase: 'replace',
    isDone: (run) => run.reached('delivered'),
    onFailure,
    async run(run) {
      const created = heldKey(run)
      if (hasTargets(run)) {
        await deliverToTargets(run, created)
        return
      }
      try {
        await run.settings.deliver(created)
      } catch (error) {
        run.settings.signal?.throwIfAborted()
        throw new StepFailure(failure(run, reasonOf(run, error)), error)
      }
      await run.advance('delivered')
    },
  }
}

/** Deliver, undone (the new key deleted) when it fails. */
export const deliverStep = deliverStepWith(
  'roll-back',
  (_run, reason) => `delivery failed (${reason})`,
)

/** Verify: check the new secret; a secret delivered before a resume that cannot be read again is checked for presence only. */
export const verifyStep: RotationStepDefinition = {
  name: 'verify',
  phase: 'replace',
  isDone: (run) => run.reached('verified'),
  onFailure: 'roll-back',
  async run(run) {
    if (hasTargets(run)) {
      // Checked before any target was given the new key (see deliverToTargets).
      await run.advance('verified')
      return
    }
    if (run.created === undefined) {
      run.warn(uncheckedOnResume(run))
    } else {
      const verification = await verifySecret(run, run.created)
      if (verification.outcome === 'failed') {
        const why =
          verification.error === undefined ? '' : ` (${reasonOf(run, verification.error)})`
        throw new StepFailure(`the new secret did not verify${why}`, verification.error)
      }
      run.verified = verification.outcome === 'passed'
    }
    await run.advance('verified')
  },
}

/** The warning of a resume that holds no secret to check: the key exists and was delivered. */
export function uncheckedOnResume(run: RotationRun): string {
  return `the new key ${run.record.newKeyId} was delivered before the interruption; its secret cannot be read again here, so it was not verified (the key is listed as active)`
}

/**
 * Switch: where the old key may be the store's own credential, the store moves to the new
 * key and checks it can still work, before anything is retired. From here on nothing is
 * undone: the store depends on the new key.
 */
export const switchStep: RotationStepDefinition = {
  name: 'switch',
  phase: 'replace',
  isDone: (run) => !run.plan.switchesCredential || run.switchedHere,
  async run(run) {
    await switchCredential(run)
    if (!run.reached('switched')) await run.advance('switched')
  },
}

/** Moves the store to the held new key and checks that it works with it. */
export async function switchCredential(run: RotationRun): Promise<void> {
  const { store } = run
  const created = run.created
  if (created === undefined) {
    throw run.fail(
      'switch',
      false,
      `the old key may be this store's own credential, and this run does not hold the new key's secret (it was delivered before the interruption): configure the store with the new key ${run.record.newKeyId} (or name its id as the store's credential key), then run the rotation again`,
    )
  }
  run.compensations.seal()
  store.useCredential?.(created.secret)
  run.switchedHere = true
  try {
    await store.get(created.key.id, run.request)
  } catch (error) {
    throw run.fail(
      'switch',
      false,
      `the store switched to the new key ${created.key.id} and could not work with it (${reasonOf(run, error)}); the old key is still live: configure the store with it again`,
      error,
    )
  }
}

/** Grace: wait before retiring so caches pick up the new key; the end time is journalled, so a resume waits only what is left. */
export const graceStep: RotationStepDefinition = {
  name: 'grace',
  phase: 'wait',
  isDone: (run) => run.settings.graceMs === 0 || run.reached('done'),
  async run(run) {
    let endsAt = run.record.graceEndsAt
    if (endsAt === null) {
      endsAt = new Date(Date.now() + run.settings.graceMs).toISOString()
      await run.note({ graceEndsAt: endsAt })
    }
    const ms = Date.parse(endsAt) - Date.now()
    if (ms <= 0) return
    run.settings.onWait?.({
      rotationId: run.rotationId,
      provider: run.provider,
      keyId: run.oldKeyId,
      reason: 'grace',
      ms,
    })
    await sleep(ms, run.settings.signal)
  },
}

/** Retire: delete, disable or keep the old key. A failure undoes nothing: both keys are live and the new one was delivered. */
export const retireStep: RotationStepDefinition = {
  name: 'retire',
  phase: 'retire',
  isDone: (run) => run.reached('done'),
  async run(run) {
    const { store, settings } = run
    let retired: 'deleted' | 'disabled' | 'kept'
    try {
      if (settings.retire === 'delete') {
        await run.discard(run.oldKeyId)
        retired = 'deleted'
      } else if (settings.retire === 'disable') {
        await store.update(run.oldKeyId, { status: 'disabled' } as never, run.request)
        retired = 'disabled'
      } else {
        retired = 'kept'
      }
    } catch (error) {
      settings.signal?.throwIfAborted()
      throw new StepFailure(
        `the new key ${run.record.newKeyId} is live and delivered, but retiring the old key failed (${reasonOf(run, error)}), so the old key is still live too; run the rotation again to retire it`,
        error,
      )
    }
    await retireSuperseded(run)
    await sweepAbandoned(run)
    await run.advance('done', { retired })
  },
}

/**
 * Retires the new keys this rotation replaced after giving them to some target (see
 * `RotationRecord.supersededKeyIds`) the way the old key is retired: every target now holds
 * their successor. Each one retired leaves the list, journalled.
 */
async function retireSuperseded(run: RotationRun): Promise<void> {
  const mode = run.settings.retire
  for (const id of run.record.supersededKeyIds ?? []) {
    try {
      if (mode === 'delete') await run.discard(id)
      else if (mode === 'disable') {
        await run.store.update(id, { status: 'disabled' } as never, run.request)
      } else
        run.warn(`kept the superseded new key ${id} (retire 'keep'): delete it when no one uses it`)
    } catch (error) {
      run.settings.signal?.throwIfAborted()
      throw new StepFailure(
        `the old key is retired as asked, but retiring ${id} (a new key this rotation replaced) failed (${reasonOf(run, error)}); run the rotation again to retire it`,
        error,
      )
    }
    const rest = (run.record.supersededKeyIds ?? []).filter((other) => other !== id)
    await run.note({ supersededKeyIds: rest })
  }
}

/** The held new key; the resume settles every state before delivery so that there is one. */
function heldKey(run: RotationRun): CreatedKey {
  if (run.created !== undefined) return run.created
  throw run.fail('resume', false, `no new key is held to deliver ("${run.record.state}")`)
}

/** Every step of a rotation that creates a new key, in order. */
export const CREATE_STEPS: readonly RotationStepDefinition[] = [
  createStep,
  deliverStep,
  verifyStep,
  switchStep,
  graceStep,
  retireStep,
]
