import { NotFoundError } from '../errors.js'
import type { ApiKey } from '../types.js'
import { createdAtOf, madeAtAnotherTime } from './key-identity.js'
import { recoverFound, revealIfShown, settleLostCreate, sweepAbandoned } from './lost-create.js'
import type { RotationState } from './rotation-journal.js'
import { type RotationRun, reasonOf } from './rotation-run.js'
import { anyTargetMayHold, everyTargetConfirmed, hasTargets } from './target-steps.js'
import { hasVerifier } from './verify-secret.js'

/**
 * Picks up what an earlier call left in the journal, so that the steps can run on from
 * there. It touches only keys this rotation provably made (by the id it journalled, or by
 * its create's marker); anything it is unsure of is named in the warnings, never touched.
 * A new key whose secret was not delivered is never kept for retiring the old key: it is
 * recovered where the vendor shows secrets again, or deleted and made anew.
 */
export async function resumeRun(run: RotationRun): Promise<void> {
  await sweepAbandoned(run)
  const { state } = run.record
  // A state this keyway does not know (a journal of a newer one) is left to the steps.
  if (Object.hasOwn(RESUME, state)) await RESUME[state](run)
}

const nothingLeft = async (): Promise<void> => {}

/** What a resume does in each state (the compiler holds it to every state there is). */
const RESUME: Readonly<Record<RotationState, (run: RotationRun) => Promise<void>>> = {
  started: nothingLeft,
  creating: (run) =>
    run.settings.strategy === 'regenerate'
      ? regenerateAgain(
          run,
          "the earlier regenerate's answer was lost, so its secret reached no one: the key was regenerated once more",
        )
      : run.record.newKeyId !== null
        ? madeBeforeSettled(run)
        : settleLostCreate(run),
  created: (run) =>
    run.settings.strategy === 'regenerate'
      ? regenerateAgain(
          run,
          'the secret of the earlier regenerate was never delivered: the key was regenerated once more',
        )
      : recoverOrDiscard(run),
  delivered: (run) => pickUpDelivered(run),
  verified: (run) => pickUpDelivered(run),
  switched: (run) => pickUpDelivered(run),
  done: nothingLeft,
  'rolling-back': (run) => finishRollback(run),
  'rolled-back': (run) => run.restart(),
  failed: nothingLeft,
}

/**
 * The create made its key and the journal named it, but the run stopped before the create
 * settled (its marker may be gone): the key is this rotation's by its journalled id, and goes
 * on as a key made and not delivered.
 */
async function madeBeforeSettled(run: RotationRun): Promise<void> {
  const id = run.record.newKeyId as string
  const key = await findKey(run, id)
  const secret = key?.status === 'active' ? await revealIfShown(run, key) : undefined
  if (key !== undefined && secret !== undefined) {
    await recoverFound(run, key, secret)
    return
  }
  await discardOwn(run, id, 'the new key was never delivered')
  run.warn(`deleted ${id}: made before the interruption and never delivered; a new key was made`)
  await run.restart()
}

async function finishRollback(run: RotationRun): Promise<void> {
  const id = run.record.newKeyId
  if (id !== null) await discardOwn(run, id, 'the rollback of the new key is still unfinished')
  await run.advance('rolled-back')
  await run.restart()
}

async function regenerateAgain(run: RotationRun, note: string): Promise<void> {
  run.warn(note)
  await run.restart()
}

/**
 * A new key made before the interruption and never delivered (its id journalled, its answer
 * perhaps not): recovered where the vendor shows it, else deleted.
 */
