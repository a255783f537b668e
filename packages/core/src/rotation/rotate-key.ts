import { randomUUID } from 'node:crypto'
import * as v from 'valibot'
import { RotationError } from '../errors.js'
import type { CreateKeyInput, KeyStore } from '../types.js'
import { openRun, readOldKeyAndOwnIds, stepsOf } from './open-run.js'
import {
  type RotationOptions,
  resolveRotationOptions,
  rotationIdSchema,
  rotationOptionEntries,
} from './rotation-options.js'
import { planKey, type RotationPlan } from './rotation-plan.js'
import { finishedResult, type RotationResult } from './rotation-run.js'
import { runSteps } from './run-steps.js'

/** Options of `rotateKey`: the key, the rotation's id, and every `RotationOptions`. */
export interface RotateKeyOptions<C extends CreateKeyInput = CreateKeyInput>
  extends RotationOptions<C> {
  /** The key to rotate. */
  keyId: string
  /** Names the rotation in the journal; pass the same id again to resume it. Default: a new UUID. */
  rotationId?: string
}

const rotateKeyOptionsSchema = v.strictObject({
  keyId: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
  rotationId: v.optional(rotationIdSchema),
  ...rotationOptionEntries,
})

/**
 * Rotates one key the safe way, as a table of steps: create a key like the old one (every
 * setting carried over), deliver it, verify it, switch the store over if the old key may be
 * its own credential, wait the grace period, and only then retire the old key. A failure
 * before retiring deletes the new key and leaves the old one untouched; every step is
 * journalled (ids only, never secrets), so calling again with the same `rotationId` after a
 * crash resumes, touching only keys this rotation provably made.
 *
 * Every option is checked before anything is sent. With `dryRun: true` it returns the plan
 * and writes nothing.
 */
export function rotateKey<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeyOptions<C> & { dryRun: true },
): Promise<RotationPlan>
export function rotateKey<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeyOptions<C>,
): Promise<RotationResult>
export async function rotateKey<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeyOptions<C>,
): Promise<RotationResult | RotationPlan> {
  const settings = resolveRotationOptions(store, options, rotateKeyOptionsSchema)
  const { keyId } = options
  const request = { signal: settings.signal }
  if (settings.dryRun) {
    const { oldKey, ownIds } = await readOldKeyAndOwnIds(store, settings, {
      keyId,
      record: undefined,
    })
    const { successor: _successor, ...plan } = await planKey(
      store,
      { keyId, oldKey, ownIds },
      settings,
      request,
    )
    return plan
  }
  const rotationId = options.rotationId ?? randomUUID()
  const record = await settings.journal.read(rotationId)
  if (record?.state === 'done' && record.oldKeyId === keyId) return finishedResult(record)
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
  await runSteps(run, stepsOf(settings.strategy))
  return run.result()
}
