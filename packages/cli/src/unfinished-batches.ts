import type { RotationJournal, RotationRecord, RotationState } from '@keyway/core'
import { CliError } from './cli-error.js'

/** States after which a rotation needs nothing more: its old key retired, or nothing left made. */
const SETTLED: ReadonlySet<RotationState> = new Set(['done', 'failed', 'rolled-back'])

/** A batch of the journal with rotations that began and did not finish. */
export interface UnfinishedBatch {
  /** The batch id to pass to `--batch-id`. */
  batchId: string
  /** The old keys whose rotation is part way. */
  keyIds: string[]
}

/**
 * The batches of `journal` that left rotations part way. `batchOf` maps a rotation's own batch
 * id (the part of its rotation id before `/<old key id>`) to the batch the operator resumes,
 * or `undefined` for a batch of other stores. A new batch over the same keys would make a
 * second successor for each, so it must not start while one of these is open.
 */
export async function unfinishedBatches(
  journal: RotationJournal,
  batchOf: (recordBatchId: string, record: RotationRecord) => string | undefined,
): Promise<UnfinishedBatch[]> {
  const open = new Map<string, string[]>()
  for (const record of await journal.list()) {
    if (SETTLED.has(record.state)) continue
    const suffix = `/${record.oldKeyId}`
    if (!record.rotationId.endsWith(suffix)) continue
    const batchId = batchOf(record.rotationId.slice(0, -suffix.length), record)
    if (batchId === undefined) continue
    open.set(batchId, [...(open.get(batchId) ?? []), record.oldKeyId])
  }
  return [...open].map(([batchId, keyIds]) => ({ batchId, keyIds }))
}

/**
 * Refuses a new batch while `journal` holds one (found as `unfinishedBatches` finds it) that
 * left rotations part way: a new batch would rotate those old keys again, leaving two live
 * successors and one delivered secret. The refusal says how many keys were left (`keys`), and
 * ends with `next`: the command that finishes the open batch.
 */
export async function refuseBesideUnfinished(
  journal: RotationJournal,
  batchOf: (recordBatchId: string, record: RotationRecord) => string | undefined,
  refusal: {
    keys: (count: number) => string
    hint: string
    next: (batchId: string) => string | Promise<string>
  },
): Promise<void> {
  const [first] = await unfinishedBatches(journal, batchOf)
  if (first === undefined) return
  throw new CliError(
    'UnfinishedBatch',
    `batch ${first.batchId} in ${journal.path ?? 'the journal'} left ${refusal.keys(first.keyIds.length)} part way (${first.keyIds.join(', ')}); a new batch would rotate them again, so nothing was started`,
    { hint: refusal.hint, next: await refusal.next(first.batchId) },
  )
}
