import { memoryJournal, type RotationJournal, type RotationState } from './rotation-journal.js'

/** Thrown by the crashing journal: stands for the process dying at that moment. */
export class Crash extends Error {
  constructor(at: string) {
    super(`simulated crash at ${at}`)
    this.name = 'Crash'
  }
}

/**
 * A journal that dies once: when a rotation writes `state`, or at its `n`th write
 * (`'before'`: the record is not saved; `'after'`: it is). The records survive, as a file
 * would; `writes()` counts the writes tried.
 */
export function crashingJournal(at: RotationState | number, when: 'before' | 'after') {
  const journal = memoryJournal()
  let crashed = false
  let writes = 0
  const wrapped: RotationJournal = {
    read: (rotationId) => journal.read(rotationId),
    list: () => journal.list(),
    readBatch: (batchId) => journal.readBatch(batchId),
    writeBatch: (record) => journal.writeBatch(record),
    write: async (record) => {
      writes++
      const crashNow = !crashed && (typeof at === 'number' ? writes === at : record.state === at)
      const crash = () => {
        crashed = true
        return new Crash(typeof at === 'number' ? `write ${at}` : at)
      }
      if (crashNow && when === 'before') throw crash()
      await journal.write(record)
      if (crashNow) throw crash()
    },
  }
  return { journal: wrapped, records: journal.records, writes: () => writes }
}
