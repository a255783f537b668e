import { randomUUID } from 'node:crypto'
import { ValidationError } from '../errors.js'
import { rotationSettings } from '../fleet/fleet-plan.js'
import { storeBatchId } from '../fleet/fleet-rotate.js'
import type { Fleet, FleetStore } from '../fleet/fleet-types.js'
import type { RotateKeysOutcome, RotateKeysProgress } from '../rotation/batch-outcome.js'
import { type RotateKeysResult, rotateKeys } from '../rotation/rotate-keys.js'
import type { RotationJournal } from '../rotation/rotation-journal.js'
import type { RetireMode } from '../rotation/rotation-options.js'
import type { RotationPlan } from '../rotation/rotation-plan.js'
import type { DeliveryTarget } from '../targets/delivery-target.js'
import type { ApiKey, CreatedKey } from '../types.js'
import {
  type FindLeakedKeysOptions,
  findLeakedKeys,
  type LeakMatch,
  type LeakSearch,
} from './find-leaked-keys.js'
import type { Leak } from './leak-input.js'

/** Options of `revokeLeakedKey`. */
export interface RevokeLeakedKeyOptions extends FindLeakedKeysOptions {
  /** Where the successor's rotation is journalled, so an interrupted revoke resumes. */
  journal?: RotationJournal
  /** The successor's delivery targets (as `Fleet.rotate` takes them). Required unless `deliver`. */
  targets?: (
    key: { keyId: string; key: ApiKey | null },
    store: FleetStore,
  ) => readonly DeliveryTarget[]
  /** Stores the successor's secret. Required unless `targets`. */
  deliver?: (created: CreatedKey, store: FleetStore) => void | Promise<void>
  /**
   * Delete the old key at once, without the store's grace period (`rotation.graceMs`). It
   * is disabled at once either way, where the vendor can disable keys.
   */
  now?: boolean
  /** Names the successor's batch (journalled as `${batchId}:${label}`). Default: a new UUID. */
  batchId?: string
  /**
   * Shown the one match and the successor's plan before anything is written; returning
   * `false` ends the revoke with nothing changed.
   */
  confirm?: (match: LeakMatch, plan: RevokePlan) => boolean | Promise<boolean>
  /** Told each step as it is done, in plain words. Never a secret. */
  onStep?: (step: RevokeStep) => void
  /** Told the successor's outcome and the grace period, as `Fleet.rotate` tells them. */
  onProgress?: (progress: RotateKeysProgress & { label: string }) => void
  /** Search and plan only: nothing is written. */
  dryRun?: boolean
}

/** What a revoke does with the one match, decided before any write. */
export interface RevokePlan {
  /** `'disable'` at once; `'already'` disabled; `'cannot'`: the vendor has no disable; `'own-credential'`: the store authenticates with it, so it is disabled only by the rotation. */
  disable: 'disable' | 'already' | 'cannot' | 'own-credential'
  /** The successor's rotation plan (`action: 'skip'` with the reason where none can be made). */
  successor: RotationPlan | null
  /** What happens to the old key once the successor is delivered. */
  retire: RetireMode
  /** The wait before the old key is retired, in ms. */
  graceMs: number
  /** What the vendor cannot do, in words: where all it can be is told. */
  cannot: string[]
}

/** One step of a revoke, done. */
export type RevokeStep =
  | { kind: 'disabled'; label: string; keyId: string }
  | { kind: 'rotating'; label: string; keyId: string; batchId: string }

/** What `revokeLeakedKey` did. */
export interface RevokeResult {
  /**
   * `'revoked'`: the one match was acted on; otherwise nothing was changed. `'unsure'`: one
   * candidate, but a store could not be read, or a whole secret was not found by the id it
   * gives and only the part the vendor shows matched (another key may show the same).
   * `'cannot'`: the one match can be neither disabled nor replaced here (`plan` says why):
   * the leaked secret still works.
   */
  outcome: 'revoked' | 'none' | 'several' | 'unsure' | 'cannot' | 'dry-run' | 'cancelled'
  search: LeakSearch
  /** The one match, when there is one. */
  match?: LeakMatch
  plan?: RevokePlan
  /** Whether the old key was disabled by this call before its rotation. */
  disabled: boolean
  /** The successor's batch (its one outcome), where one was attempted. */
  rotation?: RotateKeysResult
  /** The old key's outcome in that batch. */
  successor?: RotateKeysOutcome
}

