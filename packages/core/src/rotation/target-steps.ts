import { KeyStoreError, type RotationError, TimeoutError } from '../errors.js'
import { isPlainObject } from '../plain-object.js'
import { mayHaveTakenEffect } from '../retry-policy.js'
import type {
  DeliveryTarget,
  TargetConfirmContext,
  TargetContext,
  TargetPhase,
  TargetProgress,
  TargetReceipt,
  TargetRecord,
  TargetStep,
} from '../targets/delivery-target.js'
import { writeTokenOf } from '../targets/write-token.js'
import type { CreatedKey } from '../types.js'
import { deliveryHolds } from './delivery-holds.js'
import { type RotationRun, reasonOf } from './rotation-run.js'
import { StepFailure } from './run-steps.js'
import { verifySecret } from './verify-secret.js'

/** Default time a target's `confirm` may take. */
export const DEFAULT_CONFIRM_WITHIN_MS = 600_000

const ORDER: readonly TargetProgress[] = [
  'refused',
  'writing',
  'written',
  'propagating',
  'propagated',
  'confirmed',
]

/** Whether the rotation delivers to targets (rather than through the `deliver` callback alone). */
export function hasTargets(run: RotationRun): boolean {
  return run.targets.length > 0
}

/** Whether any target was sent the key `keyId` (it may hold it). */
export function anyTargetMayHold(run: RotationRun, keyId: string | null): boolean {
  if (keyId === null) return false
  return Object.values(run.record.targets ?? {}).some(
    (record) => record.keyId === keyId && record.progress !== 'refused',
  )
}

/** Whether the rotation has targets and every one of them confirmed the key `keyId`. */
export function everyTargetConfirmed(run: RotationRun, keyId: string): boolean {
  return (
    hasTargets(run) &&
    run.targets.every((target) => {
      const record = run.record.targets?.[target.name]
      return record?.keyId === keyId && record.progress === 'confirmed'
    })
  )
}

/**
 * Delivers the held new key to every target: each is written, then each propagated, then
 * each confirmed, every step journalled per target before the next, so a resume repeats no
 * step a target finished for this key. With strategy `'create'` the new secret is verified
 * first, while nothing holds it and a failure can still be undone; from the first write on,
 * nothing is undone (a target may hold the new key), and a target that fails stops the
 * rotation before `'delivered'` with the new key kept and the old key untouched.
 */
export async function deliverToTargets(run: RotationRun, created: CreatedKey): Promise<void> {
  const failed = new Map<string, unknown>()
  for (const phase of TARGET_PHASES) {
    for (const target of run.targets) {
      if (failed.has(target.name)) continue
      const error = await runTargetPhase(run, target, phase, created)
      if (error !== undefined) failed.set(target.name, error)
    }
  }
  if (failed.size === 0) {
    await run.advance('delivered')
    return
  }
  const [firstError] = failed.values()
  throw deliveryFailure(run, [...failed.keys()], firstError)
}

/** The phases of a target's delivery, in order. */
export const TARGET_PHASES: readonly TargetPhase[] = ['write', 'propagate', 'confirm']

/**
 * Runs one phase of one target's delivery, journalled (a phase the journal shows done for
 * this key runs nothing). Before the first write of a `'create'` rotation the new secret is
 * verified, and a failure there is thrown (`StepFailure`: nothing holds the key yet, so it
 * can be undone). A failure of the target itself is journalled and returned, not thrown, so
 * the other targets go on; `undefined` when the phase is done.
 */
export async function runTargetPhase(
  run: RotationRun,
  target: DeliveryTarget,
  phase: TargetPhase,
  created: CreatedKey,
): Promise<unknown> {
  const keyId = created.key.id
  if (
    phase === 'write' &&
    run.settings.strategy === 'create' &&
    !run.verified &&
    !anyTargetMayHold(run, keyId)
  ) {
    const verification = await verifySecret(run, created)
    if (verification.outcome === 'failed') {
      const why = verification.error === undefined ? '' : ` (${reasonOf(run, verification.error)})`
      throw new StepFailure(
        `the new secret did not verify${why}, so it was given to no target`,
        verification.error,
      )
    }
    run.verified = verification.outcome === 'passed'
  }
  if (phase === 'write') run.compensations.seal()
  try {
    await runPhase(run, target, phase, created)
    return undefined
  } catch (error) {
    run.settings.signal?.throwIfAborted()
    const cause = error instanceof NotConfirmed ? error.cause : error
    // Only a confirm the target itself failed sends it back to propagate: what propagate
    // started did not take (a failed or stuck redeploy). A journal that failed after a
    // confirm passed leaves it at confirm.
    await markFailed(run, target, keyId, phase, cause, error instanceof NotConfirmed)
    return cause
  }
}

