import { randomUUID } from 'node:crypto'
import * as v from 'valibot'
import { atLeastOne } from '../setting-schemas.js'
import { sleep } from '../sleep.js'
import { redacting } from '../store-rules.js'
import type { ApiKey, CreateKeyInput, KeyStore } from '../types.js'
import {
  checkBatchOptions,
  checkEarlierBatch,
  checkSameKeys,
  creationTimes,
  earlierBatchFromRotations,
  isFinal,
} from './batch-checks.js'
import {
  eachLimited,
  failedOutcome,
  type RotateKeysOutcome,
  type RotateKeysProgress,
} from './batch-outcome.js'
import { type BatchEntry, planBatch } from './batch-plan.js'
import { BatchStop } from './batch-stop.js'
import { openRun, ownCredentialIds, stepsOf } from './open-run.js'
import type { BatchRecord, RotationJournal } from './rotation-journal.js'
import {
  type RotationOptions,
  type RotationSettings,
  resolveRotationOptions,
  rotationIdSchema,
  rotationOptionEntries,
} from './rotation-options.js'
import { type RotationPlan, rotatable } from './rotation-plan.js'
import type { RotationRun } from './rotation-run.js'
import { runSteps } from './run-steps.js'

/** Rotations at once in a batch, where the caller does not say. */
export const DEFAULT_ROTATION_CONCURRENCY = 4

/** Options of `rotateKeys`: every `RotationOptions`, plus which keys and how many at once. */
export interface RotateKeysOptions<C extends CreateKeyInput = CreateKeyInput>
  extends RotationOptions<C> {
  /** Which keys to rotate, on a batch's first run. Default: every active key. */
  filter?: (key: ApiKey) => boolean
  /** Rotate exactly these ids instead (on a batch's first run). */
  keyIds?: readonly string[]
  /**
   * Names the batch. The keys chosen on its first run are journalled under it, so running it
   * again rotates exactly those keys that are not finished (never a key the batch made).
   * Default: a new UUID.
   */
  batchId?: string
  /** The caller means to resume: a `batchId` the journal does not know is a `ValidationError`. */
  resume?: boolean
  /** Rotations at once. Requests are further paced by the store's scheduler. Default `DEFAULT_ROTATION_CONCURRENCY` (4). */
  concurrency?: number
  /** Told each key's outcome, and each pause (the grace period, verification waits). Never a secret. */
  onProgress?: (progress: RotateKeysProgress) => void
  /**
   * Shown the plan before anything is written; returning `false` ends the batch with nothing
   * done (`cancelled: true`). Not called when there is nothing to do.
   */
  confirm?: (plans: readonly RotationPlan[]) => boolean | Promise<boolean>
}

/** A batch's outcome, one entry per key. */
export interface RotateKeysResult {
  batchId: string
  /** Whether an earlier run of this batch was picked up. */
  resumed: boolean
  /** A dry run: `plans` says what would be done; nothing was written. */
  dryRun: boolean
  /** `confirm` declined: nothing was written. */
  cancelled: boolean
  /** Each key's plan, in the batch's order. */
  plans: RotationPlan[]
  /** Each key's outcome, in the batch's order (empty for a dry run or a cancelled batch). */
  outcomes: RotateKeysOutcome[]
  rotated: number
  failed: number
  skipped: number
}

const rotateKeysOptionsSchema = v.strictObject({
  ...rotationOptionEntries,
  filter: v.optional(v.function()),
  // Checked further by the store's own id rules (see `resolveRotationOptions`).
  keyIds: v.optional(v.array(v.string())),
  batchId: v.optional(rotationIdSchema),
  resume: v.optional(v.boolean()),
  concurrency: v.optional(atLeastOne),
  onProgress: v.optional(v.function()),
  confirm: v.optional(v.function()),
})

/**
 * Rotates many keys, a few at a time, carrying on past individual failures, in two phases:
 * create, deliver and verify every key; wait the grace period once; then retire every old
 * key. Every key is planned (and shown to `confirm`) before anything is written. The batch's
 * keys are journalled under its `batchId`, so running it again finishes exactly the keys
 * that are not finished, and a rerun of a finished batch sends no write at all.
 */
