import {
  DBOS,
  Error as DBOSErrors,
  DBOSWorkflowConflictError,
  type WorkflowHandle,
} from '@dbos-inc/dbos-sdk'
import {
  type AuditPolicy,
  type CreatedKey,
  createFleet,
  type Fleet,
  type HistoryEntry,
  type DeliveryTarget as KeyDeliveryTarget,
  type KeySelector,
  type KeyStore,
  RotationError,
  type RotationOptions,
  type RotationSchedule,
  type RotationState,
  type RotationStrategy,
  rotateKeys,
  rotationHistory,
  type StoreFingerprint,
  type TargetDelivery,
  type TargetPhase,
  type TargetsFor,
  type TimedStep,
  ValidationError,
} from '@keyway/core'
import {
  checkAuditPolicy,
  checkSealingKey,
  matchesSelector,
  openRotation,
  rotationStore,
  type SteppedRotation,
  scheduleList,
} from '@keyway/core/adapter'
import pg from 'pg'
import {
  checkEnqueue,
  checkLabel,
  checkTargetNames,
  checkTargets,
  invalid,
} from './input-checks.js'
import { claimKey, releaseKey } from './key-claims.js'
import { ensureKeywayTables, readDigestKey } from './keyway-tables.js'
import { readPostgresHistory, workerHistory } from './postgres-history.js'
import { postgresJournal, RotationMovedOnError } from './postgres-journal.js'
import { dueBatch, dueSince, isDue, type RotationPolicy } from './rotation-policy.js'
import { forgetSealedSecrets, type SealingKey, withSealedSecrets } from './sealed-secret-store.js'
import { resumable, STEP_RETRIES } from './step-retries.js'
import { checkDistinctAccounts, StoreAccounts } from './store-accounts.js'
import {
  handOverWorker,
  type Recover,
  resolveTakeover,
  type TakeoverOptions,
  WorkerTakeover,
} from './worker-takeover.js'
import {
  attemptOf,
  ROTATION_WORKFLOW_PREFIX,
  rotationQueueName,
  rotationWorkflowId,
  storeLabelOf,
} from './workflow-id.js'

/** How fast a store's rotations may start, across every worker (a DBOS queue's limits). */
export interface RotationQueueLimits {
  /** At most `limitPerPeriod` rotations start in any `periodSec` seconds, fleet-wide. */
  rateLimit?: { limitPerPeriod: number; periodSec: number }
  /** Rotations of this store running at once, fleet-wide. */
  concurrency?: number
  /** Rotations of this store running at once on one worker. */
  workerConcurrency?: number
}

/** One store the workers rotate keys of, under a label every worker gives it alike. */
export interface RotationStoreEntry {
  store: KeyStore
  /**
   * Which of the store's keys policies with `audit` manage, as in a fleet (a key outside it
   * is never due). Default: every key.
   */
  select?: KeySelector
  /** Limits of the store's queue. Default: none (the store's own scheduler still paces requests). */
  limits?: RotationQueueLimits
  /**
   * When its keys are rotated by a policy with `fromSchedules`: the same field as a store of
   * keyway.config.json (one schedule, or a list where the first that covers a key wins; see
   * core's `RotationSchedule`), so the CLI and the workers keep one schedule. A successor is
   * given the schedule's `lifetime`.
   */
  schedule?: RotationSchedule | readonly RotationSchedule[]
  /**
   * Where its keys' new secrets go (core's `DeliveryTarget`s: GitHub Actions secrets, Vercel
   * variables, …), for every key, or from a function of the key for each. Each target's
   * write, propagate and confirm is a checkpointed DBOS step of its own, and the old key is
   * retired only after every target of the key confirmed. Every worker gives the same
   * targets under the same names. A `deliver` given beside them is one more target.
   */
  targets?: readonly KeyDeliveryTarget[] | TargetsFor
}

/** Which store and which old key a new secret replaces, for `deliver`. Never a secret. */
export interface DeliveryContext {
  label: string
  /** The id of the key being replaced. */
  oldKeyId: string
  rotationId: string
}

/** @deprecated Renamed `DeliveryContext` (core's `DeliveryTarget` is a place a secret goes). */
export type DeliveryTarget = DeliveryContext

/** Options of one rotation's `enqueue`. */
export interface EnqueueOptions {
  /**
   * Delivers to these of the store's targets only, by name (default: every target the store
   * gives the key). Recorded with the workflow, so a worker that resumes it delivers to the
   * same ones.
   */
  targets?: readonly string[]
}

/**
 * The rotation settings a durable rotation takes from core's `RotationOptions`. `allowSelf`
 * is refused: the switch to a new credential happens in the store of the one worker that
 * runs it, so every other worker would keep the credential the rotation then retires. A
 * store's own credential is always skipped (rotate it with core's `rotateKey` where the
 * process that holds it runs).
 */
export type DurableRotationOptions = Pick<
  RotationOptions,
  | 'verify'
  | 'verifyAttempts'
  | 'verifyIntervalMs'
  | 'retire'
  | 'graceMs'
  | 'strategy'
  | 'onStep'
  | 'onWait'
> & {
  /** Only `false`: a fleet never rotates its stores' own credentials (see above). */
  allowSelf?: false
}