/**
 * Revokes a leaked key: finds it with `findLeakedKeys`, and only when exactly one key of the
 * fleet matches (and no store that could hold it failed to answer, unless it was found by
 * its exact id), disables it at once where the vendor can, rotates it with delivery (its
 * successor is made, delivered to its targets and verified), then retires the old key
 * after the store's grace period (or at once with `now`): deleted where the vendor can
 * delete, else disabled, else kept and said so in `plan.cannot`. Several matches or none
 * change nothing: the result lists the candidates. Every write goes through the stores, so
 * a store wrapped in `recordedStore` records each change.
 */
export async function revokeLeakedKey(
  fleet: Pick<Fleet, 'stores'>,
  leak: Leak,
  options: RevokeLeakedKeyOptions,
): Promise<RevokeResult> {
  if (options.deliver === undefined && options.targets === undefined && !options.dryRun)
    throw new ValidationError({
      provider: 'keyway',
      operation: 'revokeLeakedKey',
      message: 'revokeLeakedKey: invalid option (deliver: required, or targets)',
      issues: [{ path: 'deliver', message: 'required (or targets): stores the new secret' }],
    })
  const search = await findLeakedKeys(fleet, leak, options)
  const base = { search, disabled: false }
  if (search.matches.length === 0) return { ...base, outcome: 'none' }
  if (search.matches.length > 1) return { ...base, outcome: 'several' }
  const match = search.matches[0] as LeakMatch
  // An unread store may hold the key too, unless the secret named it exactly.
  if (search.errors.length > 0 && match.by !== 'key-id')
    return { ...base, outcome: 'unsure', match }
  // A whole secret the id it gives did not find: a key that merely shows the same few
  // characters is no proof.
  if (search.form === 'secret' && match.by === 'hint' && match.note !== undefined)
    return { ...base, outcome: 'unsure', match }
  const fleetStore = fleet.stores.find((candidate) => candidate.label === match.label) as FleetStore
  const { store } = fleetStore
  const signal = options.signal
  const batchId = options.batchId ?? randomUUID()
  const capabilities = store.capabilities
  const cannot: string[] = []
  const { retire, graceMs } = retireOf(fleetStore, options.now)
  const rotation = (dryRun: boolean) =>
    revokeRotation(fleetStore, match.key.id, batchId, options, dryRun)
  const own = (await store.credentialKeyIds?.({ signal }))?.includes(match.key.id) ?? false
  const disable: RevokePlan['disable'] = !capabilities.disable
    ? 'cannot'
    : match.key.status === 'disabled'
      ? 'already'
      : own
        ? 'own-credential'
        : 'disable'
  if (!capabilities.disable)
    cannot.push(`${store.provider} cannot disable keys: the old key works until it is deleted`)
  if (capabilities.deleted === false)
    cannot.push(
      `${store.provider} cannot delete keys through its API${capabilities.disable ? ': the old key stays disabled' : ''}`,
    )
  if (!capabilities.disable && capabilities.deleted === false)
    cannot.push(`${store.provider} can only be told: revoke the key in the vendor’s console`)
  const preview = await rotation(true)
  const successor = preview.plans[0] ?? null
  const plan: RevokePlan = { disable, successor, retire, graceMs, cannot }
  // Neither disabled now nor replaced: calling it revoked would hide a secret that still works.
  if (
    (disable === 'cannot' || disable === 'own-credential') &&
    (successor === null || successor.action === 'skip')
  )
    return { ...base, outcome: 'cannot', match, plan }
  if (options.dryRun === true) return { ...base, outcome: 'dry-run', match, plan }
  if (options.confirm !== undefined && !(await options.confirm(match, plan)))
    return { ...base, outcome: 'cancelled', match, plan }
  let disabled = false
  if (disable === 'disable') {
    await store.update(match.key.id, { status: 'disabled' }, signal === undefined ? {} : { signal })
    disabled = true
    options.onStep?.({ kind: 'disabled', label: match.label, keyId: match.key.id })
  }
  if (successor === null || successor.action === 'skip')
    return { ...base, outcome: 'revoked', match, plan, disabled }
  options.onStep?.({ kind: 'rotating', label: match.label, keyId: match.key.id, batchId })
  const result = await rotation(false)
  return {
    ...base,
    outcome: 'revoked',
    match,
    plan,
    disabled,
    rotation: result,
    ...(result.outcomes[0] === undefined ? {} : { successor: result.outcomes[0] }),
  }
}