export function rotateKeys<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeysOptions<C>,
): Promise<RotateKeysResult> {
  return redacting(store, () => rotateBatch(store, options))
}

async function rotateBatch<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeysOptions<C>,
): Promise<RotateKeysResult> {
  const settings = resolveRotationOptions(store, options, rotateKeysOptionsSchema)
  checkBatchOptions(store, options)
  const { journal, signal } = settings
  const request = { signal }
  const concurrency = options.concurrency ?? DEFAULT_ROTATION_CONCURRENCY
  const batchId = options.batchId ?? randomUUID()
  const records = new Map(
    (options.batchId === undefined ? [] : await journal.list())
      // This batch's own: `<batchId>/<key id>` exactly. A prefix alone would take in the
      // rotations of a batch named `<batchId>/…`.
      .filter((record) => record.rotationId === `${batchId}/${record.oldKeyId}`)
      .map((record) => [record.rotationId, record] as const),
  )
  const earlier =
    options.batchId === undefined
      ? undefined
      : ((await journal.readBatch(batchId)) ?? earlierBatchFromRotations(store, batchId, records))
  checkEarlierBatch(store, journal, options, batchId, earlier)

  const open = (keyId: string) => !isFinal(records.get(`${batchId}/${keyId}`))
  // One listing for the whole batch: the keys to choose from, and each old key as it is.
  const needsReading = earlier === undefined || earlier.keyIds.some(open)
  const listed = needsReading ? await store.list({ ...request, includeDisabled: true }) : []
  if (earlier !== undefined) checkSameKeys(store, journal, earlier, listed)
  const keyIds = earlier?.keyIds ?? select(listed, options)
  const ownIds = needsReading ? await ownCredentialIds(store, settings, request, listed) : []
  const entries = await planBatch(store, settings, {
    batchId,
    keyIds,
    records,
    listed: new Map(listed.map((key) => [key.id, key])),
    ownIds,
    concurrency,
  })
  const plans = entries.map((entry) => entry.shown)
  const base = { batchId, resumed: earlier !== undefined, plans }
  const pending = entries.filter((entry) => entry.outcome === undefined)
  if (settings.dryRun) return summarize({ ...base, dryRun: true, cancelled: false }, [])
  if (pending.length > 0 && options.confirm !== undefined && !(await options.confirm(plans))) {
    return summarize({ ...base, dryRun: false, cancelled: true }, [])
  }
  const batch: BatchRecord = earlier ?? {
    batchId,
    provider: store.provider,
    keyIds: [...keyIds],
    graceEndsAt: null,
    startedAt: new Date().toISOString(),
    keyCreatedAt: creationTimes(keyIds, listed),
    kind: settings.replaceDisabled ? 'revoke' : 'rotate',
  }
  if (earlier === undefined) await journal.writeBatch(batch)

  const outcomes = new Map<string, RotateKeysOutcome>()
  const report = (outcome: RotateKeysOutcome) => {
    outcomes.set(outcome.keyId, outcome)
    options.onProgress?.({
      kind: 'key',
      batchId,
      done: outcomes.size,
      total: keyIds.length,
      outcome,
    })
  }
  for (const entry of entries) if (entry.outcome !== undefined) report(entry.outcome)
  const stop = new BatchStop(signal)
  const keySettings = {
    ...withWaitsReported(settings, batchId, options.onProgress),
    signal: stop.signal,
  }
  const steps = stepsOf(settings.strategy)
  const phaseOne = steps.filter((step) => step.phase === 'replace')
  const phaseTwo = steps.filter((step) => step.phase === 'retire')

  // Phase 1: create, deliver and verify every key.
  const ready: RotationRun<C>[] = []
  await eachLimited(pending, concurrency, async (entry) => {
    if (stop.stopped) return
    try {
      const run = await openRun(store, keySettings, runSource(entry, ownIds))
      await runSteps(run, phaseOne)
      ready.push(run)
    } catch (error) {
      if (!stop.halts(error)) report(failedOutcome(store, entry.keyId, error))
    }
  })
  stop.rethrow()

  // The grace period, once for the whole batch, after the last new secret was delivered.
  if (ready.some((run) => !run.reached('done')) && settings.graceMs > 0) {
    await waitGrace(journal, batch, ready, keySettings, options.onProgress)
  }

  // Phase 2: retire every old key.
  ready.sort((a, b) => keyIds.indexOf(a.oldKeyId) - keyIds.indexOf(b.oldKeyId))
  await eachLimited(ready, concurrency, async (run) => {
    if (stop.stopped) return
    try {
      await runSteps(run, phaseTwo)
      report({ keyId: run.oldKeyId, status: 'rotated', result: run.result() })
    } catch (error) {
      if (!stop.halts(error)) report(failedOutcome(store, run.oldKeyId, error))
    }
  })
  stop.rethrow()
  const ordered = keyIds.flatMap((keyId) => {
    const outcome = outcomes.get(keyId)
    return outcome === undefined ? [] : [outcome]
  })
  return summarize({ ...base, dryRun: false, cancelled: false }, ordered)
}