/** Options of `defineKeywayRotations`; every worker of one fleet passes the same. */
export interface KeywayRotationsOptions {
  /**
   * The stores, by label. The label is part of each workflow id and names the store's queue;
   * it is not empty and holds no "/" (a policy names a due key `label/keyId`).
   */
  stores: Readonly<Record<string, RotationStoreEntry>>
  /** Postgres for keyway's journal and sealed secrets; DBOS's system database will do. */
  databaseUrl: string
  /** Seals each new secret until its rotation ends (see `SealingKey`). */
  sealingKey: SealingKey
  /**
   * Stores the new secret where its users find it. Called once per new key; it may be called
   * again for the same key only if a worker died after it returned and before the rotation
   * recorded that, so it must be idempotent (overwrite the same variable). Required unless
   * every store has `targets`; beside a store's targets it is one more (named `'deliver'`).
   */
  deliver?: (created: CreatedKey, context: DeliveryContext) => void | Promise<void>
  /** How each key is rotated. Defaults as in core's `rotateKey`. */
  rotation?: DurableRotationOptions
  /** Policies that run on a schedule (DBOS scheduled workflows). */
  policies?: readonly RotationPolicy[]
  /**
   * How live workers take over the unfinished rotations of one that is gone (see
   * `TakeoverOptions`), or `false` to leave that to `recoverExecutor`. Default: on, a
   * heartbeat every 5 s, a worker silent for 60 s is gone.
   */
  takeover?: TakeoverOptions | false
}

/** What a durable rotation did. Plain data: never a secret. */
export interface DurableRotationSummary {
  rotationId: string
  label: string
  oldKeyId: string
  newKeyId: string
  retired: 'deleted' | 'disabled' | 'kept' | 'replaced'
  verified: boolean
  resumed: boolean
  warnings: string[]
  /** Where each delivery target stands (every one confirmed); `[]` without targets. */
  deliveries: TargetDelivery[]
}

/**
 * What one checkpointed step of one delivery target did, as DBOS records it. Plain data:
 * never a secret.
 */
export interface TargetCheckpoint {
  /** The target's name. */
  target: string
  /** The step: write, propagate or confirm. */
  ran: TargetPhase
  /** Whether this step opened the rotation from what an earlier run journalled. */
  reopened: boolean
  /** Where the target stands after it. */
  delivery: TargetDelivery
  /** Why this step failed (scrubbed), or `null`: the rotation stops after the other targets. */
  failure: string | null
}

/**
 * What one checkpointed step of a rotation workflow did, as DBOS records it (the step's
 * output). Plain data: never a secret.
 */
export interface RotationCheckpoint {
  /**
   * The rotation step this checkpoint ran; `'open'` for the first, which reads the old key
   * and journals the start (or settles what an earlier run left); `'resume'` when the worker
   * opened the rotation from the journal and found that step already done, or the rotation
   * starting over (a lost create), so it ran nothing more.
   */
  ran: 'open' | 'resume' | TimedStep
  /** Whether this checkpoint opened the rotation from what an earlier run journalled. */
  reopened: boolean
  /** Where the rotation stands after it, as journalled. */
  state: RotationState
  /** The step the next checkpoint runs; `null` when the rotation is done. */
  next: TimedStep | null
  /**
   * With `next` at `'deliver'`: the key's delivery targets by name, whose steps run as
   * checkpoints of their own before it (see `TargetCheckpoint`); else `[]`.
   */
  targets: string[]
  /** The outcome, on the last checkpoint. */
  summary: DurableRotationSummary | null
}

/** What one firing of a policy did. */
export interface PolicyRunSummary {
  policy: string
  /** Keys that were due, as `label/keyId`. */
  due: string[]
  /**
   * Rotation workflows this firing started: due keys this policy never ran at, or whose
   * latest attempt failed.
   */
  started: string[]
  /**
   * Due keys whose latest attempt under this policy failed, each with that workflow and its
   * error (`label/keyId: <workflow id> ended ERROR: <message>`): this firing tries again.
   */
  retried: string[]
  /**
   * Stores that could not be read this time, as `label: why` (an audit policy reads every
   * store; the others' due keys still start). Never a secret.
   */
  errors: string[]
}

/** The fleet's durable rotations, as one worker sees them. */
export interface KeywayRotations {
  /**
   * After `DBOS.launch()`: creates keyway's tables, registers each store's queue with its
   * limits and each policy's schedule. Every worker calls it.
   */
  start(): Promise<void>
  /**
   * Queues the rotation of one key; starting the same batch, label and key again is a no-op.
   * Throws `ValidationError`, starting nothing, for an empty batch or key id, or one so long
   * that the rotation's id (`rotationWorkflowId`) passes 200 characters.
   */
  enqueue(
    batchId: string,
    label: string,
    keyId: string,
    options?: EnqueueOptions,
  ): Promise<WorkflowHandle<DurableRotationSummary>>
  /**
   * Queues one rotation per key id (each a no-op if already started). Every id is checked
   * before the first rotation is queued.
   */
  enqueueBatch(
    batchId: string,
    label: string,
    keyIds: readonly string[],
    options?: EnqueueOptions,
  ): Promise<WorkflowHandle<DurableRotationSummary>[]>
  /**
   * Runs a rotation whose delivery failed (its workflow ended with a `RotationError` whose
   * `deliveries` say where each target stands) again from its first failed target step: DBOS
   * rewinds the workflow there, under the same id, so it goes on with the same new key
   * (sealed meanwhile), targets that confirmed are not written again, and the old key is
   * retired once every target confirmed. Throws `ValidationError` for a workflow that did not
   * stop at a target.
   */
  resumeDelivery(workflowId: string): Promise<WorkflowHandle<DurableRotationSummary>>
  /** Runs a policy now, as its schedule would, and waits for its firing (not its rotations). */
  runPolicy(name: string): Promise<PolicyRunSummary>
  /**
   * Hands every unfinished workflow of a worker that is gone for good to the live workers,
   * each back on its own queue, where it resumes from its last checkpoint. The workers do it
   * themselves once a worker is silent for `takeover.deadAfterMs`; call it to act sooner, and
   * only for a worker that is certainly dead (its process or machine gone). A worker
   * restarted with the same executor id recovers its own workflows without this. Returns the
   * workflow ids.
   */
  recoverExecutor(executorId: string): Promise<string[]>
  /**
   * Stops this worker's heartbeat and closes keyway's database pool (DBOS itself is shut down
   * with `DBOS.shutdown()`). Work this worker left unfinished is taken over by the others
   * once it has been silent for `takeover.deadAfterMs`, or resumed by this worker's restart.
   */
  close(): Promise<void>
}

