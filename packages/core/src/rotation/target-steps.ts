import { KeyStoreError } from '../errors.js'
import { isPlainObject } from '../plain-object.js'
import { mayHaveTakenEffect } from '../retry-policy.js'
import type {
  DeliveryTarget,
  TargetContext,
  TargetProgress,
  TargetReceipt,
  TargetRecord,
} from '../targets/delivery-target.js'
import { writeTokenOf } from '../targets/write-token.js'
import type { CreatedKey } from '../types.js'
import { type RotationRun, reasonOf } from './rotation-run.js'
import { StepFailure } from './run-steps.js'
import { verifySecret } from './verify-secret.js'

/** Default time a target's `confirm` may take. */
export const DEFAULT_CONFIRM_WITHIN_MS = 600_000

const ORDER: readonly TargetProgress[] = [
  'refused',
  'writing',
  'written',
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
  const keyId = created.key.id
  if (run.settings.strategy === 'create' && !anyTargetMayHold(run, keyId)) {
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
  run.compensations.seal()
  const failed = new Map<string, unknown>()
  const phases: Array<'write' | 'propagate' | 'confirm'> = ['write', 'propagate', 'confirm']
  for (const phase of phases) {
    for (const target of run.targets) {
      if (failed.has(target.name)) continue
      try {
        await runPhase(run, target, phase, created)
      } catch (error) {
        run.settings.signal?.throwIfAborted()
        failed.set(target.name, error)
        await markFailed(run, target, keyId, phase, error)
      }
    }
  }
  if (failed.size === 0) {
    await run.advance('delivered')
    return
  }
  const [firstError] = failed.values()
  const names = [...failed.keys()].join(', ')
  throw run.fail(
    'deliver',
    false,
    `delivery to ${names} failed; the new key ${keyId} is kept and the old key is untouched (${summary(run)}). Run the rotation again to finish the delivery`,
    firstError,
  )
}

async function runPhase(
  run: RotationRun,
  target: DeliveryTarget,
  phase: 'write' | 'propagate' | 'confirm',
  created: CreatedKey,
): Promise<void> {
  const keyId = created.key.id
  const current = recordOf(run, target.name, keyId)
  const done = (progress: TargetProgress) =>
    current !== undefined && ORDER.indexOf(current.progress) >= ORDER.indexOf(progress)
  const context = (): TargetContext => ({
    rotationId: run.rotationId,
    provider: run.provider,
    oldKeyId: run.oldKeyId,
    newKeyId: keyId,
    writeToken: writeTokenOf(run.rotationId, target.name, keyId),
    receipt: recordOf(run, target.name, keyId)?.receipt ?? {},
    signal: run.settings.signal,
  })
  if (phase === 'write') {
    if (done('written')) return
    // Journalled before it is sent: from here the target may hold the new key.
    await save(run, target, { keyId, progress: 'writing', receipt: {}, failure: null })
    const receipt = await target.write(created, context())
    await save(run, target, {
      keyId,
      progress: 'written',
      receipt: checkedReceipt(run, target, receipt, {}),
      failure: null,
    })
  } else if (phase === 'propagate') {
    if (done('propagated')) return
    const before = context().receipt
    const receipt = target.propagate === undefined ? {} : await target.propagate(context())
    await save(run, target, {
      keyId,
      progress: 'propagated',
      receipt: checkedReceipt(run, target, receipt, before),
      failure: null,
    })
  } else {
    if (done('confirmed')) return
    const deadline = Date.now() + (target.confirmWithinMs ?? DEFAULT_CONFIRM_WITHIN_MS)
    await target.confirm({ ...context(), deadline, created })
    await save(run, target, {
      keyId,
      progress: 'confirmed',
      receipt: context().receipt,
      failure: null,
    })
  }
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
  phase: 'write' | 'propagate' | 'confirm',
  error: unknown,
): Promise<void> {
  const current = recordOf(run, target.name, keyId)
  const refused = phase === 'write' && KeyStoreError.is(error) && !mayHaveTakenEffect(error)
  // What propagate started did not take (a failed or stuck redeploy): a rerun propagates again.
  const again = phase === 'confirm' && target.propagate !== undefined
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
      const where =
        delivery.holds === 'new'
          ? `holds the new key ${delivery.keyId} (${delivery.progress})`
          : delivery.holds === 'unknown'
            ? `may hold the new key ${delivery.keyId} (its write's answer was lost)`
            : 'holds the old key'
      const failure = delivery.failure === null ? '' : `: ${delivery.failure}`
      return `${delivery.target} ${where}${failure}`
    })
    .join('; ')
}
