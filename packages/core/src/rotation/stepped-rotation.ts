import { RotationError } from '../errors.js'
import { redacting } from '../store-rules.js'
import type { CreateKeyInput, KeyStore } from '../types.js'
import { openRun, stepsOf } from './open-run.js'
import type { RotationState } from './rotation-journal.js'
import type { RotationSettings } from './rotation-options.js'
import { finishedResult, type RotationResult, type TimedStep } from './rotation-run.js'
import { StepCursor } from './run-steps.js'

/**
 * One rotation, driven a step at a time (see `openRotation`): what a durable engine
 * checkpoints. Everything it tells is plain data, never a secret; `result()` holds the new
 * secret as `rotateKey`'s result does.
 */
export interface SteppedRotation {
  readonly rotationId: string
  /** Whether this call picked up a rotation an earlier call began (a resume). */
  readonly resumed: boolean
  /** Where the rotation stands, as journalled. */
  readonly state: RotationState
  /** The step `runNext` runs, or `null` once the rotation is done. */
  readonly next: TimedStep | null
  /**
   * Runs the next step and resolves with its name once it is journalled. A failure is
   * settled as `rotateKey` settles it (rolled back, or left for a rerun) and rejects with
   * its `RotationError`.
   */
  runNext(): Promise<TimedStep>
  /** What the rotation did, once `next` is `null`. */
  result(): RotationResult
}

/**
 * Opens the rotation `rotationId` of `keyId`: a rotation already done reports its result, one
 * that failed for good is refused, and anything else is readied to run (a fresh start
 * journalled, or what an earlier call left settled) with its steps ahead.
 */
export async function openSteps<C extends CreateKeyInput>(
  store: KeyStore<C>,
  settings: RotationSettings<C>,
  keyId: string,
  rotationId: string,
): Promise<SteppedRotation> {
  const record = await settings.journal.read(rotationId)
  if (record?.state === 'done' && record.oldKeyId === keyId) return finished(record)
  if (record?.state === 'failed' && record.oldKeyId === keyId) {
    throw new RotationError({
      provider: store.provider,
      operation: 'rotate',
      step: 'resume',
      rolledBack: false,
      message: `${store.provider} rotate ${keyId}: stopped earlier and left as it is: ${record.reason}`,
    })
  }
  const run = await openRun(store, settings, { keyId, rotationId, record })
  const cursor = new StepCursor(run, stepsOf(settings.strategy))
  return {
    rotationId,
    resumed: run.resumed,
    get state() {
      return run.record.state
    },
    get next() {
      return cursor.next?.name ?? null
    },
    runNext: () => redacting(store, () => cursor.runNext()),
    result() {
      if (cursor.next !== undefined) {
        throw new Error(`rotation ${rotationId} is not done: "${cursor.next.name}" is next`)
      }
      return run.result()
    },
  }
}

function finished(record: Parameters<typeof finishedResult>[0]): SteppedRotation {
  return {
    rotationId: record.rotationId,
    resumed: true,
    state: record.state,
    next: null,
    runNext: () => Promise.reject(new Error(`rotation ${record.rotationId} is already done`)),
    result: () => finishedResult(record),
  }
}