/**
 * Registers keyway's rotation workflows with DBOS: call it once per process, before
 * `DBOS.launch()`, with the same options on every worker. Each key's rotation is a workflow
 * whose id is derived from its batch, store label and key id, queued on its store's queue
 * (rate limit and concurrency hold across workers). Each rotation step (create, deliver,
 * verify, switch, grace, retire) is a checkpointed DBOS step (see `RotationCheckpoint`),
 * journalled in Postgres too, and each new secret is sealed there: a rotation interrupted
 * anywhere (after delivery too) resumes on any worker at its next step, without minting or
 * delivering again.
 */
export function defineKeywayRotations(options: KeywayRotationsOptions): KeywayRotations {
  checkSealingKey(options.sealingKey)
  for (const label of Object.keys(options.stores)) checkLabel(label)
  // Typed `false`, but a caller in JavaScript (or with a cast) may pass `true`.
  if ((options.rotation?.allowSelf as boolean | undefined) === true) {
    throw invalid(
      'rotation.allowSelf',
      'is refused: a switch moves only the store of the worker that runs it, and the others would keep the credential it retires',
    )
  }
  const takeoverSettings = options.takeover === false ? false : resolveTakeover(options.takeover)
  if (takeoverSettings !== false && 'path' in takeoverSettings) {
    throw invalid(takeoverSettings.path, takeoverSettings.message)
  }
  const storeEntries = Object.entries(options.stores)
  for (const [label, entry] of storeEntries) checkTargets(label, entry.targets)
  const everyStoreHasTargets = storeEntries.every(([, entry]) => entry.targets !== undefined)
  if (
    options.deliver === undefined ? !everyStoreHasTargets : typeof options.deliver !== 'function'
  ) {
    throw invalid('deliver', 'must be a function (required unless every store has targets)')
  }
  const policyNames = new Set<string>()
  const fleets = new Map<string, Fleet>()
  for (const policy of options.policies ?? []) {
    checkPolicy(options, policy)
    if (policyNames.has(policy.name)) {
      throw invalid('policies.name', `"${policy.name}" names two policies`)
    }
    policyNames.add(policy.name)
    if (policy.audit !== undefined || policy.fromSchedules === true)
      fleets.set(policy.name, auditFleet(options, policy))
  }
  const sharingAccount = checkDistinctAccounts(options.stores)
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 })
  const registerWorkflow = registerWorkflowOnce(pool)
  // An idle connection the server closed (a restart, a failover) is dropped and replaced at
  // the next query; without a listener it would end the worker.
  pool.on('error', () => {})
  const journal = postgresJournal(pool)
  const accounts = new StoreAccounts(pool, options.stores)
  const stores = new Map<string, KeyStore>()
  const everyStore = Object.values(options.stores).map((entry) => entry.store)
  const entryOf = (label: string): RotationStoreEntry => {
    const entry = options.stores[label]
    if (entry === undefined) throw invalid('label', `no store is labelled "${label}"`)
    return entry
  }
  const storeOf = (label: string): KeyStore => {
    let store = stores.get(label)
    if (store === undefined) {
      const entry = entryOf(label)
      store = withSealedSecrets(
        // A key its store's schedule covers gets the schedule's lifetime.
        rotationStore({ store: entry.store, schedule: entry.schedule }, () => new Date()),
        pool,
        options.sealingKey,
        () => DBOS.workflowID,
        // Only to a store that reaches the account the rotation began at.
        (rotationId) => accounts.check(rotationId, label, 'reveal'),
      )
      // Every change it makes goes to keyway's history table, as this worker's.
      store = workerHistory(pool, label, store, entryOf(label).store)
      stores.set(label, store)
    }
    return store
  }

  // The rotations this process is running, by workflow id, between their checkpoints. A
  // worker that picks up another's workflow (or restarts) opens it again from the journal.
  const live = new Map<string, SteppedRotation>()

  /**
   * Whether a rotation's workflow has ended (or is unknown to DBOS): it holds no key any more.
   * One whose delivery stopped part way (some target may hold its new key) holds it until
   * `resumeDelivery` finishes it: a second rotation would leave that new key live and lost.
   */
  const workflowEnded = async (rotationId: string): Promise<boolean> => {
    const [workflow] = await DBOS.listWorkflows({ workflowIDs: [rotationId] })
    if (workflow === undefined) return true
    if (['PENDING', 'ENQUEUED', 'DELAYED'].includes(workflow.status)) return false
    const record = await journal.read(rotationId)
    return !(record?.state === 'created' && Object.keys(record.targets ?? {}).length > 0)
  }

  /** The targets of a key at `label`, narrowed to `names` where the enqueue named some. */
  const targetsOf = (
    label: string,
    names: readonly string[] | undefined,
  ): TargetsFor | undefined => {
    const given = entryOf(label).targets
    if (given === undefined) return undefined
    return (key) => {
      const all = typeof given === 'function' ? given(key) : given
      if (names === undefined) return all
      const missing = names.filter((name) => !all.some((target) => target.name === name))
      if (missing.length > 0) {
        throw new ValidationError({
          provider: storeOf(label).provider,
          operation: 'rotate',
          message: `${label} rotate ${key.keyId}: no target named ${missing.join(', ')} for this key`,
          issues: [{ path: 'targets', message: `no target named ${missing.join(', ')}` }],
        })
      }
      return all.filter((target) => names.includes(target.name))
    }
  }

  /** Opens a rotation (fresh or from the journal) with this worker's stores and targets. */
  const open = async (
    label: string,
    keyId: string,
    rotationId: string,
    names: readonly string[] | undefined,
  ): Promise<SteppedRotation> => {
    const context = { label, oldKeyId: keyId, rotationId }
    const deliver = options.deliver
    const targets = targetsOf(label, names)
    const rotation = await openRotation(storeOf(label), {
      ...options.rotation,
      keyId,
      rotationId,
      journal,
      ...(deliver === undefined ? {} : { deliver: (created) => deliver(created, context) }),
      ...(targets === undefined ? {} : { targets }),
    })
    live.set(rotationId, rotation)
    return rotation
  }

  /**
   * What a checkpoint that failed leaves: the rotation is dropped from memory, a stalled
   * worker's stops, and a rotation that ended for good forgets its sealed secrets and claim.
   */
  const settle = async (rotationId: string, error: unknown): Promise<never> => {
    live.delete(rotationId)
    // Another worker holds the rotation now (this one stalled and was taken over): this
    // execution stops, and DBOS waits for the other's outcome instead of recording one.
    if (error instanceof RotationMovedOnError) throw new DBOSWorkflowConflictError(rotationId)
    // Ended for good: no rerun of this workflow needs the secrets it sealed.
    const state = (await journal.read(rotationId))?.state
    if (error instanceof RotationError && (state === 'rolled-back' || state === 'failed')) {
      await forgetSealedSecrets(pool, rotationId)
    }
    // Nothing journalled (refused, or the key could not be read): no claim is kept for it.
    if (state === undefined || state === 'rolled-back' || state === 'failed') {
      await releaseKey(pool, rotationId)
    }
    throw error
  }

  /** The rotation this worker holds, or opened from the journal (checked against its account). */
  const reopen = async (
    label: string,
    keyId: string,
    intended: StoreFingerprint | undefined,
    names: readonly string[] | undefined,
  ): Promise<{ rotation: SteppedRotation; opened: boolean }> => {
    const rotationId = DBOS.workflowID as string
    const held = live.get(rotationId)
    if (held !== undefined) return { rotation: held, opened: false }
    await accounts.check(rotationId, label, 'resume', intended)
    return { rotation: await open(label, keyId, rotationId, names), opened: true }
  }

  /** One step of one delivery target, as a checkpoint of its own. */
  const targetCheckpoint = async (
    label: string,
    keyId: string,
    name: string,
    phase: TargetPhase,
    intended: StoreFingerprint | undefined,
    names: readonly string[] | undefined,
  ): Promise<TargetCheckpoint> => {
    const rotationId = DBOS.workflowID as string
    try {
      const { rotation, opened } = await reopen(label, keyId, intended, names)
      const { delivery, failure } = await rotation.runTargetStep(name, phase)
      return { target: name, ran: phase, reopened: opened && rotation.resumed, delivery, failure }
    } catch (error) {
      return settle(rotationId, error)
    }
  }

  /** The error a rotation whose targets `failed` ends with: where each target stands. */
  const deliveryStopped = async (
    label: string,
    keyId: string,
    failed: readonly string[],
    intended: StoreFingerprint | undefined,
    names: readonly string[] | undefined,
  ): Promise<{ provider: string; message: string; deliveries: TargetDelivery[] }> => {
    const rotationId = DBOS.workflowID as string
    try {
      const { rotation } = await reopen(label, keyId, intended, names)
      const error = rotation.deliveryFailure(failed)
      live.delete(rotationId)
      return {
        provider: error.provider,
        message: error.message,
        deliveries: [...(error.deliveries ?? [])],
      }
    } catch (error) {
      return settle(rotationId, error)
    }
  }

  /**
   * One checkpoint: opens the rotation (`'open'`) or runs the step `expected`. A worker that
   * does not hold the rotation opens it from the journal first; if the journal shows the
   * rotation elsewhere than `expected` (the step ran before the crash, or the resume settled
   * a lost create by starting over), it runs nothing more and names the step that is next.
   */
  const checkpoint = async (
    label: string,
    keyId: string,
    expected: 'open' | TimedStep,
    intended: StoreFingerprint | undefined,
    names: readonly string[] | undefined,
  ): Promise<RotationCheckpoint> => {
    const rotationId = DBOS.workflowID as string
    try {
      let rotation = expected === 'open' ? undefined : live.get(rotationId)
      const opened = rotation === undefined
      // The account this rotation was started for (by the worker that enqueued it) is the
      // one this worker's store must reach, before it claims, reads or resumes anything.
      if (opened)
        await accounts.check(rotationId, label, expected === 'open' ? 'rotate' : 'resume', intended)
      if (expected === 'open') {
        const provider = storeOf(label).provider
        // Two labels may share an account only because their selections cannot overlap: a key
        // outside this label's selection may be the other label's to rotate.
        if (sharingAccount.has(label)) {
          const key = await storeOf(label).get(keyId)
          if (!matchesSelector(key, entryOf(label).select ?? {}, new Date())) {
            throw new RotationError({
              provider,
              operation: 'rotate',
              step: 'create',
              rolledBack: false,
              message: `${label} rotate ${keyId}: skipped, nothing was created or changed: the key is outside this store's select, and another store reaches the same account`,
            })
          }
        }
        const holder = await claimKey(pool, { label, keyId, rotationId }, workflowEnded)
        if (holder !== undefined) {
          throw new RotationError({
            provider,
            operation: 'rotate',
            step: 'create',
            rolledBack: false,
            message: `${label} rotate ${keyId}: skipped, nothing was created or changed: rotation ${holder} of this key is under way`,
          })
        }
      }
      if (rotation === undefined) rotation = await open(label, keyId, rotationId, names)
      let ran: RotationCheckpoint['ran'] = expected
      if (expected !== 'open') {
        if (rotation.next === expected) await rotation.runNext()
        // Target steps before it may have opened the rotation past delivery (every target
        // had confirmed before a crash).
        else if (opened || expected === 'deliver') ran = 'resume'
        else
          throw new Error(
            `rotation ${rotationId}: "${expected}" was due, "${rotation.next}" is next`,
          )
      }
      const base = {
        ran,
        reopened: opened && rotation.resumed,
        state: rotation.state,
        next: rotation.next,
        targets: rotation.next === 'deliver' ? [...rotation.targets] : [],
      }
      if (rotation.next !== null) return { ...base, summary: null }
      live.delete(rotationId)
      const result = rotation.result()
      await forgetSealedSecrets(pool, rotationId)
      await releaseKey(pool, rotationId)
      return {
        ...base,
        summary: {
          rotationId,
          label,
          oldKeyId: result.oldKeyId,
          newKeyId: result.newKeyId,
          retired: result.retired,
          verified: result.verified,
          resumed: result.resumed,
          warnings: result.warnings,
          deliveries: result.deliveries,
        },
      }
    } catch (error) {
      return settle(rotationId, error)
    }
  }
  const rotateKeyWorkflow = registerWorkflow(
    async (
      _batchId: string,
      label: string,
      keyId: string,
      // Absent in workflows enqueued before accounts were recorded.
      intended?: StoreFingerprint,
      // The targets the enqueue named; absent: every target of the key.
      names?: string[],
    ): Promise<DurableRotationSummary> => {
      // A checkpoint per rotation step, each named by the step the one before it said is
      // next: DBOS replays the same names in the same order, and a rerun skips every step
      // whose checkpoint is recorded.
      // A checkpoint that fails part way is run again a few times, reopening the rotation
      // from the journal as a worker that picks it up after a crash would.
      const rotationId = DBOS.workflowID as string
      const retries = {
        ...STEP_RETRIES,
        shouldRetry: (error: unknown) => resumable(journal, rotationId, error),
      }
      let at = await DBOS.runStep(() => checkpoint(label, keyId, 'open', intended, names), {
        name: 'open',
        ...retries,
      })
      while (at.next !== null) {
        const step = at.next
        if (step === 'deliver' && at.targets.length > 0) {
          // Each target's write, propagate and confirm is a checkpoint of its own, in core's
          // order (every write, then every propagate, then every confirm). A target that
          // fails is journalled and skipped from then on; the others go on.
          const failed: string[] = []
          for (const phase of ['write', 'propagate', 'confirm'] as const) {
            for (const name of at.targets) {
              if (failed.includes(name)) continue
              const outcome = await DBOS.runStep(
                () => targetCheckpoint(label, keyId, name, phase, intended, names),
                { name: `${phase} ${name}`, ...retries },
              )
              if (outcome.failure !== null) failed.push(name)
            }
          }
          if (failed.length > 0) {
            const stopped = await DBOS.runStep(
              () => deliveryStopped(label, keyId, failed, intended, names),
              { name: 'delivery stopped', ...retries },
            )
            // The workflow ends here with where each target stands; the new key stays sealed
            // and claimed for `resumeDelivery`, and the old key untouched.
            throw new RotationError({
              provider: stopped.provider,
              operation: 'rotate',
              step: 'deliver',
              rolledBack: false,
              message: stopped.message,
              deliveries: stopped.deliveries,
            })
          }
        }
        at = await DBOS.runStep(() => checkpoint(label, keyId, step, intended, names), {
          name: step,
          ...retries,
        })
      }
      if (at.summary === null) throw new Error('a finished rotation has a summary')
      return at.summary
    },
    { name: 'keyway.rotateKey' },
  )

  const enqueue = (
    batchId: string,
    label: string,
    keyId: string,
    workflowIDReusePolicy: 'return-existing' | 'reject' = 'return-existing',
    attempt = 1,
    enqueueOptions: EnqueueOptions = {},
  ) => {
    checkEnqueue(entryOf(label).store, batchId, label, keyId, everyStore, attempt)
    const names = checkTargetNames(label, entryOf(label).targets, enqueueOptions.targets)
    return DBOS.startWorkflow(rotateKeyWorkflow, {
      workflowID: rotationWorkflowId(batchId, label, keyId, attempt),
      queueName: rotationQueueName(label),
      workflowIDReusePolicy,
    })(batchId, label, keyId, accounts.current(label), ...(names === undefined ? [] : [names]))
  }

  const planPolicy = async (policy: RotationPolicy): Promise<PolicyPlan> => {
    const labels = policy.labels ?? Object.keys(options.stores)
    const fleet = fleets.get(policy.name)
    if (fleet !== undefined && policy.fromSchedules === true) {
      // Core's one decision, from the vendors' creation times and the history table (which
      // outlives any worker): the same as `keyway apply` makes from the same schedules.
      const history = await readPostgresHistory(pool, { actions: ['create', 'regenerate'] })
      return planSchedules(fleet, policy.name, history, await readDigestKey(pool))
    }
    if (fleet !== undefined && policy.audit !== undefined) return planAudit(fleet, policy.audit)
    const due: string[] = []
    const now = Date.now()
    // A label's history counts only where it names the account the label reaches now.
    const history = rotationHistory(
      await readPostgresHistory(pool, { actions: ['create', 'regenerate'] }),
      (label) => (Object.hasOwn(options.stores, label) ? accounts.current(label) : undefined),
    )
    const dueTimes = new Map<string, number | null>()
    for (const label of labels) {
      // Core's dry run decides what may be rotated (own credential, vendor limits); no write.
      const plan = await rotateKeys(entryOf(label).store, {
        ...options.rotation,
        dryRun: true,
        filter: (key) => {
          dueTimes.set(`${label}/${key.id}`, dueSince(policy, key, label, history))
          return isDue(policy, key, label, now, history)
        },
      })
      for (const each of plan.plans) {
        if (each.action === 'rotate') due.push(`${label}/${each.keyId}`)
      }
    }
    if (!perDueTime(policy, options.rotation?.strategy)) return { due, errors: [] }
    // Each key's rotation is named by the moment it fell due: a key regenerated in place keeps
    // its id, and is due again (under a new batch) once `maxAgeMs` has passed since.
    const batches: Record<string, string> = {}
    for (const entry of due) batches[entry] = dueBatch(policy.name, dueTimes.get(entry))
    return { due, errors: [], batches }
  }

  /**
   * Which attempt of the policy to start at each due key: the first where it never ran; none
   * where its latest attempt is under way or succeeded (a key it rotated is not started
   * twice); the next where its latest attempt ended in failure, so one failure does not keep
   * the key from its schedule for ever (that failure is reported in `retried`).
   */
  const attemptsOf = async (
    policy: RotationPolicy,
    due: readonly string[],
    batches: Readonly<Record<string, string>>,
  ): Promise<{ starts: Array<{ entry: string; attempt: number }>; retried: string[] }> => {
    // A policy's batches: its name, or (`fromSchedules`, `maxAgeMs`) its name and a due time
    // after a `~`.
    const earlier = await DBOS.listWorkflows({
      workflow_id_prefix: `${ROTATION_WORKFLOW_PREFIX}${encodeURIComponent(policy.name)}${perDueTime(policy, options.rotation?.strategy) ? '~' : '/'}`,
      workflowName: 'keyway.rotateKey',
      loadInput: false,
    })
    const latest = new Map<string, (typeof earlier)[number]>()
    for (const workflow of earlier) {
      const label = storeLabelOf(workflow.workflowID)
      const parts = workflow.workflowID.split('/')
      if (label === undefined) continue
      const batch = decodeURIComponent(parts[1] as string)
      const key = `${batch}/${label}/${decodeURIComponent(parts[3] as string)}`
      const seen = latest.get(key)
      if (seen === undefined || attemptOf(seen.workflowID) < attemptOf(workflow.workflowID)) {
        latest.set(key, workflow)
      }
    }
    const starts: Array<{ entry: string; attempt: number }> = []
    const retried: string[] = []
    for (const entry of due) {
      const last = latest.get(`${batches[entry] ?? policy.name}/${entry}`)
      if (last === undefined) {
        starts.push({ entry, attempt: 1 })
        continue
      }
      if (['SUCCESS', 'PENDING', 'ENQUEUED', 'DELAYED'].includes(last.status)) continue
      const cause = (last.error as { message?: unknown } | undefined)?.message
      retried.push(
        `${entry}: ${last.workflowID} ended ${last.status}${typeof cause === 'string' ? `: ${cause}` : ''}`,
      )
      starts.push({ entry, attempt: attemptOf(last.workflowID) + 1 })
    }
    return { starts, retried }
  }

  const policyWorkflow = registerWorkflow(
    async (_scheduledAt: Date, context: { policy: string }): Promise<PolicyRunSummary> => {
      const policy = policyNamed(options, context.policy)
      const {
        due,
        errors,
        batches = {},
      } = await DBOS.runStep(() => planPolicy(policy), {
        name: 'plan',
      })
      const { starts, retried } = await DBOS.runStep(() => attemptsOf(policy, due, batches), {
        name: 'attempts',
      })
      const started: string[] = []
      for (const { entry, attempt } of starts) {
        const slash = entry.indexOf('/')
        const label = entry.slice(0, slash)
        const keyId = entry.slice(slash + 1)
        // The policy is the batch and the attempt is derived from what ran before: two
        // firings at once derive the same id, and DBOS starts it once.
        try {
          const batch = batches[entry] ?? policy.name
          const handle = await enqueue(batch, label, keyId, 'reject', attempt)
          started.push(handle.workflowID)
        } catch (error) {
          if (!DBOSErrors.isWorkflowIDInUseError(error)) throw error
        }
      }
      return { policy: policy.name, due, started, retried, errors }
    },
    { name: 'keyway.applyPolicy' },
  )

  const recoverExecutor: Recover = async (executorId, changedBefore) => {
    const pending = await DBOS.listWorkflows({
      status: 'PENDING',
      executorId,
      workflowName: ['keyway.rotateKey', 'keyway.applyPolicy'],
    })
    const due =
      changedBefore === undefined
        ? pending
        : pending.filter((workflow) => (workflow.updatedAt ?? workflow.createdAt) < changedBefore)
    for (const workflow of due) {
      await DBOS.resumeWorkflow(workflow.workflowID, { queueName: workflow.queueName })
    }
    return {
      workflowIds: due.map((workflow) => workflow.workflowID),
      left: pending.length - due.length,
    }
  }
  let takeover: WorkerTakeover | undefined

  return {
    async start() {
      await ensureKeywayTables(pool)
      // Before this worker takes any work: a label that now reaches another account while
      // rotations started for the recorded one are part way is refused here.
      await accounts.start()
      for (const [label, entry] of Object.entries(options.stores)) {
        const limits = entry.limits ?? {}
        await DBOS.registerQueue(rotationQueueName(label), {
          onConflict: 'always_update',
          ...(limits.rateLimit === undefined ? {} : { rateLimit: limits.rateLimit }),
          ...(limits.concurrency === undefined ? {} : { globalConcurrency: limits.concurrency }),
          ...(limits.workerConcurrency === undefined
            ? {}
            : { workerConcurrency: limits.workerConcurrency }),
          minPollingIntervalMs: 100,
        })
      }
      if ((options.policies ?? []).length > 0) {
        await DBOS.applySchedules(
          (options.policies ?? []).map((policy) => ({
            scheduleName: scheduleName(policy.name),
            workflowFn: policyWorkflow as never,
            schedule: policy.schedule,
            context: { policy: policy.name },
          })),
        )
      }
      if (takeoverSettings !== false && takeover === undefined) {
        takeover = new WorkerTakeover(pool, DBOS.executorID, takeoverSettings, recoverExecutor)
        await takeover.start()
      }
    },
    enqueue: (batchId, label, keyId, enqueueOptions) =>
      enqueue(batchId, label, keyId, 'return-existing', 1, enqueueOptions),
    async enqueueBatch(batchId, label, keyIds, enqueueOptions) {
      // All or none: a bad key id is refused before any rotation of the batch starts.
      const { store, targets } = entryOf(label)
      for (const keyId of keyIds) checkEnqueue(store, batchId, label, keyId, everyStore)
      checkTargetNames(label, targets, enqueueOptions?.targets)
      const handles: WorkflowHandle<DurableRotationSummary>[] = []
      for (const keyId of keyIds) {
        handles.push(await enqueue(batchId, label, keyId, 'return-existing', 1, enqueueOptions))
      }
      return handles
    },
    async resumeDelivery(workflowId) {
      const [workflow] = await DBOS.listWorkflows({ workflowIDs: [workflowId], loadInput: false })
      const steps = workflow?.status === 'ERROR' ? await DBOS.listWorkflowSteps(workflowId) : []
      const first = (steps ?? []).find((step) => {
        const output = step.output as Partial<TargetCheckpoint> | null | undefined
        return typeof output?.target === 'string' && output.failure != null
      })
      if (workflow === undefined || first === undefined) {
        throw invalid(
          'workflowId',
          `"${workflowId}" is not a rotation whose delivery stopped at a target`,
        )
      }
      return DBOS.rewindWorkflow<DurableRotationSummary>(workflowId, {
        startStep: first.functionID,
        ...(workflow.queueName === undefined ? {} : { queueName: workflow.queueName }),
      })
    },
    async runPolicy(name) {
      policyNamed(options, name)
      const handle = await DBOS.triggerSchedule(scheduleName(name))
      return (await handle.getResult()) as PolicyRunSummary
    },
    // Handed on once, whoever else hands it on at the same moment; forgotten after, so the
    // others need not take it over when its heartbeat runs out.
    recoverExecutor: (executorId) => handOverWorker(pool, executorId, recoverExecutor),
    async close() {
      await takeover?.stop()
      await pool.end()
    },
  }
}

