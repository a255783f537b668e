import { NotFoundError, RotationError, ValidationError } from '../errors.js'
import { inRotationScope } from '../history/rotation-scope.js'
import { noKeyWithId, storeRules } from '../store-rules.js'
import type { ApiKey, CreateKeyInput, KeyStore, RequestOptions } from '../types.js'
import { CREATE_STEPS } from './create-steps.js'
import { createdAtOf, madeAtAnotherTime } from './key-identity.js'
import { REGENERATE_STEPS } from './regenerate-steps.js'
import type { RotationRecord } from './rotation-journal.js'
import type { RotationSettings } from './rotation-options.js'
import { type KeyPlan, planKey, type RotationPlan } from './rotation-plan.js'
import { resumeRun } from './rotation-resume.js'
import { RotationRun } from './rotation-run.js'
import { isPastCreate } from './rotation-states.js'
import type { RotationStepDefinition } from './run-steps.js'

/** What `openRun` needs beside the store and settings; a batch passes what it already read. */
export interface RunSource<C extends CreateKeyInput> {
  keyId: string
  rotationId: string
  record: RotationRecord | undefined
  /** The old key, from a listing the caller already has (`null`: it is gone). */
  oldKey?: ApiKey | null
  /** `credentialKeyIds()` as the caller already read it (`undefined`: the store cannot tell). */
  ownIds?: readonly string[] | undefined
  /** The plan the caller already made for this key. */
  plan?: KeyPlan<C>
}

/** The steps of a strategy, in order. */
export function stepsOf(strategy: RotationSettings['strategy']): readonly RotationStepDefinition[] {
  return strategy === 'regenerate' ? REGENERATE_STEPS : CREATE_STEPS
}

/**
 * Readies one rotation: reads the old key and the store's own credential ids (unless given),
 * plans the successor, refuses a key that must be skipped before anything is written, and
 * either journals a fresh start or settles what an earlier call left.
 */
export async function openRun<C extends CreateKeyInput>(
  store: KeyStore<C>,
  settings: RotationSettings<C>,
  source: RunSource<C>,
): Promise<RotationRun<C>> {
  const request = { signal: settings.signal }
  const { keyId, rotationId, record } = source
  checkRecord(store, settings, source)
  const creates = record === undefined || !isPastCreate(record.state)
  const { oldKey, ownIds } = await readOldKeyAndOwnIds(store, settings, source)
  if (record !== undefined && madeAtAnotherTime(record.oldKeyCreatedAt, oldKey)) {
    throw anotherKey(store, rotationId, keyId, record.oldKeyCreatedAt as string, oldKey)
  }
  const plan =
    source.plan ??
    (await planKey(store, { keyId, oldKey, ownIds, withSuccessor: creates }, settings, request))
  if (plan.action === 'skip') throw skipped(store, keyId, plan, record)
  const targets = settings.targetsFor(keyId, oldKey)
  const run = new RotationRun({
    targets,
    store,
    settings,
    rotationId,
    oldKeyId: keyId,
    oldKey,
    plan,
    record: record ?? freshRecord(store, settings, keyId, rotationId, oldKey),
    resumed: record !== undefined,
  })
  if (record === undefined) {
    await run.advance('started', { warnings: [...plan.warnings] })
  } else {
    // A create may follow: the plan's warnings as it stands now, and what earlier runs noted.
    if (creates) {
      const warnings = [...new Set([...plan.warnings, ...run.record.warnings])]
      run.record = { ...run.record, warnings }
    }
    await inRotationScope({ rotationId: run.rotationId, step: 'resume' }, () => resumeRun(run))
  }
  return run
}

/** Whether a rotation with these settings must know the store's own credential. */
function needsOwnIds(settings: RotationSettings): boolean {
  // Keeping the old key cannot lock the store out: no need to ask (a dry run still shows it).
  return !(settings.strategy === 'create' && settings.retire === 'keep' && !settings.dryRun)
}

/**
 * The ids that may be the store's own credential, where it matters; `undefined` where the
 * store cannot tell. `listed` is a listing the caller already has, so the store need not
 * list again.
 */
export async function ownCredentialIds<C extends CreateKeyInput>(
  store: KeyStore<C>,
  settings: RotationSettings<C>,
  request: RequestOptions,
  listed?: readonly ApiKey[],
): Promise<readonly string[] | undefined> {
  if (!needsOwnIds(settings)) return []
  if (store.credentialKeyIds === undefined) return undefined
  return store.credentialKeyIds(listed === undefined ? request : { ...request, among: listed })
}

/**
 * The old key (`null`: already retired by an interrupted run) and the store's own credential
 * ids, each unless the caller gave it. Where `get` is a scan of the listing anyway, one
 * listing serves both.
 *
 * The rule for this shortcut, and for any other that saves a request: it may not skip a
 * check or the redaction. It checks the id by the store's own rules before listing and
 * builds its "no key" error as the store's scan `get` does, through the store's redaction,
 * so that the shortcut and `store.get` refuse the same ids with the same errors (a test
 * runs both paths against every vendor's emulator and compares them).
 */
