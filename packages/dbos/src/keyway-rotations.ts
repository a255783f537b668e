import {
  DBOS,
  Error as DBOSErrors,
  DBOSWorkflowConflictError,
  type WorkflowHandle,
} from '@dbos-inc/dbos-sdk'
import {
  type AuditPolicy,
  type CreatedKey,
  checkAuditPolicy,
  createFleet,
  type Fleet,
  type KeySelector,
  type KeyStore,
  matchesSelector,
  openRotation,
  RotationError,
  type RotationOptions,
  type RotationState,
  rotateKeys,
  type SteppedRotation,
  type StoreFingerprint,
  type TimedStep,
} from '@keyway/core'
import pg from 'pg'
import { checkEnqueue, checkLabel, invalid } from './input-checks.js'
import { claimKey, releaseKey } from './key-claims.js'
import { ensureKeywayTables } from './keyway-tables.js'
import { workerHistory } from './postgres-history.js'
import { postgresJournal, RotationMovedOnError } from './postgres-journal.js'
import { isDue, type RotationPolicy } from './rotation-policy.js'
import { forgetSealedSecrets, withSealedSecrets } from './sealed-secret-store.js'
import { checkSealingKey, type SealingKey } from './secret-seal.js'
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
}

/** Where a new secret goes: which store and which old key it replaces. Never a secret. */
export interface DeliveryTarget {
  label: string
  /** The id of the key being replaced. */
  oldKeyId: string
  rotationId: string
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
   * recorded that, so it must be idempotent (overwrite the same variable).
   */
  deliver: (created: CreatedKey, target: DeliveryTarget) => void | Promise<void>
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
  ): Promise<WorkflowHandle<DurableRotationSummary>>
  /**
   * Queues one rotation per key id (each a no-op if already started). Every id is checked
   * before the first rotation is queued.
   */
  enqueueBatch(
    batchId: string,
    label: string,
    keyIds: readonly string[],
  ): Promise<WorkflowHandle<DurableRotationSummary>[]>
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

