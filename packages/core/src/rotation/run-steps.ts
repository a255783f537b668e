import { KeyStoreError, RotationError, type RotationStep } from '../errors.js'
import { inRotationScope } from '../history/rotation-scope.js'
import { type RotationRun, reasonOf, type TimedStep } from './rotation-run.js'

/**
 * One step of a rotation. As in the AWS Secrets Manager rotation template, each step first
 * checks whether its result already exists (`isDone`), so running it again, in this call or
 * after a crash, is safe, and resuming means running the same table again.
 */
export interface RotationStepDefinition {
  name: TimedStep
  /**
   * Where a batch runs the step: `'replace'` (make, deliver and verify the successor, for
   * every key first), `'wait'` (the grace period, which a batch waits once for all) or
   * `'retire'` (after every key's successor is in place).
   */
  phase: 'replace' | 'wait' | 'retire'
  /** Whether the step's result is already in place: then it is skipped. */
  isDone(run: RotationRun): boolean
  /**
   * What a failure does: `'roll-back'` runs the undo list (the new key is deleted and the
   * old key stays untouched); `'stop'` (default) leaves the journal as it is, for a rerun.
   */
  onFailure?: 'roll-back' | 'stop'
  run(run: RotationRun): Promise<void>
}

/**
 * A step failed in a way its driver settles: what failed, in words, and the underlying
 * error. `ends` says where the failure leaves the rotation, where the step knows better
 * than its `onFailure`: `'rolled-back'` (nothing was made or changed: the old key is as it
 * was) or `'failed'` (stopped for good: a rerun changes nothing). Steps only throw; the
 * driver journals the outcome.
 */
export class StepFailure extends Error {
  readonly what: string
  readonly ends: 'rolled-back' | 'failed' | undefined
  constructor(what: string, cause?: unknown, ends?: 'rolled-back' | 'failed') {
    super(what, cause === undefined ? undefined : { cause })
    this.what = what
    this.ends = ends
  }
}

/**
 * Walks a step table one step at a time, skipping steps already done; a failure is settled
 * once, here. `runSteps` drives it to the end; a durable engine drives it a step per
 * checkpoint.
 */
export class StepCursor {
  readonly #run: RotationRun
  readonly #steps: readonly RotationStepDefinition[]
  #at = 0

  constructor(run: RotationRun, steps: readonly RotationStepDefinition[]) {
    this.#run = run
    this.#steps = steps
  }

  /** The step `runNext` runs, or `undefined` once every step is done. */
  get next(): RotationStepDefinition | undefined {
    while (this.#at < this.#steps.length && this.#steps[this.#at]?.isDone(this.#run)) this.#at++
    return this.#steps[this.#at]
  }

  /** Runs the next step and returns its name; rejects with the settled failure. */
  async runNext(): Promise<TimedStep> {
    const step = this.next
    if (step === undefined) throw new Error('every step of this rotation is done')
    this.#at++
    const run = this.#run
    const started = performance.now()
    // Every change the step makes (and its rollback) is history of this rotation and step.
    await inRotationScope({ rotationId: run.rotationId, step: step.name }, async () => {
      try {
        await step.run(run)
      } catch (error) {
        throw await settleFailure(run, step, error)
      } finally {
        run.timings[step.name] = Math.round(performance.now() - started)
      }
    })
    return step.name
  }
}

/** Runs the steps in order, skipping those already done; a failure is settled once, here. */
export async function runSteps(
  run: RotationRun,
  steps: readonly RotationStepDefinition[],
): Promise<void> {
  const cursor = new StepCursor(run, steps)
  while (cursor.next !== undefined) await cursor.runNext()
}

/** Turns a step's failure into the error the caller sees, undoing what the undo list holds. */
export async function settleFailure(
  run: RotationRun,
  step: RotationStepDefinition,
  error: unknown,
): Promise<unknown> {
  // The grace period is part of retiring, as far as errors say.
  const name: RotationStep = step.name === 'grace' ? 'retire' : step.name
  // Stopped for good whatever else happens: a rerun must not take it up again.
  if (error instanceof StepFailure && error.ends === 'failed') {
    await run.advance('failed', { reason: error.what })
  }
  if (run.settings.signal?.aborted) {
    return run.fail(
      'resume',
      false,
      `stopped at "${run.record.state}" by its signal; run the rotation again to finish it`,
      error,
    )
  }
  if (error instanceof RotationError) return error
  if (!(error instanceof StepFailure)) return unfinished(run, error)
  if (error.ends === 'rolled-back') {
    await run.advance('rolled-back')
    return run.fail(name, true, error.what, error.cause)
  }
  if (step.onFailure !== 'roll-back' || error.ends === 'failed' || !run.compensations.pending) {
    return run.fail(name, false, error.what, error.cause)
  }
  const newKeyId = run.record.newKeyId
  await run.advance('rolling-back')
  const failed = await run.compensations.run()
  if (failed.length === 0) {
    await run.advance('rolled-back')
    return run.fail(
      name,
      true,
      `${error.what}; the new key ${newKeyId} was deleted and the old key is untouched`,
      error.cause,
    )
  }
  const undone = failed
    .map((failure) => `${failure.what} failed (${reasonOf(run, failure.error)})`)
    .join('; ')
  return run.fail(
    name,
    false,
    `${error.what}, and ${undone}; the old key is untouched: run the rotation again to finish the rollback`,
    error.cause,
  )
}

/**
 * A vendor failure between steps: the rotation is part way, and says where and that running
 * it again finishes it. Anything else (a journal that failed, a caller's error) passes as is.
 */
function unfinished(run: RotationRun, error: unknown): unknown {
  if (!KeyStoreError.is(error)) return error
  const { state, newKeyId } = run.record
  if (state === 'started' || state === 'done' || state === 'rolled-back') return error
  const where =
    newKeyId !== null
      ? `the new key ${newKeyId} is in place ("${state}")`
      : `a create carrying marker ${run.record.marker} may have made a key`
  return run.fail(
    'resume',
    false,
    `stopped early: ${where}; run the rotation again to finish it`,
    error,
  )
}
