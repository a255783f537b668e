import { RotationError } from '../errors.js'
import { redacting } from '../store-rules.js'
import type { TargetDelivery, TargetPhase } from '../targets/delivery-target.js'
import type { CreateKeyInput, KeyStore } from '../types.js'
import { openRun, stepsOf } from './open-run.js'
import type { RotationState } from './rotation-journal.js'
import type { RotationSettings } from './rotation-options.js'
import { finishedResult, type RotationResult, type TimedStep } from './rotation-run.js'
import { StepCursor, settleFailure } from './run-steps.js'
import { deliveryFailure, runTargetPhase } from './target-steps.js'

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
  /**
   * The names of the key's delivery targets, in order (a `deliver` given beside them last);
   * `[]` where the new secret goes through `deliver` alone.
   */
  readonly targets: readonly string[]
  /**
   * Where each target stands, from the journal (see `TargetDelivery`). Plain data.
   */
  deliveries(): TargetDelivery[]
  /**
   * Runs one phase of one target's delivery while `next` is `'deliver'`, for an engine that
   * checkpoints each target's steps on their own (`runNext` at `'deliver'` then only
   * journals `'delivered'`, running what is left). A phase the journal shows done runs
   * nothing, and so does every phase once the rotation is past delivery. The new secret is
   * verified before the first write (a failure there is settled as `runNext` settles it, the
   * new key deleted). A failure of the target is journalled and resolves with `failure` set
   * (why this step failed, scrubbed), so the other targets can go on; stop the rotation then
   * with `deliveryFailure`.
   */
  runTargetStep(
    target: string,
    phase: TargetPhase,
  ): Promise<{ delivery: TargetDelivery; failure: string | null }>
  /**
   * The error of a delivery in which the targets `failed` failed (their steps journalled why):
   * the new key is kept, the old key untouched, and its `deliveries` say where each target
   * stands. Nothing is sent or journalled.
   */
  deliveryFailure(failed: readonly string[]): RotationError
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
    targets: run.targets.map((target) => target.name),
    deliveries: () => run.deliveries(),
    async runTargetStep(name, phase) {
      const target = run.targets.find((each) => each.name === name)
      if (target === undefined) throw new Error(`rotation ${rotationId} has no target "${name}"`)
      const delivery = () => run.deliveries().find((each) => each.target === name) as TargetDelivery
      if (run.reached('delivered')) return { delivery: delivery(), failure: null }
      const step = cursor.next
      if (step?.name !== 'deliver' || run.created === undefined) {
        throw new Error(
          `rotation ${rotationId}: a target step runs at "deliver", "${step?.name}" is next`,
        )
      }
      const created = run.created
      const failed = await redacting(store, async () => {
        try {
          return await runTargetPhase(run, target, phase, created)
        } catch (error) {
          throw await settleFailure(run, step, error)
        }
      })
      const now = delivery()
      return { delivery: now, failure: failed === undefined ? null : now.failure }
    },
    deliveryFailure: (failed) => deliveryFailure(run, failed),
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
    targets: Object.keys(record.targets ?? {}),
    deliveries: () => finishedResult(record).deliveries,
    runTargetStep: (name) =>
      Promise.resolve({
        delivery: finishedResult(record).deliveries.find(
          (each) => each.target === name,
        ) as TargetDelivery,
        failure: null,
      }),
    deliveryFailure: () => {
      throw new Error(`rotation ${record.rotationId} is already done`)
    },
  }
}