/**
 * The error of a delivery in which the targets `failed` failed (each journalled with why):
 * the new key is kept and the old key untouched, and it says where each target stands.
 */
export function deliveryFailure(
  run: RotationRun,
  failed: readonly string[],
  cause?: unknown,
): RotationError {
  const keyId = run.record.newKeyId
  return run.fail(
    'deliver',
    false,
    `delivery to ${failed.join(', ')} failed; the new key ${keyId} is kept and the old key is untouched (${summary(run)}). Run the rotation again to finish the delivery`,
    cause,
  )
}

async function runPhase(
  run: RotationRun,
  target: DeliveryTarget,
  phase: TargetPhase,
  created: CreatedKey,
): Promise<void> {
  const keyId = created.key.id
  const current = recordOf(run, target.name, keyId)
  const done = (progress: TargetProgress) =>
    current !== undefined && ORDER.indexOf(current.progress) >= ORDER.indexOf(progress)
  const context = (receipt = recordOf(run, target.name, keyId)?.receipt ?? {}): TargetContext => ({
    rotationId: run.rotationId,
    provider: run.provider,
    oldKeyId: run.oldKeyId,
    newKeyId: keyId,
    writeToken: writeTokenOf(run.rotationId, target.name, keyId),
    receipt,
    signal: run.settings.signal,
  })
  if (phase === 'write') {
    if (done('written')) return
    const found = await landedBefore(run, target, 'write', current, 'writing', context)
    if (found !== undefined) {
      await save(run, target, { keyId, progress: 'written', receipt: found, failure: null })
      return
    }
    const before = await looked(run, target, 'write', context({}), {})
    // Journalled before it is sent: from here the target may hold the new key.
    await save(run, target, { keyId, progress: 'writing', receipt: before, failure: null })
    const receipt = await target.write(created, context(before))
    await save(run, target, {
      keyId,
      progress: 'written',
      receipt: checkedReceipt(run, target, receipt, before),
      failure: null,
    })
  } else if (phase === 'propagate') {
    if (done('propagated')) return
    const written = context().receipt
    let receipt: TargetReceipt | undefined = {}
    if (target.propagate !== undefined) {
      const found = await landedBefore(run, target, 'propagate', current, 'propagating', context)
      if (found !== undefined) {
        await save(run, target, { keyId, progress: 'propagated', receipt: found, failure: null })
        return
      }
      const before = await looked(run, target, 'propagate', context(), written)
      // Journalled before it is sent: a resume looks for what it started before sending again.
      await save(run, target, { keyId, progress: 'propagating', receipt: before, failure: null })
      receipt = await target.propagate(context(before))
    }
    await save(run, target, {
      keyId,
      progress: 'propagated',
      receipt: checkedReceipt(run, target, receipt, context().receipt),
      failure: null,
    })
  } else {
    if (done('confirmed')) return
    const deadline = Date.now() + (target.confirmWithinMs ?? DEFAULT_CONFIRM_WITHIN_MS)
    try {
      await confirmByDeadline(run, target, { ...context(), deadline, created })
    } catch (error) {
      throw new NotConfirmed(error)
    }
    await save(run, target, {
      keyId,
      progress: 'confirmed',
      receipt: context().receipt,
      failure: null,
    })
  }
}

/** A target's confirm failed (as opposed to the journal after it): carries its error. */
class NotConfirmed extends Error {
  constructor(cause: unknown) {
    super('not confirmed', { cause })
  }
}

/** How long past its deadline a confirm still running is abandoned. */
const ABANDON_AFTER_MS = 1_000

/**
 * Runs a target's confirm against its deadline: a confirm still running just after the
 * deadline is abandoned (its signal aborted), and one that answers only after it does not count, since
 * the rotation promised to give up by then. Either way a `TimeoutError`: not confirmed.
 */