async function recoverOrDiscard(run: RotationRun): Promise<void> {
  const { store } = run
  const id = run.record.newKeyId as string
  if (everyTargetConfirmed(run, id)) {
    // Every target holds and confirmed the new key: nothing needs its secret any more.
    const key = await findKey(run, id)
    if (key !== undefined && key.status === 'active') {
      run.newKey = key
      await run.advance('delivered')
      return
    }
  }
  const given = anyTargetMayHold(run, id)
  if (store.reveal !== undefined) {
    const key = await findKey(run, id)
    // A deleted key may stay listed, disabled: it is nothing to recover.
    // A store that lost the secret with the process (its `reveal` answers NotFoundError, as
    // when the create was cut off before the secret was kept) cannot recover the key.
    const secret =
      key !== undefined && key.status === 'active' ? await revealIfShown(run, key) : undefined
    if (key !== undefined && secret !== undefined) {
      run.hold({ key, secret })
      // Cut off between the vendor's answer and its journal entry: the key is made, so the
      // rotation goes on at delivery, never at a second create (which would leave this key).
      if (run.record.state === 'creating') {
        await run.advance('created', { newKeyId: id, newKeyCreatedAt: createdAtOf(key) })
      }
      // A target may hold it already: the delivery step goes on without a compensation.
      if (given) return
      run.warn(`recovered the new key ${id}, made before the interruption and not yet delivered`)
      run.compensations.push(`deleting the new key ${id}`, () => run.discard(id))
      return
    }
  }
  if (given) return supersede(run, id)
  await discardOwn(run, id, 'the new key was never delivered')
  run.warn(`deleted ${id}: made before the interruption and never delivered; a new key was made`)
  await run.restart()
}

/**
 * The caller holds the new secret: go on with the new key, reading its secret again where
 * the vendor shows it. A key delivered but not yet verified whose secret cannot be read
 * again cannot be checked: it is deleted and a new one made, since nothing is retired for
 * an unverified successor (the old key is still untouched).
 */
async function pickUpDelivered(run: RotationRun): Promise<void> {
  const { store } = run
  const id = run.record.newKeyId
  const key = id === null ? undefined : await findKey(run, id)
  if (madeAtAnotherTime(run.record.newKeyCreatedAt, key)) {
    throw run.fail(
      'resume',
      false,
      `the key listed as ${id} was not made when this rotation made its new key (is the journal another account's?); nothing was touched`,
    )
  }
  const usable = key !== undefined && key.status === 'active'
  // With targets, the secret was verified before any target was given it.
  const unverified =
    run.record.state === 'delivered' && run.settings.strategy === 'create' && !hasTargets(run)
  if (unverified && (!usable || (store.reveal === undefined && hasVerifier(run)))) {
    if (usable) await discardOwn(run, id as string, 'the new key was not verified')
    run.warn(
      `the new key ${id} was delivered but not yet verified when the run stopped, and its secret cannot be read again to check it: it was deleted and a new key made (the old key was not touched)`,
    )
    await run.restart()
    return
  }
  if (!usable) {
    const reason = `the new key ${id ?? '(unnamed)'}, whose secret was delivered, is no longer active, so the old key was not retired: rotate it again under a new rotation id`
    await run.advance('failed', { reason })
    throw run.fail('resume', false, reason)
  }
  run.newKey = key
  if (store.reveal !== undefined) run.hold({ key, secret: await store.reveal(key.id, run.request) })
  // Once a target holds the new key, deleting it would leave that target with a dead key.
  if (anyTargetMayHold(run, key.id)) return
  run.compensations.push(`deleting the new key ${key.id}`, () => run.discard(key.id))
}

/**
 * A new key some target may hold, whose secret cannot be read again to give to the others:
 * it is kept live (the targets that hold it keep working), noted for retiring with the old
 * key, and a new key is made and delivered to every target.
 */
async function supersede(run: RotationRun, id: string): Promise<void> {
  run.warn(
    `the new key ${id} was given to some targets before the interruption and its secret cannot be read again to give to the rest: a new key was made for every target, and ${id} is retired with the old key`,
  )
  await run.note({ supersededKeyIds: [...(run.record.supersededKeyIds ?? []), id] })
  await run.restart()
}

/** Deletes a new key this rotation made (by its journalled id) that must not be kept. */
async function discardOwn(run: RotationRun, id: string, what: string): Promise<void> {
  try {
    await run.discard(id)
  } catch (error) {
    throw run.fail(
      'resume',
      false,
      `${what}: the new key ${id} could not be deleted (${reasonOf(run, error)}); the old key is untouched: run the rotation again`,
      error,
    )
  }
}

async function findKey(run: RotationRun, id: string): Promise<ApiKey | undefined> {
  try {
    return await run.store.get(id, run.request)
  } catch (error) {
    if (error instanceof NotFoundError) return undefined
    throw error
  }
}
