import { memoryJournal, type RotationJournal, type RotationState } from './rotation-journal.js'

/** Thrown by the crashing journal: stands for the process dying at that moment. */
export class Crash extends Error {
  constructor(state: RotationState) {
    super(`simulated crash at ${state}`)
    this.name = 'Crash'
  }
}

/**
 * A journal that dies once, when a rotation writes `state` (`'before'`: the record is not
 * saved; `'after'`: it is). The records survive, as a file would.
 */
export function crashingJournal(state: RotationState, when: 'before' | 'after') {
  const journal = memoryJournal()
  let crashed = false
  const wrapped: RotationJournal = {
    read: (rotationId) => journal.read(rotationId),
    list: () => journal.list(),
    readBatch: (batchId) => journal.readBatch(batchId),
    writeBatch: (record) => journal.writeBatch(record),
    write: async (record) => {
      const crashNow = !crashed && record.state === state
      if (crashNow && when === 'before') {
        crashed = true
        throw new Crash(state)
      }
      await journal.write(record)
      if (crashNow) {
        crashed = true
        throw new Crash(state)
      }
    },
  }
  return { journal: wrapped, records: journal.records }
}
