// A rotation worker for the tests and the benchmark: one DBOS executor in its own process.
// Its configuration comes as JSON in KEYWAY_WORKER (emulator settings are fake credentials);
// the parent drives it over IPC.
import { existsSync, writeFileSync } from 'node:fs'
import { DBOS } from '@dbos-inc/dbos-sdk'
import type {
  ApiKey,
  AuditPolicy,
  CreatedKey,
  DeliveryTarget,
  KeySelector,
  KeyStore,
  RotationSchedule,
  RotationState,
  TargetPhase,
} from '@keyway/core'
import { createLatitudeKeyStore } from '@keyway/latitudesh'
import { createNoteDxKeyStore } from '@keyway/notedx'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { createSecretsManagerTarget } from '@keyway/target-aws'
import { createGitHubActionsTarget } from '@keyway/target-github'
import { createKubernetesSecretTarget } from '@keyway/target-kubernetes'
import { createVaultKvTarget } from '@keyway/target-vault'
import { createVercelEnvTarget } from '@keyway/target-vercel'
import { createVoiceableKeyStore } from '@keyway/voiceable'
import pg from 'pg'
import {
  type DeliveryContext,
  type DurableRotationOptions,
  defineKeywayRotations,
  type RotationQueueLimits,
} from '../src/index.js'
import { variableOf } from './fleet.js'

export interface WorkerConfig {
  executorId: string
  databaseUrl: string
  sealingKey: string
  stores: Record<
    string,
    {
      vendor: string
      settings: Record<string, string>
      limits?: RotationQueueLimits
      select?: KeySelector
      schedule?: RotationSchedule | RotationSchedule[]
    }
  >
  /**
   * SIGKILL this process once the `nth` rotation (1-based) journalled `state`, first writing
   * that rotation's id to `crashNote`.
   */
  crashAt?: { state: RotationState; nth: number }
  crashNote?: string
  /** A policy by age and a list of key ids, by a fleet audit policy, or by the stores' schedules. */
  policy?: {
    name: string
    schedule: string
    maxAgeMs?: number
    keyIds?: string[]
    audit?: AuditPolicy
    fromSchedules?: boolean
  }
  /**
   * Blocks this process's event loop once the `nth` rotation journalled `state` (first writing
   * its id to `crashNote`), until the file `until` exists: a worker stalled, then back.
   */
  stallAt?: { state: RotationState; nth: number; until: string }
  /** Rotation settings beside the tests' own (verification pace, the crash hook). */
  rotation?: Pick<DurableRotationOptions, 'strategy' | 'graceMs' | 'retire'>
  /** Heartbeat and silence before a takeover; default as in the package. */
  takeover?: { heartbeatMs: number; deadAfterMs: number }
  /**
   * Delivery targets for every key of every store, instead of the tests' `deliver` table:
   * a GitHub Actions secret and a Vercel variable per key (named after its store and id).
   */
  targets?:
    | {
        github: { baseUrl: string; token: string; repository: string }
        vercel: {
          baseUrl: string
          token: string
          teamId: string
          project: string
          redeploy: boolean
        }
      }
    | CloudTargets
  /**
   * SIGKILL this process at the `nth` (1-based) call of `phase` of target `target`: `'before'`
   * it is sent (core journalled it as in flight), or `'after'` it answered (before core
   * journalled the answer). The rotation's id goes to `crashNote` first.
   */
  crashAtTarget?: {
    target: 'github' | 'vercel' | 'aws' | 'kubernetes' | 'vault'
    phase: TargetPhase
    when: 'before' | 'after'
    nth: number
  }
}

/**
 * AWS Secrets Manager (a secret per key, named after it), one Kubernetes Secret (an entry per
 * key, with a restart of the Deployments named) and Vault KV v2 (a path per store).
 */
export interface CloudTargets {
  aws: {
    baseUrl: string
    region: string
    accessKeyId: string
    secretAccessKey: string
    sessionToken: string
  }
  kubernetes: {
    baseUrl: string
    token: string
    namespace: string
    secret: string
    restart: string[]
  }
  vault: { baseUrl: string; token: string }
}

export type WorkerCommand =
  | { type: 'enqueue'; batchId: string; label: string; keyIds: string[]; targets?: string[] }
  | { type: 'resume-delivery'; workflowId: string }
  | { type: 'recover'; executorId: string }
  | { type: 'policy'; name: string }
  | { type: 'stop' }

