import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { TargetRecord } from '../targets/delivery-target.js'
import type { RotationState } from './rotation-states.js'

export type { RotationState, TargetRecord }

/** One rotation's progress: ids, names and steps. Never a secret. */
export interface RotationRecord {
  rotationId: string
  provider: string
  oldKeyId: string
  strategy: 'create' | 'regenerate'
  state: RotationState
  /**
   * The marker of the create in progress (see `CreateOptions.marker`), written before the
   * create is sent: the keys that carry it are provably this rotation's.
   */
  marker: string | null
  /**
   * Markers of earlier creates of this rotation whose keys were not found when it resumed:
   * a slow vendor may still make such a key, and any key carrying one is this rotation's.
   */
  abandonedMarkers: string[]
  /** The name the new key was asked for, for messages. */
  newKeyName: string | null
  /** The id of the key this rotation made, once known. */
  newKeyId: string | null
  /**
   * When the old key was made (ISO), as the vendor said when the rotation began: a resume
   * checks it against the key it finds under `oldKeyId`, so a journal of another account
   * (where ids can repeat) never has this rotation act on a key that merely shares the id.
   * Absent or `null` where the vendor does not say.
   */
  oldKeyCreatedAt?: string | null
  /** When the new key was made (ISO), as the create's answer said; checked the same way. */
  newKeyCreatedAt?: string | null
  /** How the old key was retired, once it was; `'replaced'` after a regenerate. */
  retired: 'deleted' | 'disabled' | 'kept' | 'replaced' | null
  /** What could not be carried over, and what a resume found: plain words, never a secret. */
  warnings: string[]
  /** When the grace period before retiring ends (ISO), once it began. */
  graceEndsAt: string | null
  /** Why the rotation stopped (`'failed'`) and what is left to do. */
  reason: string | null
  /** Each state reached, with its ISO time. */
  history: Array<{ state: RotationState; at: string }>
  /**
   * Each delivery target's progress, by target name (see `DeliveryTarget`): which new key it
   * was given and how far it got, so a resume writes no target twice for one key.
   */
  targets?: Record<string, TargetRecord>
  /**
   * New keys this rotation made and gave to some target, then replaced with another new key
   * (their secret could not be read again to give to the rest): they are retired with the
   * old key, once every target confirmed the key that replaced them.
   */
  supersededKeyIds?: string[]
}

/** A batch of rotations (`rotateKeys`): which keys it covers, chosen once. */
export interface BatchRecord {
  batchId: string
  provider: string
  /** The keys chosen on the batch's first run: a rerun rotates exactly these, never a fresh selection. */
  keyIds: string[]
  /** When the batch's one grace period ends (ISO), once it began. */
  graceEndsAt: string | null
  /** When the batch was first run (ISO). */
  startedAt: string
  /**
   * When each chosen key was made (ISO), where the vendor says: a rerun refuses to go on if a
   * key listed under one of these ids was made at another time (another account's journal).
   */
  keyCreatedAt?: Record<string, string>
  /**
   * What started the batch: `'revoke'`, a batch that replaces a disabled (leaked) key
   * (`replaceDisabled`, as `revokeLeakedKey` starts one), finished only with those settings
   * (`resumeRevoke`); `'rotate'`, any other. Absent in batches journalled before it was kept:
   * either may be.
   */
  kind?: BatchKind
}

/** What started a batch (see `BatchRecord.kind`). */
export type BatchKind = 'rotate' | 'revoke'

/** Keeps rotation and batch records so that an interrupted rotation can resume. */
export interface RotationJournal {
  /** The record of a rotation, if it began. */
  read(rotationId: string): Promise<RotationRecord | undefined>
  /** Saves a record, replacing the rotation's earlier one. */
  write(record: RotationRecord): Promise<void>
  /** Every rotation record. */
  list(): Promise<RotationRecord[]>
  /** The record of a batch, if it began. */
  readBatch(batchId: string): Promise<BatchRecord | undefined>
  /** Saves a batch record, replacing its earlier one. */
  writeBatch(record: BatchRecord): Promise<void>
  /** Where the records are kept, for messages: `fileJournal`'s absolute path. */
  readonly path?: string
}