/** How a revoke retires the old key: deleted where the vendor can, else disabled, else kept. */
function retireOf(fleetStore: FleetStore, now: boolean | undefined) {
  const { capabilities } = fleetStore.store
  const retire: RetireMode =
    capabilities.deleted !== false ? 'delete' : capabilities.disable ? 'disable' : 'keep'
  const graceMs = now === true ? 0 : (fleetStore.rotation?.graceMs ?? 0)
  return { retire, graceMs }
}

/**
 * The successor's rotation of a revoke: the one (leaked, perhaps disabled already) key of its
 * store, replaced although disabled, retired by what the vendor can. A resume (`keyId`
 * `undefined`) goes on with the key the journal holds for the batch.
 */
function revokeRotation(
  fleetStore: FleetStore,
  keyId: string | undefined,
  batchId: string,
  options: Pick<
    RevokeLeakedKeyOptions,
    'journal' | 'deliver' | 'targets' | 'signal' | 'onProgress' | 'now'
  >,
  dryRun: boolean,
): Promise<RotateKeysResult> {
  const { signal } = options
  const { label } = fleetStore
  return rotateKeys(fleetStore.store, {
    ...rotationSettings(fleetStore),
    ...retireOf(fleetStore, options.now),
    ...(keyId === undefined ? {} : { keyIds: [keyId] }),
    replaceDisabled: true,
    batchId: storeBatchId(batchId, label),
    ...(options.journal === undefined ? {} : { journal: options.journal }),
    ...(options.deliver === undefined
      ? {}
      : { deliver: (created: CreatedKey) => options.deliver?.(created, fleetStore) }),
    ...(options.targets === undefined
      ? {}
      : {
          targets: (key: { keyId: string; key: ApiKey | null }) =>
            options.targets?.(key, fleetStore) ?? [],
        }),
    ...(signal === undefined ? {} : { signal }),
    ...(options.onProgress === undefined || dryRun
      ? {}
      : { onProgress: (progress) => options.onProgress?.({ ...progress, label }) }),
    dryRun,
  })
}

/** Options of `resumeRevoke`. */
export interface ResumeRevokeOptions
  extends Pick<RevokeLeakedKeyOptions, 'deliver' | 'targets' | 'now' | 'signal' | 'onProgress'> {
  /** The journal the revoke wrote. */
  journal: RotationJournal
  /** The revoke's batch (as `revokeLeakedKey` was given it, or told it in `RevokeStep`). */
  batchId: string
  /** Plan only: nothing is written. */
  dryRun?: boolean
}

/** What `resumeRevoke` did. */
export interface ResumeRevokeResult {
  /** The store whose key the revoke replaces. */
  label: string
  rotation: RotateKeysResult
  /** The leaked key's outcome, once the batch ran (none in a dry run). */
  successor?: RotateKeysOutcome
}

/**
 * Finishes a revoke that was interrupted while its successor was being made, delivered or
 * the old key retired: exactly the key the journal holds for the batch, with the revoke's
 * settings (the leaked key is replaced although it is disabled; it is retired as the revoke
 * would). Needs no leak: the journal names the key. A batch the journal does not hold is a
 * `ValidationError`, before any request.
 */
export async function resumeRevoke(
  fleet: Pick<Fleet, 'stores'>,
  options: ResumeRevokeOptions,
): Promise<ResumeRevokeResult> {
  const held: FleetStore[] = []
  for (const fleetStore of fleet.stores)
    if (
      (await options.journal.readBatch(storeBatchId(options.batchId, fleetStore.label))) !==
      undefined
    )
      held.push(fleetStore)
  const fleetStore = held[0]
  if (fleetStore === undefined || held.length > 1)
    throw new ValidationError({
      provider: 'keyway',
      operation: 'resumeRevoke',
      message: `resumeRevoke: invalid option (batchId: ${held.length === 0 ? 'the journal holds no revoke of that batch for any store' : 'the batch is one of several stores, not a revoke'})`,
      issues: [{ path: 'batchId', message: 'not a revoke the journal holds' }],
    })
  const rotation = await revokeRotation(
    fleetStore,
    undefined,
    options.batchId,
    options,
    options.dryRun === true,
  )
  const successor = rotation.outcomes[0]
  return { label: fleetStore.label, rotation, ...(successor === undefined ? {} : { successor }) }
}