/**
 * What a policy found due, as `label/keyId`; with `fromSchedules` or `maxAgeMs`, each due key's
 * batch: the policy's name and the moment the key fell due, so every firing until it is rotated
 * names the same rotation (and a key regenerated in place is due again under a new batch).
 */
interface PolicyPlan {
  due: string[]
  errors: string[]
  batches?: Record<string, string>
}

/** The keys the stores' schedules find due now, by the fleet's plan (core's `scheduledKeys`). */
async function planSchedules(
  fleet: Fleet,
  policy: string,
  history: readonly HistoryEntry[],
  historyDigestKey: string,
): Promise<PolicyPlan> {
  const plan = await fleet.plan({}, { history, historyDigestKey })
  const batches: Record<string, string> = {}
  for (const entry of plan.entries)
    batches[`${entry.label}/${entry.key.id}`] = dueBatch(policy, entry.schedule?.dueAt)
  return {
    due: plan.entries.map((entry) => `${entry.label}/${entry.key.id}`),
    errors: plan.errors.map((error) => `${error.label}: ${error.error.message}`),
    batches,
  }
}

/** The keys due under an audit policy, by its fleet's plan; stores that failed are named. */
async function planAudit(
  fleet: Fleet,
  audit: AuditPolicy,
): Promise<{ due: string[]; errors: string[] }> {
  const plan = await fleet.plan(audit)
  return {
    due: plan.entries.map((entry) => `${entry.label}/${entry.key.id}`),
    errors: plan.errors.map((error) => `${error.label}: ${error.error.message}`),
  }
}

