import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Where a rotation stands. Each is written before the work of the next step begins. */
export type RotationState =
  | 'started' // the old key was checked; nothing made yet
  | 'creating' // a create (or regenerate) was sent; its answer may be lost
  | 'created' // the new key exists; its secret has not been delivered
  | 'delivered' // the caller holds the new secret
  | 'verified' // the new secret works at the vendor
  | 'switched' // the store itself now uses the new secret
  | 'done' // the old key is retired as asked
  | 'rolled-back' // the new key was deleted; the old key is untouched

/** One rotation's progress: ids, names and steps. Never a secret. */
export interface RotationRecord {
  rotationId: string
  provider: string
  oldKeyId: string
  /** The id of the key this rotation made, once known. */
  newKeyId: string | null
  /** The name the new key was created with, to find it again after a crash. */
  newKeyName: string | null
  /** Ids of keys of that name that existed before the create. */
  existingIds: string[]
  strategy: 'create' | 'regenerate'
  state: RotationState
  /** How the old key was retired, once it was; `'replaced'` after a regenerate. */
  retired: 'deleted' | 'disabled' | 'kept' | 'replaced' | null
  /** Each state reached, with its ISO time. */
  history: Array<{ state: RotationState; at: string }>
}

/** Keeps rotation records so a crashed rotation can resume. */
export interface RotationJournal {
  /** The record of a rotation, if it began. */
  read(rotationId: string): Promise<RotationRecord | undefined>
  /** Saves a record, replacing the rotation's earlier one. */
  write(record: RotationRecord): Promise<void>
  /** Every record, to find the rotations of a batch. */
  list(): Promise<RotationRecord[]>
}

/** A journal in memory: resumes within one process only. */
export function memoryJournal(): RotationJournal & {
  readonly records: ReadonlyMap<string, RotationRecord>
} {
  const records = new Map<string, RotationRecord>()
  return {
    records,
    read: async (rotationId) => clone(records.get(rotationId)),
    list: async () => [...records.values()].map((record) => clone(record)),
    write: async (record) => {
      records.set(record.rotationId, clone(record) as RotationRecord)
    },
  }
}

/**
 * A journal in a JSON file, so a rotation can resume after the process dies. Each write
 * replaces the file atomically (a temporary file, then a rename), so a crash mid-write
 * leaves the previous version intact.
 */
export function fileJournal(path: string): RotationJournal {
  let queue: Promise<unknown> = Promise.resolve()
  const load = async (): Promise<Record<string, RotationRecord>> => {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as Record<string, RotationRecord>
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return {}
      throw error
    }
  }
  return {
    read: async (rotationId) => {
      await queue
      return (await load())[rotationId]
    },
    list: async () => {
      await queue
      return Object.values(await load())
    },
    write: (record) => {
      // Writes from concurrent rotations are applied one after another.
      const next = queue.then(async () => {
        const records = await load()
        records[record.rotationId] = record
        await mkdir(dirname(path), { recursive: true })
        const temporary = `${path}.${process.pid}.${Date.now()}.tmp`
        await writeFile(temporary, `${JSON.stringify(records, null, 2)}\n`, { mode: 0o600 })
        await rename(temporary, path)
      })
      queue = next.catch(() => {})
      return next
    },
  }
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T)
}
