// A create settles (renames the key, or drops its marker entry) before the rotation journals
// 'created'. A process that dies in between must not leave that key live and undelivered.
import { memoryJournal, type RotationJournal, type RotationRecord, rotateKey } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import { activeIds, seedKey, storeFor, vendors, withEmulator } from './vendors.js'

/**
 * A journal whose process dies when asked to record `state`: that write never returns, and
 * nothing of the run happens after it. `died` resolves then.
 */
function dyingAt(journal: RotationJournal, state: RotationRecord['state']) {
  let died: () => void = () => {}
  const dead = new Promise<void>((resolve) => {
    died = resolve
  })
  const dying: RotationJournal = {
    ...journal,
    write: async (record) => {
      if (record.state !== state) return journal.write(record)
      died()
      return new Promise<void>(() => {})
    },
  }
  return { dying, dead }
}

describe.each(vendors)('%s: a run that dies between the settle and the journal', (vendor) => {
  it('resumes by deleting (or recovering) the key it made, leaving one successor', () =>
    withEmulator(
      vendor,
      async (emulator) => {
        const store = storeFor(emulator)
        const old = seedKey(emulator)
        const before = await activeIds(store)
        const journal = memoryJournal()
        const { dying, dead } = dyingAt(journal, 'created')
        // Never settles: the process it stands for is gone.
        void rotateKey(store, {
          keyId: old.id,
          deliver: () => {},
          journal: dying,
          rotationId: 'r1',
        })
        await dead
        const record = await journal.read('r1')
        expect(record?.state).toBe('creating')
        const made = record?.newKeyId
        expect(typeof made).toBe('string')
        expect(await activeIds(store)).toContain(made)

        let delivered: string | undefined
        const result = await rotateKey(store, {
          keyId: old.id,
          deliver: (created) => {
            delivered = created.key.id
          },
          journal,
          rotationId: 'r1',
        })
        const after = await activeIds(store)
        // Exactly one successor: the old key gone, and no second new key beside the first.
        expect(after.length).toBe(before.length)
        expect(after).not.toContain(old.id)
        expect(after).toContain(result.newKeyId)
        expect(delivered).toBe(result.newKeyId)
        if (result.newKeyId !== made) expect(after).not.toContain(made)
      },
      { seedKeys: 0 },
    ))
})
