import { randomUUID } from 'node:crypto'
import * as v from 'valibot'
import { ValidationError } from '../errors.js'
import { redacting } from '../store-rules.js'
import type { CreateKeyInput, KeyStore } from '../types.js'
import { readOldKeyAndOwnIds } from './open-run.js'
import {
  type RotationOptions,
  resolveRotationOptions,
  rotationIdSchema,
  rotationOptionEntries,
} from './rotation-options.js'
import { planKey, type RotationPlan } from './rotation-plan.js'
import type { RotationResult } from './rotation-run.js'
import { openSteps, type SteppedRotation } from './stepped-rotation.js'

/** Options of `rotateKey`: the key, the rotation's id, and every `RotationOptions`. */
export interface RotateKeyOptions<C extends CreateKeyInput = CreateKeyInput>
  extends RotationOptions<C> {
  /** The key to rotate. */
  keyId: string
  /** Names the rotation in the journal; pass the same id again to resume it. Default: a new UUID. */
  rotationId?: string
}

const rotateKeyOptionsSchema = v.strictObject({
  // Checked further by the store's own id rules (see `resolveRotationOptions`).
  keyId: v.string(),
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
export function rotateKey<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeyOptions<C>,
): Promise<RotationResult | RotationPlan> {
  return redacting(store, () => rotateOne(store, options))
}

async function rotateOne<C extends CreateKeyInput>(
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
  const rotation = await openSteps(store, settings, keyId, options.rotationId ?? randomUUID())
  while (rotation.next !== null) await rotation.runNext()
  return rotation.result()
}

/**
 * `rotateKey` a step at a time, for a durable engine (DBOS, Temporal, …) that checkpoints
 * each step: `runNext()` runs the next step (`next` names it) until `next` is `null`, then
 * `result()` tells what was done. It takes `rotateKey`'s options (not `dryRun`) and keeps
 * every promise `rotateKey` makes: each step is journalled before the next, and opening the
 * same `rotationId` again, in any process, resumes where the journal stands (a rotation
 * already done opens with nothing left to run).
 */
export function openRotation<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeyOptions<C>,
): Promise<SteppedRotation> {
  return redacting(store, async () => {
    const settings = resolveRotationOptions(store, options, rotateKeyOptionsSchema)
    if (settings.dryRun) {
      throw new ValidationError({
        provider: store.provider,
        operation: 'rotate',
        message: `${store.provider} rotate: dryRun: a stepped rotation writes; rotateKey({ dryRun: true }) returns the plan`,
        issues: [{ path: 'dryRun', message: 'not taken by openRotation' }],
      })
    }
    return openSteps(store, settings, options.keyId, options.rotationId ?? randomUUID())
  })
}