/**
 * The fleet an audit policy plans over: its stores, each with its `select`, and the rotation
 * settings every worker uses (so the plan skips what the rotation would skip). Built when the
 * policies are given, so a wrong selector is found then.
 */
function auditFleet(options: KeywayRotationsOptions, policy: RotationPolicy): Fleet {
  const { retire, graceMs, allowSelf } = options.rotation ?? {}
  const rotation = {
    ...(retire === undefined ? {} : { retire }),
    ...(graceMs === undefined ? {} : { graceMs }),
    ...(allowSelf === undefined ? {} : { allowSelf }),
  }
  const labels = policy.labels ?? Object.keys(options.stores)
  const stores = labels.map((label) => {
    const entry = options.stores[label] as RotationStoreEntry
    return {
      label,
      store: entry.store,
      rotation,
      ...(entry.select === undefined ? {} : { select: entry.select }),
      ...(policy.fromSchedules === true && entry.schedule !== undefined
        ? { schedule: entry.schedule }
        : {}),
    }
  })
  try {
    return createFleet(stores)
  } catch (error) {
    // A store's setting named by its label, as the options give it.
    const issue = error instanceof ValidationError ? error.issues[0] : undefined
    const match = issue === undefined ? null : /^(\d+)\.(.+)$/.exec(issue.path)
    if (issue === undefined || match === null) throw error
    throw invalid(`stores.${labels[Number(match[1])]}.${match[2]}`, issue.message)
  }
}

