import { NotFoundError, RotationError } from '../errors.js'
import { storeRules } from '../store-rules.js'
import type { ApiKey, CreateKeyInput, KeyStore } from '../types.js'
import { eachLimited, failedOutcome, type RotateKeysOutcome } from './batch-outcome.js'
import type { RotationRecord } from './rotation-journal.js'
import type { RotationSettings } from './rotation-options.js'
import {
  credentialMatch,
  type KeyPlan,
  planKey,
  plannedTargets,
  type RotationPlan,
} from './rotation-plan.js'
import { finishedResult } from './rotation-run.js'
import { isPastCreate } from './rotation-states.js'

/** One key of a batch, planned: what it needs, or its outcome where it needs nothing more. */
export interface BatchEntry<C extends CreateKeyInput> {
  keyId: string
  rotationId: string
  record: RotationRecord | undefined
  oldKey: ApiKey | null
  /** The plan, for a key that still needs work. */
  plan?: KeyPlan<C>
  /** The outcome of a key that needs no work: done earlier, stopped for good, skipped, or unreadable. */
  outcome?: RotateKeysOutcome
  /** What a dry run or a confirmation shows for it. */
  shown: RotationPlan
}

/**
 * Plans every key of a batch before anything is written: reads each successor's input,
 * decides skips (blocked, the store's own credential), and takes over the outcome of keys an
 * earlier run of the batch finished. Reads only.
 */
export async function planBatch<C extends CreateKeyInput>(
  store: KeyStore<C>,
  settings: RotationSettings<C>,
  batch: {
    batchId: string
    keyIds: readonly string[]
    records: ReadonlyMap<string, RotationRecord>
    listed: ReadonlyMap<string, ApiKey>
    ownIds: readonly string[] | undefined
    concurrency: number
  },
): Promise<Array<BatchEntry<C>>> {
  const request = { signal: settings.signal }
  const entries = new Map<string, BatchEntry<C>>()
  await eachLimited(batch.keyIds, batch.concurrency, async (keyId) => {
    const rotationId = `${batch.batchId}/${keyId}`
    const record = batch.records.get(rotationId)
    const oldKey = batch.listed.get(keyId) ?? null
    const base = { keyId, rotationId, record, oldKey }
    const info = (action: RotationPlan['action'], reason: string): RotationPlan => ({
      ...emptyPlan(keyId, oldKey, settings, credentialMatch(keyId, batch.ownIds)),
      action,
      reason,
    })
    if (record?.state === 'done') {
      const outcome = { keyId, status: 'rotated' as const, result: finishedResult(record) }
      entries.set(keyId, {
        ...base,
        outcome,
        shown: info('done', 'rotated by an earlier run of this batch'),
      })
      return
    }
    if (record?.state === 'failed') {
      const reason = record.reason ?? 'stopped earlier'
      const outcome = failedOutcome(store, keyId, stoppedForGood(store.provider, keyId, reason))
      entries.set(keyId, { ...base, outcome, shown: info('skip', reason) })
      return
    }
    const pastCreate = record !== undefined && isPastCreate(record.state)
    if (oldKey === null && !pastCreate) {
      const error = storeRules(store).redact(
        new NotFoundError({
          provider: store.provider,
          operation: 'rotate',
          status: 404,
          message: `${store.provider} rotate: no active key with id ${keyId}`,
        }),
      )
      entries.set(keyId, {
        ...base,
        outcome: failedOutcome(store, keyId, error),
        shown: info('skip', error.message),
      })
      return
    }
    let plan: KeyPlan<C>
    try {
      plan = await planKey(
        store,
        { keyId, oldKey, ownIds: batch.ownIds, withSuccessor: !pastCreate },
        settings,
        request,
      )
    } catch (error) {
      settings.signal?.throwIfAborted()
      const outcome = failedOutcome(store, keyId, error)
      const reason = outcome.status === 'failed' ? outcome.error.message : 'could not be planned'
      entries.set(keyId, { ...base, outcome, shown: info('skip', reason) })
      return
    }
    const { successor: _successor, ...shown } = plan
    const restartable = record === undefined || record.state === 'rolled-back'
    if (plan.action === 'skip' && restartable) {
      const outcome = { keyId, status: 'skipped' as const, reason: plan.reason as string }
      entries.set(keyId, { ...base, outcome, shown })
      return
    }
    const resumes = record === undefined ? {} : { reason: `resumes from "${record.state}"` }
    entries.set(keyId, { ...base, plan, shown: { ...shown, ...resumes } })
  })
  return batch.keyIds.map((keyId) => entries.get(keyId) as BatchEntry<C>)
}

function emptyPlan<C extends CreateKeyInput>(
  keyId: string,
  oldKey: ApiKey | null,
  settings: RotationSettings<C>,
  credential: RotationPlan['credential'],
): RotationPlan {
  return {
    keyId,
    name: oldKey?.name ?? null,
    createdAt: oldKey?.createdAt ?? null,
    ageDays: null,
    strategy: settings.strategy,
    retire: settings.strategy === 'regenerate' ? 'replaced' : settings.retire,
    input: {},
    warnings: [],
    credential,
    switchesCredential: false,
    action: 'skip',
    targets: plannedTargets(settings, keyId, oldKey),
  }
}

function stoppedForGood(provider: string, keyId: string, reason: string): RotationError {
  return new RotationError({
    provider,
    operation: 'rotate',
    step: 'resume',
    rolledBack: false,
    message: `${provider} rotate ${keyId}: stopped earlier and left as it is: ${reason}`,
  })
}