/** A journal in memory: resumes within one process only. */
export function memoryJournal(): RotationJournal & {
  readonly records: ReadonlyMap<string, RotationRecord>
  readonly batches: ReadonlyMap<string, BatchRecord>
} {
  const records = new Map<string, RotationRecord>()
  const batches = new Map<string, BatchRecord>()
  return {
    records,
    batches,
    read: async (rotationId) => clone(records.get(rotationId)),
    list: async () => [...records.values()].map((record) => clone(record)),
    write: async (record) => {
      records.set(record.rotationId, clone(record))
    },
    readBatch: async (batchId) => clone(batches.get(batchId)),
    writeBatch: async (record) => {
      batches.set(record.batchId, clone(record))
    },
  }
}

/** What a journal file holds. Version 1 files were a bare map of rotation records. */
interface JournalFile {
  version: 2
  rotations: Record<string, RotationRecord>
  batches: Record<string, BatchRecord>
}

/**
 * A journal in a JSON file, so a rotation can resume after the process dies. `path` is
 * resolved against the working directory once, here, and exposed as an absolute path. Each
 * write replaces the file atomically (a temporary file, then a rename), so a crash mid-write
 * leaves the previous version intact; the file is readable by its owner only.
 */
export function fileJournal(path: string): RotationJournal & { readonly path: string } {
  const absolute = resolve(path)
  let queue: Promise<unknown> = Promise.resolve()
  const load = async (): Promise<JournalFile> => {
    let text: string
    try {
      text = await readFile(absolute, 'utf8')
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') {
        return { version: 2, rotations: {}, batches: {} }
      }
      throw error
    }
    const parsed = JSON.parse(text) as Partial<JournalFile> & Record<string, unknown>
    if (parsed.version === 2) {
      return { version: 2, rotations: parsed.rotations ?? {}, batches: parsed.batches ?? {} }
    }
    return { version: 2, rotations: parsed as Record<string, RotationRecord>, batches: {} }
  }
  const update = (change: (file: JournalFile) => void): Promise<void> => {
    // Writes from concurrent rotations are applied one after another.
    const next = queue.then(async () => {
      const file = await load()
      change(file)
      await mkdir(dirname(absolute), { recursive: true })
      const temporary = `${absolute}.${process.pid}.${Date.now()}.tmp`
      await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
      await rename(temporary, absolute)
    })
    queue = next.catch(() => {})
    return next
  }
  const settled = async () => {
    await queue
    return load()
  }
  return {
    path: absolute,
    read: async (rotationId) => normalize((await settled()).rotations[rotationId]),
    list: async () =>
      Object.values((await settled()).rotations).map(
        (record) => normalize(record) as RotationRecord,
      ),
    write: (record) =>
      update((file) => {
        file.rotations[record.rotationId] = record
      }),
    readBatch: async (batchId) => (await settled()).batches[batchId],
    writeBatch: (record) =>
      update((file) => {
        file.batches[record.batchId] = record
      }),
  }
}

/** A record written by an earlier version, with the fields it lacks filled in. */
function normalize(record: RotationRecord | undefined): RotationRecord | undefined {
  if (record === undefined) return undefined
  return {
    ...record,
    marker: record.marker ?? null,
    abandonedMarkers: record.abandonedMarkers ?? [],
    newKeyName: record.newKeyName ?? null,
    newKeyId: record.newKeyId ?? null,
    oldKeyCreatedAt: record.oldKeyCreatedAt ?? null,
    newKeyCreatedAt: record.newKeyCreatedAt ?? null,
    retired: record.retired ?? null,
    warnings: record.warnings ?? [],
    graceEndsAt: record.graceEndsAt ?? null,
    reason: record.reason ?? null,
    history: record.history ?? [],
    targets: record.targets ?? {},
    supersededKeyIds: record.supersededKeyIds ?? [],
  }
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T)
}