/**
 * Whether a policy names each key's batch by the moment it fell due (`<policy>~<due time>`):
 * with `fromSchedules`, and with `maxAgeMs` where keys are regenerated in place (a key keeps
 * its id, so the policy's name alone would name its next rotation as its last). Otherwise
 * the batch is the policy's name (a successor has a new id).
 */
function perDueTime(policy: RotationPolicy, strategy: RotationStrategy | undefined): boolean {
  if (policy.fromSchedules === true) return true
  return policy.audit === undefined && policy.maxAgeMs !== undefined && strategy === 'regenerate'
}

/** The DBOS schedule of a policy. */
function scheduleName(policy: string): string {
  return `keyway-policy-${policy}`
}

/**
 * `DBOS.registerWorkflow`, refusing in keyway's words a second `defineKeywayRotations` in one
 * process: DBOS keeps one registration of each workflow name, so its registry is what tells
 * (no flag of keyway's own outlives a call).
 */
function registerWorkflowOnce(pool: pg.Pool) {
  return <This, Args extends unknown[], Return>(
    func: (this: This, ...args: Args) => Promise<Return>,
    config: { name: string },
  ): ((this: This, ...args: Args) => Promise<Return>) => {
    try {
      return DBOS.registerWorkflow(func, config)
    } catch (error) {
      if (!(error instanceof DBOSErrors.DBOSConflictingRegistrationError)) throw error
      // Nothing was asked of the pool yet: it holds no connection.
      void pool.end().catch(() => {})
      throw invalid('defineKeywayRotations', 'is called once per process, before DBOS.launch()')
    }
  }
}

