import { ValidationError } from '../errors.js'
import type { ApiKey, CreateKeyInput, KeyStore } from '../types.js'
import { createdAtOf, madeAtAnotherTime } from './key-identity.js'
import type { RotateKeysOptions } from './rotate-keys.js'
import type { BatchRecord, RotationJournal, RotationRecord } from './rotation-journal.js'

/**
 * The batch record of a journal written before batches had one: the old keys its rotations
 * name (never the keys they made).
 */
export function earlierBatchFromRotations<C extends CreateKeyInput>(
  store: KeyStore<C>,
  batchId: string,
  records: ReadonlyMap<string, RotationRecord>,
): BatchRecord | undefined {
  if (records.size === 0) return undefined
  const all = [...records.values()]
  return {
    batchId,
    provider: store.provider,
    keyIds: [...new Set(all.map((record) => record.oldKeyId))],
    graceEndsAt: null,
    startedAt: all[0]?.history[0]?.at ?? new Date().toISOString(),
  }
}

/** Whether a rotation needs nothing more: done, or stopped for good. */
export function isFinal(record: RotationRecord | undefined): boolean {
  return record?.state === 'done' || record?.state === 'failed'
}

/** The batch options that only make sense together, checked before anything is read. */
export function checkBatchOptions<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeysOptions<C>,
): void {
  const invalid = (path: string, problem: string) =>
    new ValidationError({
      provider: store.provider,
      operation: 'rotate',
      message: `${store.provider} rotate: invalid option (${path}: ${problem})`,
      issues: [{ path, message: problem }],
    })
  if (options.filter !== undefined && options.keyIds !== undefined) {
    throw invalid('keyIds', 'give either keyIds or filter, not both')
  }
  if (options.resume === true && options.batchId === undefined) {
    throw invalid('batchId', 'required to resume a batch')
  }
}

/**
 * A batch id that names nothing where the caller means to resume, another vendor's batch,
 * a batch started with other keys, or a revoke's batch resumed as a rotation (and the other way
 * round; see `BatchRecord.kind`): a `ValidationError` naming the journal.
 */
export function checkEarlierBatch<C extends CreateKeyInput>(
  store: KeyStore<C>,
  journal: RotationJournal,
  options: RotateKeysOptions<C>,
  batchId: string,
  earlier: BatchRecord | undefined,
): void {
  const where = journal.path === undefined ? 'the journal given' : `the journal ${journal.path}`
  const invalid = (problem: string) =>
    new ValidationError({
      provider: store.provider,
      operation: 'rotate',
      message: `${store.provider} rotate: batch ${batchId} ${problem}`,
      issues: [{ path: 'batchId', message: problem }],
    })
  if (earlier === undefined) {
    if (options.resume === true) throw invalid(`is not in ${where}; nothing was rotated`)
    return
  }
  if (earlier.provider !== store.provider) {
    throw invalid(`in ${where} belongs to ${earlier.provider}`)
  }
  // A revoke's batch replaces a disabled key: resumed with other settings, it would skip it.
  const kind = options.replaceDisabled === true ? 'revoke' : 'rotate'
  if (earlier.kind !== undefined && earlier.kind !== kind) {
    throw invalid(
      earlier.kind === 'revoke'
        ? `in ${where} was started by a revoke; finish it with resumeRevoke; nothing was rotated`
        : `in ${where} is a rotation, not a revoke; finish it as it was started; nothing was rotated`,
    )
  }
  if (options.keyIds !== undefined) {
    const same =
      options.keyIds.length === earlier.keyIds.length &&
      options.keyIds.every((id) => earlier.keyIds.includes(id))
    if (!same) throw invalid(`in ${where} was started with other keys; use another batch id`)
  }
}

/** When each of `keyIds` was made, from a listing, for the batch record (where the vendor says). */
export function creationTimes(
  keyIds: readonly string[],
  listed: readonly ApiKey[],
): Record<string, string> {
  const byId = new Map(listed.map((key) => [key.id, key]))
  return Object.fromEntries(
    keyIds.flatMap((id) => {
      const at = createdAtOf(byId.get(id))
      return at === null ? [] : [[id, at]]
    }),
  )
}

/**
 * A batch resumed against keys that only share its keys' ids (a journal of another account,
 * where ids can repeat): a `ValidationError` naming the journal, before anything is written.
 */
export function checkSameKeys<C extends CreateKeyInput>(
  store: KeyStore<C>,
  journal: RotationJournal,
  earlier: BatchRecord,
  listed: readonly ApiKey[],
): void {
  const made = earlier.keyCreatedAt
  if (made === undefined) return
  const others = listed.filter(
    (key) => Object.hasOwn(made, key.id) && madeAtAnotherTime(made[key.id], key),
  )
  if (others.length === 0) return
  const where = journal.path === undefined ? 'the journal given' : `the journal ${journal.path}`
  const problem = `in ${where} was started on other keys than those listed now under ${others.map((key) => key.id).join(', ')} (they were made at other times): is it another account's batch? Nothing was rotated`
  throw new ValidationError({
    provider: store.provider,
    operation: 'rotate',
    message: `${store.provider} rotate: batch ${earlier.batchId} ${problem}`,
    issues: [{ path: 'batchId', message: problem }],
  })
}