export async function readOldKeyAndOwnIds<C extends CreateKeyInput>(
  store: KeyStore<C>,
  settings: RotationSettings<C>,
  source: Pick<RunSource<C>, 'keyId' | 'record' | 'oldKey' | 'ownIds'>,
): Promise<{ oldKey: ApiKey | null; ownIds: readonly string[] | undefined }> {
  const request = { signal: settings.signal }
  const givenIds = 'ownIds' in source
  const oneListing =
    source.oldKey === undefined &&
    !givenIds &&
    store.capabilities.get === 'scan' &&
    store.credentialKeyIds !== undefined &&
    needsOwnIds(settings)
  if (oneListing) {
    const rules = storeRules(store)
    rules.checkId(source.keyId, 'get')
    const listed = await store.list({ ...request, includeDisabled: true })
    const oldKey = listed.find((key) => key.id === source.keyId)
    if (oldKey === undefined && !retiring(source.record)) {
      throw rules.redact(noKeyWithId(store.provider, source.keyId))
    }
    return {
      oldKey: oldKey ?? null,
      ownIds: await ownCredentialIds(store, settings, request, listed),
    }
  }
  const oldKey =
    source.oldKey !== undefined
      ? source.oldKey
      : await readOldKey(store, source.keyId, source.record, request)
  const ownIds = givenIds ? source.ownIds : await ownCredentialIds(store, settings, request)
  return { oldKey, ownIds }
}

/** A rotation interrupted while retiring may already have deleted the old key. */
function retiring(record: RotationRecord | undefined): boolean {
  return record !== undefined && record.state !== 'done' && isPastCreate(record.state)
}

async function readOldKey<C extends CreateKeyInput>(
  store: KeyStore<C>,
  keyId: string,
  record: RotationRecord | undefined,
  request: RequestOptions,
): Promise<ApiKey | null> {
  try {
    return await store.get(keyId, request)
  } catch (error) {
    if (error instanceof NotFoundError && retiring(record)) return null
    throw error
  }
}

function checkRecord<C extends CreateKeyInput>(
  store: KeyStore<C>,
  settings: RotationSettings<C>,
  source: RunSource<C>,
): void {
  const { record, rotationId, keyId } = source
  if (record === undefined) return
  const problem =
    record.oldKeyId !== keyId || record.provider !== store.provider
      ? 'already used for another key'
      : record.strategy !== settings.strategy
        ? `began with strategy '${record.strategy}'`
        : undefined
  if (problem === undefined) return
  throw new ValidationError({
    provider: store.provider,
    operation: 'rotate',
    message: `${store.provider} rotate: rotation ${rotationId} ${problem}`,
    issues: [{ path: 'rotationId', message: problem }],
  })
}

function freshRecord<C extends CreateKeyInput>(
  store: KeyStore<C>,
  settings: RotationSettings<C>,
  keyId: string,
  rotationId: string,
  oldKey: ApiKey | null,
): RotationRecord {
  return {
    rotationId,
    provider: store.provider,
    oldKeyId: keyId,
    strategy: settings.strategy,
    state: 'started',
    marker: null,
    abandonedMarkers: [],
    newKeyName: null,
    newKeyId: null,
    oldKeyCreatedAt: createdAtOf(oldKey),
    newKeyCreatedAt: null,
    retired: null,
    warnings: [],
    graceEndsAt: null,
    reason: null,
    history: [],
  }
}

/** A key that must not be rotated: refused before anything is written, with the reason. */
function skipped<C extends CreateKeyInput>(
  store: KeyStore<C>,
  keyId: string,
  plan: RotationPlan,
  record: RotationRecord | undefined,
): RotationError {
  const midway =
    record !== undefined && record.state !== 'rolled-back' && record.state !== 'started'
  return new RotationError({
    provider: store.provider,
    operation: 'rotate',
    step: midway ? 'switch' : 'create',
    rolledBack: false,
    message: midway
      ? `${store.provider} rotate ${keyId}: stopped before retiring the old key: ${plan.reason}`
      : `${store.provider} rotate ${keyId}: skipped, nothing was created or changed: ${plan.reason}`,
  })
}

/** The key under a journalled id is not the one the rotation began with: refused, nothing touched. */
function anotherKey<C extends CreateKeyInput>(
  store: KeyStore<C>,
  rotationId: string,
  keyId: string,
  journalled: string,
  oldKey: ApiKey | null,
): ValidationError {
  const problem = `began with another key of id ${keyId} (made ${journalled}; the key listed now was made ${createdAtOf(oldKey)}): is the journal another account's? Nothing was touched`
  return new ValidationError({
    provider: store.provider,
    operation: 'rotate',
    message: `${store.provider} rotate: rotation ${rotationId} ${problem}`,
    issues: [{ path: 'rotationId', message: problem }],
  })
}