const config = JSON.parse(process.env.KEYWAY_WORKER ?? '{}') as WorkerConfig

function storeFor(vendor: string, settings: Record<string, string>): KeyStore {
  const base = { ...settings, retry: { attempts: 3 } }
  if (vendor === 'openrouter') return createOpenRouterKeyStore(base)
  if (vendor === 'latitudesh') return createLatitudeKeyStore(base)
  if (vendor === 'notedx') return createNoteDxKeyStore(base)
  return createVoiceableKeyStore(base)
}

const deliveries = new pg.Pool({ connectionString: config.databaseUrl, max: 2 })

// The cluster stops at the end while idle connections may still be closing.

deliveries.on('error', () => {})
// The tests' delivery target: a stand-in for the secret manager consumers read, so it holds
// the secret (of an emulator's key), for the tests to check where it works.
await deliveries.query(`CREATE TABLE IF NOT EXISTS deliveries (
  label text NOT NULL, old_key_id text NOT NULL, new_key_id text NOT NULL, executor text NOT NULL,
  secret text
)`)
await deliveries.query(`CREATE TABLE IF NOT EXISTS takeovers (
  executor_id text NOT NULL, workflow_ids jsonb NOT NULL, taken_by text NOT NULL
)`)
let reached = 0
let stalled = 0
let targetCalls = 0

/** Wraps a target's steps with the crash hook. */
function withCrash(name: string, target: DeliveryTarget): DeliveryTarget {
  const hook = config.crashAtTarget
  if (hook === undefined || hook.target !== name) return target
  const wrap =
    <A extends unknown[], R>(phase: TargetPhase, step: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const context = args.at(-1) as { rotationId: string }
      const hit = () => {
        writeFileSync(config.crashNote as string, context.rotationId)
        process.kill(process.pid, 'SIGKILL')
      }
      const counted = phase === hook.phase ? ++targetCalls === hook.nth : false
      if (counted && hook.when === 'before') hit()
      const result = await step(...args)
      if (counted && hook.when === 'after') hit()
      return result
    }
  return {
    ...target,
    write: wrap('write', target.write.bind(target)),
    confirm: wrap('confirm', target.confirm.bind(target)),
    ...(target.propagate === undefined
      ? {}
      : { propagate: wrap('propagate', target.propagate.bind(target)) }),
  }
}

function targetsFor(label: string, keyId: string): DeliveryTarget[] {
  const settings = config.targets
  if (settings === undefined) return []
  const variable = variableOf(label, keyId)
  const retry = { attempts: 2 }
  if ('aws' in settings) {
    return [
      withCrash(
        'aws',
        createSecretsManagerTarget({
          name: 'aws',
          ...settings.aws,
          secretId: `keys/${variable}`,
          confirmIntervalMs: 20,
          retry,
        }),
      ),
      withCrash(
        'kubernetes',
        createKubernetesSecretTarget({
          name: 'kubernetes',
          baseUrl: settings.kubernetes.baseUrl,
          token: settings.kubernetes.token,
          namespace: settings.kubernetes.namespace,
          secret: settings.kubernetes.secret,
          key: variable,
          restart: settings.kubernetes.restart,
          confirmIntervalMs: 20,
          retry,
        }),
      ),
      withCrash(
        'vault',
        createVaultKvTarget({
          name: 'vault',
          ...settings.vault,
          path: `apps/${label}`,
          key: variable,
          retry,
        }),
      ),
    ]
  }
  return [
    withCrash(
      'github',
      createGitHubActionsTarget({
        name: 'github',
        baseUrl: settings.github.baseUrl,
        token: settings.github.token,
        scope: { repository: settings.github.repository },
        secret: variable,
        confirmIntervalMs: 20,
        retry,
      }),
    ),
    withCrash(
      'vercel',
      createVercelEnvTarget({
        name: 'vercel',
        baseUrl: settings.vercel.baseUrl,
        token: settings.vercel.token,
        teamId: settings.vercel.teamId,
        project: settings.vercel.project,
        key: variable,
        redeploy: settings.vercel.redeploy,
        confirmIntervalMs: 20,
        confirmWithinMs: 3_000,
        retry,
      }),
    ),
  ]
}