function policyNamed(options: KeywayRotationsOptions, name: string): RotationPolicy {
  const policy = options.policies?.find((each) => each.name === name)
  if (policy === undefined) throw invalid('policy', `no policy is named "${name}"`)
  return policy
}

function checkPolicy(options: KeywayRotationsOptions, policy: RotationPolicy): void {
  if (!/^[A-Za-z0-9_-]+$/.test(policy.name)) {
    throw invalid('policies.name', 'letters, digits, "-" and "_" only')
  }
  for (const label of policy.labels ?? []) {
    if (options.stores[label] === undefined) {
      throw invalid('policies.labels', `no store is labelled "${label}"`)
    }
  }
  if (policy.fromSchedules === true) {
    if (policy.maxAgeMs !== undefined || policy.select !== undefined || policy.audit !== undefined)
      throw invalid('policies.fromSchedules', 'replaces maxAgeMs, select and audit: give one way')
    const labels = policy.labels ?? Object.keys(options.stores)
    if (!labels.some((label) => scheduleList(options.stores[label]?.schedule).length > 0))
      throw invalid('policies.fromSchedules', 'needs a store with a schedule among its labels')
    return
  }
  if (policy.audit === undefined) return
  if (policy.maxAgeMs !== undefined || policy.select !== undefined) {
    throw invalid('policies.audit', 'replaces maxAgeMs and select: give one or the other')
  }
  checkAuditPolicy(policy.audit, `policies.${policy.name}.audit`)
}