let defined = false

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
  if (defined) {
    throw invalid('defineKeywayRotations', 'is called once per process, before DBOS.launch()')
  }
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
  if (typeof options.deliver !== 'function') throw invalid('deliver', 'must be a function')
  const policyNames = new Set<string>()
  const fleets = new Map<string, Fleet>()
  for (const policy of options.policies ?? []) {
    checkPolicy(options, policy)
    if (policyNames.has(policy.name)) {
      throw invalid('policies.name', `"${policy.name}" names two policies`)
    }
    policyNames.add(policy.name)
    if (policy.audit !== undefined) fleets.set(policy.name, auditFleet(options, policy))
  }
  const sharingAccount = checkDistinctAccounts(options.stores)
  defined = true
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 })
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
      store = withSealedSecrets(
        entryOf(label).store,
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

  /** Whether a rotation's workflow has ended (or is unknown to DBOS): it holds no key any more. */
  const workflowEnded = async (rotationId: string): Promise<boolean> => {
    const [workflow] = await DBOS.listWorkflows({ workflowIDs: [rotationId] })
    return workflow === undefined || !['PENDING', 'ENQUEUED', 'DELAYED'].includes(workflow.status)
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
  ): Promise<RotationCheckpoint> => {
    const rotationId = DBOS.workflowID as string
    const target = { label, oldKeyId: keyId, rotationId }
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
      if (rotation === undefined) {
        rotation = await openRotation(storeOf(label), {
          ...options.rotation,
          keyId,
          rotationId,
          journal,
          deliver: (created) => options.deliver(created, target),
        })
        live.set(rotationId, rotation)
      }
      let ran: RotationCheckpoint['ran'] = expected
      if (expected !== 'open') {
        if (rotation.next === expected) await rotation.runNext()
        else if (opened) ran = 'resume'
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
        },
      }
    } catch (error) {
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
  }

  const rotateKeyWorkflow = DBOS.registerWorkflow(
    async (
      _batchId: string,
      label: string,
      keyId: string,
      // Absent in workflows enqueued before accounts were recorded.
      intended?: StoreFingerprint,
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
      let at = await DBOS.runStep(() => checkpoint(label, keyId, 'open', intended), {
        name: 'open',
        ...retries,
      })
      while (at.next !== null) {
        const step = at.next
        at = await DBOS.runStep(() => checkpoint(label, keyId, step, intended), {
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
  ) => {
    checkEnqueue(entryOf(label).store, batchId, label, keyId, everyStore, attempt)
    return DBOS.startWorkflow(rotateKeyWorkflow, {
      workflowID: rotationWorkflowId(batchId, label, keyId, attempt),
      queueName: rotationQueueName(label),
      workflowIDReusePolicy,
    })(batchId, label, keyId, accounts.current(label))
  }

  const planPolicy = async (
    policy: RotationPolicy,
  ): Promise<{ due: string[]; errors: string[] }> => {
    const labels = policy.labels ?? Object.keys(options.stores)
    const fleet = fleets.get(policy.name)
    if (fleet !== undefined && policy.audit !== undefined) return planAudit(fleet, policy.audit)
    const due: string[] = []
    const now = Date.now()
    for (const label of labels) {
      // Core's dry run decides what may be rotated (own credential, vendor limits); no write.
      const plan = await rotateKeys(entryOf(label).store, {
        ...options.rotation,
        dryRun: true,
        filter: (key) => isDue(policy, key, label, now),
      })
      for (const each of plan.plans) {
        if (each.action === 'rotate') due.push(`${label}/${each.keyId}`)
      }
    }
    return { due, errors: [] }
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
  ): Promise<{ starts: Array<{ entry: string; attempt: number }>; retried: string[] }> => {
    const earlier = await DBOS.listWorkflows({
      workflow_id_prefix: `${ROTATION_WORKFLOW_PREFIX}${encodeURIComponent(policy.name)}/`,
      workflowName: 'keyway.rotateKey',
      loadInput: false,
    })
    const latest = new Map<string, (typeof earlier)[number]>()
    for (const workflow of earlier) {
      const label = storeLabelOf(workflow.workflowID)
      const parts = workflow.workflowID.split('/')
      if (label === undefined) continue
      const key = `${label}/${decodeURIComponent(parts[3] as string)}`
      const seen = latest.get(key)
      if (seen === undefined || attemptOf(seen.workflowID) < attemptOf(workflow.workflowID)) {
        latest.set(key, workflow)
      }
    }
    const starts: Array<{ entry: string; attempt: number }> = []
    const retried: string[] = []
    for (const entry of due) {
      const last = latest.get(entry)
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

  const policyWorkflow = DBOS.registerWorkflow(
    async (_scheduledAt: Date, context: { policy: string }): Promise<PolicyRunSummary> => {
      const policy = policyNamed(options, context.policy)
      const { due, errors } = await DBOS.runStep(() => planPolicy(policy), { name: 'plan' })
      const { starts, retried } = await DBOS.runStep(() => attemptsOf(policy, due), {
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
          const handle = await enqueue(policy.name, label, keyId, 'reject', attempt)
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
    enqueue: (batchId, label, keyId) => enqueue(batchId, label, keyId),
    async enqueueBatch(batchId, label, keyIds) {
      // All or none: a bad key id is refused before any rotation of the batch starts.
      const { store } = entryOf(label)
      for (const keyId of keyIds) checkEnqueue(store, batchId, label, keyId, everyStore)
      const handles: WorkflowHandle<DurableRotationSummary>[] = []
      for (const keyId of keyIds) handles.push(await enqueue(batchId, label, keyId))
      return handles
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
  return createFleet(
    (policy.labels ?? Object.keys(options.stores)).map((label) => {
      const entry = options.stores[label] as RotationStoreEntry
      return {
        label,
        store: entry.store,
        rotation,
        ...(entry.select === undefined ? {} : { select: entry.select }),
      }
    }),
  )
}

/** The DBOS schedule of a policy. */
function scheduleName(policy: string): string {
  return `keyway-policy-${policy}`
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
  if (policy.audit === undefined) return
  if (policy.maxAgeMs !== undefined || policy.select !== undefined) {
    throw invalid('policies.audit', 'replaces maxAgeMs and select: give one or the other')
  }
  checkAuditPolicy(policy.audit, `policies.${policy.name}.audit`)
}