const rotations = defineKeywayRotations({
  databaseUrl: config.databaseUrl,
  sealingKey: config.sealingKey,
  stores: Object.fromEntries(
    Object.entries(config.stores).map(([label, entry]) => [
      label,
      {
        store: storeFor(entry.vendor, entry.settings),
        limits: entry.limits,
        ...(config.targets === undefined
          ? {}
          : { targets: ({ keyId }: { keyId: string }) => targetsFor(label, keyId) }),
        ...(entry.select === undefined ? {} : { select: entry.select }),
        ...(entry.schedule === undefined ? {} : { schedule: entry.schedule }),
      },
    ]),
  ),
  rotation: {
    ...config.rotation,
    verifyAttempts: 2,
    verifyIntervalMs: 10,
    onStep(event) {
      if (event.state === config.stallAt?.state) {
        stalled += 1
        if (stalled !== config.stallAt.nth) return
        writeFileSync(config.crashNote as string, event.rotationId)
        // Nothing else runs here meanwhile: no heartbeat, no DBOS, no rotation.
        const pause = new Int32Array(new SharedArrayBuffer(4))
        while (!existsSync(config.stallAt.until)) Atomics.wait(pause, 0, 0, 20)
        return
      }
      if (event.state !== config.crashAt?.state) return
      reached += 1
      if (reached !== config.crashAt.nth) return
      // At once, as a killed machine would: nothing after this step runs here.
      writeFileSync(config.crashNote as string, event.rotationId)
      process.kill(process.pid, 'SIGKILL')
    },
  },
  // The test's delivery target records which key replaced which, and the secret delivered
  // (with real targets, those hold it instead).
  ...(config.targets === undefined
    ? {
        async deliver(created: CreatedKey, target: DeliveryContext) {
          await deliveries.query('INSERT INTO deliveries VALUES ($1, $2, $3, $4, $5)', [
            target.label,
            target.oldKeyId,
            created.key.id,
            config.executorId,
            created.secret.reveal(),
          ])
        },
      }
    : {}),
  takeover: {
    ...config.takeover,
    onTakeover(event) {
      void deliveries.query('INSERT INTO takeovers VALUES ($1, $2, $3)', [
        event.executorId,
        JSON.stringify(event.workflowIds),
        config.executorId,
      ])
    },
  },
  policies:
    config.policy === undefined
      ? []
      : [
          {
            name: config.policy.name,
            schedule: config.policy.schedule,
            ...(config.policy.fromSchedules === true
              ? { fromSchedules: true }
              : config.policy.audit === undefined
                ? {
                    maxAgeMs: config.policy.maxAgeMs,
                    select: (key: ApiKey) => (config.policy?.keyIds ?? []).includes(key.id),
                  }
                : { audit: config.policy.audit }),
          },
        ],
})

// The session setting DBOS would otherwise send on each new connection, ahead of the first
// query (which makes pg warn about overlapping queries): given in the URL, DBOS leaves it.
const systemDatabaseUrl = new URL(config.databaseUrl)
systemDatabaseUrl.searchParams.set('options', '-c idle_in_transaction_session_timeout=60000')

DBOS.setConfig({
  name: 'keyway-test',
  systemDatabaseUrl: systemDatabaseUrl.href,
  executorID: config.executorId,
  applicationVersion: 'test',
  logLevel: 'error',
})
await DBOS.launch()
try {
  await rotations.start()
} catch (error) {
  // Told to the parent, which is waiting for this worker to be ready.
  process.send?.({ failed: error instanceof Error ? error.message : String(error) })
  await DBOS.shutdown()
  process.exit(1)
}

async function handle(command: WorkerCommand): Promise<unknown> {
  if (command.type === 'enqueue') {
    const handles = await rotations.enqueueBatch(
      command.batchId,
      command.label,
      command.keyIds,
      command.targets === undefined ? {} : { targets: command.targets },
    )
    return handles.length
  }
  if (command.type === 'resume-delivery') {
    const handle = await rotations.resumeDelivery(command.workflowId)
    return handle.workflowID
  }
  if (command.type === 'recover') return rotations.recoverExecutor(command.executorId)
  if (command.type === 'policy') return rotations.runPolicy(command.name)
  await DBOS.shutdown()
  await rotations.close()
  await deliveries.end()
  process.exit(0)
}

process.on('message', (message: { id: number; command: WorkerCommand }) => {
  handle(message.command).then(
    (result) => process.send?.({ id: message.id, result }),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        error: error instanceof Error ? error.message : String(error),
      }),
  )
})
process.send?.({ ready: true })
