import { memoryJournal, type RotationJournal, type RotationState } from '@keyway/core'

/** Thrown by the crashing journal: stands for the process dying at that moment. */
export class Crash extends Error {
  constructor(state: RotationState, when: 'before' | 'after') {
    super(`simulated crash ${when} writing ${state}`)
    this.name = 'Crash'
  }
}

/**
 * A journal that dies once, just before or just after it writes `state`. The records it
 * holds survive, as a file would; everything else the rotation held in memory is lost.
 */
export function crashingJournal(crashAt?: { state: RotationState; when: 'before' | 'after' }) {
  const journal = memoryJournal()
  let crashed = false
  const wrapped: RotationJournal = {
    read: (rotationId) => journal.read(rotationId),
    list: () => journal.list(),
    readBatch: (batchId) => journal.readBatch(batchId),
    writeBatch: (record) => journal.writeBatch(record),
    write: async (record) => {
      const crashNow = !crashed && crashAt !== undefined && record.state === crashAt.state
      if (crashNow && crashAt.when === 'before') {
        crashed = true
        throw new Crash(record.state, 'before')
      }
      await journal.write(record)
      if (crashNow && crashAt.when === 'after') {
        crashed = true
        throw new Crash(record.state, 'after')
      }
    },
  }
  return { journal: wrapped, records: journal.records }
}