async function confirmByDeadline(
  run: RotationRun,
  target: DeliveryTarget,
  context: TargetConfirmContext,
): Promise<void> {
  const late = () =>
    new TimeoutError({
      provider: run.provider,
      operation: 'confirm',
      message: `target ${target.name} did not confirm by its deadline (${new Date(context.deadline).toISOString()})`,
    })
  const stop = new AbortController()
  const signal =
    context.signal === undefined ? stop.signal : AbortSignal.any([context.signal, stop.signal])
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        stop.abort(late())
        reject(late())
      },
      // A moment past it, so that a target's own timeout (which says what it waited for)
      // comes first; an answer in that moment is late all the same.
      Math.max(0, context.deadline - Date.now()) + ABANDON_AFTER_MS,
    )
  })
  try {
    await Promise.race([target.confirm({ ...context, signal }), deadline])
  } finally {
    clearTimeout(timer)
  }
  if (Date.now() > context.deadline) throw late()
}

/**
 * Where `step` was sent before an interruption and its answer never journalled (the record
 * stands at `inFlight`), asks the target whether it took effect: its receipt merged onto
 * what was journalled, or `undefined` (not found, or the target cannot tell).
 */
async function landedBefore(
  run: RotationRun,
  target: DeliveryTarget,
  step: TargetStep,
  current: TargetRecord | undefined,
  inFlight: TargetProgress,
  context: (receipt?: TargetReceipt) => TargetContext,
): Promise<TargetReceipt | undefined> {
  if (current?.progress !== inFlight || target.landed === undefined || target.look === undefined) {
    return undefined
  }
  const found = await target.landed(step, context(current.receipt))
  return found === undefined ? undefined : checkedReceipt(run, target, found, current.receipt)
}

/** What the target shows before `step` is sent, merged onto `before` (`before` without `look`). */
async function looked(
  run: RotationRun,
  target: DeliveryTarget,
  step: TargetStep,
  context: TargetContext,
  before: TargetReceipt,
): Promise<TargetReceipt> {
  if (target.look === undefined) return before
  return checkedReceipt(run, target, await target.look(step, context), before)
}

/** The journalled progress of `name` for `keyId`; progress with another key does not count. */
function recordOf(run: RotationRun, name: string, keyId: string): TargetRecord | undefined {
  const record = run.record.targets?.[name]
  return record?.keyId === keyId ? record : undefined
}

async function save(
  run: RotationRun,
  target: DeliveryTarget,
  record: Omit<TargetRecord, 'kind'>,
): Promise<void> {
  await run.note({
    targets: { ...run.record.targets, [target.name]: { kind: target.description.kind, ...record } },
  })
}

/**
 * Journals why a target's step failed. A write refused outright leaves the target as it was;
 * a confirm that fails after a propagate sends the target back to propagate on the next run.
 */
async function markFailed(
  run: RotationRun,
  target: DeliveryTarget,
  keyId: string,
  phase: TargetPhase,
  error: unknown,
  notConfirmed: boolean,
): Promise<void> {
  const current = recordOf(run, target.name, keyId)
  const refused = phase === 'write' && KeyStoreError.is(error) && !mayHaveTakenEffect(error)
  // What propagate started did not take (a failed or stuck redeploy): a rerun propagates again.
  const again = notConfirmed && target.propagate !== undefined
  await save(run, target, {
    keyId,
    progress: refused ? 'refused' : again ? 'written' : (current?.progress ?? 'writing'),
    receipt: current?.receipt ?? {},
    failure: `${phase} failed: ${reasonOf(run, error)}`,
  })
}

/** A receipt merged onto `before`; one that is not plain data, or that holds a secret, is refused. */
function checkedReceipt(
  run: RotationRun,
  target: DeliveryTarget,
  receipt: TargetReceipt | undefined,
  before: TargetReceipt,
): TargetReceipt {
  if (receipt === undefined || receipt === null) return before
  const plain =
    isPlainObject(receipt) &&
    Object.values(receipt).every(
      (value) => value === null || ['string', 'number', 'boolean'].includes(typeof value),
    )
  const text = plain ? JSON.stringify(receipt) : ''
  if (!plain || run.redactor.redact(text) !== text) {
    throw new Error(
      `target ${target.name} returned a receipt that is not plain data or holds a secret; nothing of it was journalled`,
    )
  }
  return { ...before, ...receipt }
}

/** Where each target stands, in words. */
export function summary(run: RotationRun): string {
  return run
    .deliveries()
    .map((delivery) => {
      const failure = delivery.failure === null ? '' : `: ${delivery.failure}`
      return `${delivery.target} ${deliveryHolds(delivery)}${failure}`
    })
    .join('; ')
}