function runSource<C extends CreateKeyInput>(
  entry: BatchEntry<C>,
  ownIds: readonly string[] | undefined,
) {
  return {
    keyId: entry.keyId,
    rotationId: entry.rotationId,
    record: entry.record,
    oldKey: entry.oldKey,
    ownIds,
    ...(entry.plan === undefined ? {} : { plan: entry.plan }),
  }
}

/** The keys a batch's first run chooses: the given ids, or every active key the filter takes. */
function select<C extends CreateKeyInput>(
  listed: readonly ApiKey[],
  options: RotateKeysOptions<C>,
): string[] {
  if (options.keyIds !== undefined) return [...new Set(options.keyIds)]
  return (
    listed
      // An expired key is chosen too: its plan rotates it only with a new expiry, else says why not.
      .filter((key) => rotatable(key) && (options.filter?.(key) ?? true))
      .map((key) => key.id)
  )
}

/** Each key's pauses go to `onProgress` as well as to `onWait`. */
function withWaitsReported<C extends CreateKeyInput>(
  settings: RotationSettings<C>,
  batchId: string,
  onProgress: RotateKeysOptions<C>['onProgress'],
): RotationSettings<C> {
  if (onProgress === undefined) return settings
  return {
    ...settings,
    onWait: (wait) => {
      settings.onWait?.(wait)
      onProgress({ kind: 'waiting', batchId, keyId: wait.keyId, reason: wait.reason, ms: wait.ms })
    },
  }
}

/**
 * Waits the batch's grace period. Its end is journalled, so a rerun waits only what is left,
 * unless this run delivered a new secret: then the grace starts again from now.
 */
async function waitGrace<C extends CreateKeyInput>(
  journal: RotationJournal,
  batch: BatchRecord,
  ready: readonly RotationRun<C>[],
  settings: RotationSettings<C>,
  onProgress: RotateKeysOptions<C>['onProgress'],
): Promise<void> {
  const deliveredNow = ready.some((run) => run.timings.deliver !== undefined)
  const fresh = batch.graceEndsAt === null || deliveredNow
  let endsAt = Date.parse(batch.graceEndsAt as string)
  if (fresh) {
    endsAt = Date.now() + settings.graceMs
    await journal.writeBatch({ ...batch, graceEndsAt: new Date(endsAt).toISOString() })
  }
  // A grace begun by this run is told in full, however long the journal took to write it.
  const ms = fresh ? settings.graceMs : endsAt - Date.now()
  if (ms > 0) {
    onProgress?.({ kind: 'waiting', batchId: batch.batchId, keyId: null, reason: 'grace', ms })
    await sleep(Math.max(0, endsAt - Date.now()), settings.signal)
  }
}

function summarize(
  base: Omit<RotateKeysResult, 'outcomes' | 'rotated' | 'failed' | 'skipped'>,
  outcomes: RotateKeysOutcome[],
): RotateKeysResult {
  const count = (status: RotateKeysOutcome['status']) =>
    outcomes.filter((outcome) => outcome.status === status).length
  return {
    ...base,
    outcomes,
    rotated: count('rotated'),
    failed: count('failed'),
    skipped: count('skipped'),
  }
}
