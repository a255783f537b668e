// The set-up the rotation tests share: a memory store with one key to rotate, a journal that
// survives a simulated crash, and the options of one rotation that records what it delivered.
import { expect } from 'vitest'
import type { CreatedKey } from '../types.js'
import { Crash, crashingJournal } from './crash-journal.test-support.js'
import {
  type MemoryCreateInput,
  MemoryKeyStore,
  type MemoryKeyStoreOptions,
} from './memory-key-store.test-support.js'
import { type RotateKeyOptions, rotateKey } from './rotate-key.js'
import { memoryJournal, type RotationState } from './rotation-journal.js'

/** No wait between verification attempts. */
export const quick = { verifyIntervalMs: 0 }

/** What `rotation` sets up besides the store. */
export interface RotationSetup {
  /** The key seeded to be rotated; default `{ name: 'ci' }`. */
  seed?: MemoryCreateInput
  /** A journal that dies once, when the rotation writes this state, before or after saving it. */
  crash?: [RotationState, 'before' | 'after']
}

/**
 * A memory store (`store` options as given) holding one key, `old`, and the options of its
 * rotation `r1`: `journalled` in `journal` (whose saved records are `records`), and `options`,
 * those with a deliver callback that keeps each new key in `delivered`.
 */
export function rotation(store: MemoryKeyStoreOptions = {}, setup: RotationSetup = {}) {
  const memory = new MemoryKeyStore(store)
  const old = memory.seed(setup.seed ?? { name: 'ci' })
  const plain = memoryJournal()
  const { journal, records } =
    setup.crash === undefined
      ? { journal: plain, records: plain.records }
      : crashingJournal(...setup.crash)
  const delivered: CreatedKey[] = []
  const journalled = { ...quick, keyId: old.id, rotationId: 'r1', journal }
  const options = {
    ...journalled,
    deliver: (created: CreatedKey) => void delivered.push(created),
  }
  return { store: memory, old, journal, records, delivered, journalled, options }
}

/** The secrets delivered so far, in order. */
export const secretsOf = (delivered: readonly CreatedKey[]) =>
  delivered.map((created) => created.secret.reveal())

/** Runs the rotation into its crash, then once more, and returns what the resume returned. */
export async function crashThenResume(
  store: MemoryKeyStore,
  options: RotateKeyOptions<MemoryCreateInput>,
) {
  await expect(rotateKey(store, options)).rejects.toBeInstanceOf(Crash)
  return rotateKey(store, options)
}
