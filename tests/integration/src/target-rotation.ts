// What the delivery-target rotation tests share: hooks that record what the targets' HTTP
// clients told, targets that note at each confirm whether the old key still works, and the
// journal points where a rotation delivering to targets is killed and resumed.
import {
  type DeliveryTarget,
  type HttpHooks,
  type KeyStore,
  type memoryJournal,
  RotationError,
  type RotationResult,
  type RotationState,
  rotateKey,
} from '@keyway/core'
import type { Emulator } from '@keyway/testkit'
import { expect } from 'vitest'
import { crashingJournal } from './crash-journal.js'

/** Everything the targets' HTTP clients told their hooks. */
export const events: unknown[] = []
export const hooks: HttpHooks = {
  request: (event) => void events.push(event),
  response: (event) => void events.push(event),
  retry: (event) => void events.push(event),
}

/** `targets`, each confirm first noting in `oldAliveAtConfirm` whether the old key still works. */
export function noteOldKeyAtConfirm(
  targets: readonly DeliveryTarget[],
  emulator: Emulator,
  oldSecret: string,
  oldAliveAtConfirm: boolean[],
): DeliveryTarget[] {
  return targets.map((target) => ({
    ...target,
    confirm: async (context) => {
      oldAliveAtConfirm.push(emulator.control.works(oldSecret))
      await target.confirm(context)
    },
  }))
}

/** Where a rotation delivering to targets is killed: before or after the journal writes a state. */
export const JOURNAL_KILL_POINTS: Array<[RotationState, 'before' | 'after']> = [
  ['created', 'after'],
  ['delivered', 'before'],
  ['delivered', 'after'],
  ['verified', 'after'],
]

/**
 * A rotation of `keyId` killed at the journal point, then run again by a new process (new
 * targets from `targets()`, the journal as the crash left it): it resumes, the old key no
 * longer works, and every confirm saw the old key still working.
 */
export async function killAndResume(
  store: KeyStore,
  emulator: Emulator,
  old: { id: string; secret: string },
  crashAt: { state: RotationState; when: 'before' | 'after' },
  targets: (alive: boolean[]) => DeliveryTarget[],
): Promise<RotationResult> {
  const crashing = crashingJournal(crashAt)
  const alive: boolean[] = []
  const options = {
    verifyIntervalMs: 5,
    keyId: old.id,
    rotationId: 'nightly-1',
    journal: crashing.journal,
  }
  await expect(rotateKey(store, { ...options, targets: targets(alive) })).rejects.toThrow(
    'simulated crash',
  )
  const result = await rotateKey(store, { ...options, targets: targets(alive) })
  expect(result.resumed).toBe(true)
  expect(emulator.control.works(old.secret)).toBe(false)
  expect(alive.length).toBeGreaterThan(0)
  expect(alive.every(Boolean)).toBe(true)
  return result
}

/**
 * A rotation that fails in its deliver step without rolling back: every target holds the new
 * key (the journal's), each at the progress given, and the target `failed` says why (`reason`).
 */
export async function expectDeliveryFailure(
  rotation: Promise<unknown>,
  journal: ReturnType<typeof memoryJournal>,
  rotationId: string,
  expected: {
    progress: ReadonlyArray<[kind: string, progress: string]>
    failed: number
    reason: RegExp
  },
): Promise<{ failure: RotationError; newKeyId: string | null | undefined }> {
  const error = await rotation.catch((thrown: unknown) => thrown)
  expect(error).toBeInstanceOf(RotationError)
  const failure = error as RotationError
  const newKeyId = journal.records.get(rotationId)?.newKeyId
  expect(failure).toMatchObject({ step: 'deliver', rolledBack: false })
  expect(
    failure.deliveries?.map((delivery) => [
      delivery.kind,
      delivery.holds,
      delivery.keyId,
      delivery.progress,
    ]),
  ).toEqual(expected.progress.map(([kind, progress]) => [kind, 'new', newKeyId, progress]))
  expect(failure.deliveries?.[expected.failed]?.failure).toMatch(expected.reason)
  return { failure, newKeyId }
}
