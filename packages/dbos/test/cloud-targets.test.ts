// Rotations of two vendors' keys delivered to AWS Secrets Manager, a Kubernetes Secret (with a
// rollout restart of one Deployment) and Vault KV v2, each target's write, propagate and confirm
// a checkpointed DBOS step of its own, against the real Postgres, the vendors' emulators and the
// three target emulators, with worker processes killed with SIGKILL inside the target steps.
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TargetPhase } from '@keyway/core'
import {
  type AwsSecretsManagerEmulator,
  type KubernetesEmulatorControl,
  startAwsSecretsManagerEmulator,
  startKubernetesEmulator,
  startVaultEmulator,
  type TargetEmulator,
  type VaultEmulatorControl,
} from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import {
  ROTATION_WORKFLOW_PREFIX,
  rotationWorkflowId,
  type TargetCheckpoint,
} from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { rotatableIds, storeOf, testSealingKey, variableOf } from './fleet.js'
import { type Harness, leakedCredentials, startHarness, waitForEnded } from './harness.js'
import type { CloudTargets, WorkerConfig } from './worker.js'
import { startWorker, type WorkerProcess } from './worker-process.js'

const postgres = usePostgres()

/** The two vendors whose keys are rotated here, one key each. */
const LABELS = ['openrouter', 'voiceable'] as const
type Label = (typeof LABELS)[number]
const NAMESPACE = 'apps'
const SECRET = 'app-keys'
/** The Deployment restarted after each write, and one that reads the same Secret and is not. */
const RESTARTED = 'web'
const LEFT_ALONE = 'batch'

interface Setup extends Harness {
  aws: AwsSecretsManagerEmulator
  kube: TargetEmulator<KubernetesEmulatorControl>
  vault: TargetEmulator<VaultEmulatorControl>
  /** The old key of each label. */
  before: Record<Label, string>
  stores: WorkerConfig['stores']
  targets: CloudTargets
}

const awsSecretOf = (setup: Setup, label: Label) => `keys/${variableOf(label, setup.before[label])}`
const vaultPathOf = (label: Label) => `apps/${label}`

async function setUp(database: string): Promise<Setup> {
  const harness = await startHarness(postgres, database, 1)
  const aws = await startAwsSecretsManagerEmulator()
  const kube = await startKubernetesEmulator()
  const vault = await startVaultEmulator()
  const before = {} as Setup['before']
  const stores: WorkerConfig['stores'] = {}
  for (const label of LABELS) {
    const [keyId] = await rotatableIds(storeOf(harness.fleet, label))
    before[label] = keyId as string
    stores[label] = { vendor: label, settings: harness.fleet[label].settings }
  }
  // What is there before, and what keyway does not own, which must stay as it is.
  aws.control.seedSecret('other/database', 'untouched-aws-value')
  kube.control.seedSecret(NAMESPACE, SECRET, { DATABASE_URL: 'untouched-kubernetes-value' })
  kube.control.seedDeployment(NAMESPACE, RESTARTED, { secret: SECRET, replicas: 2 })
  kube.control.seedDeployment(NAMESPACE, LEFT_ALONE, { secret: SECRET })
  const setup = { before } as Setup
  for (const label of LABELS) {
    aws.control.seedSecret(awsSecretOf(setup, label), `previous-${label}-value`)
    vault.control.seed(vaultPathOf(label), { OTHER_FIELD: `untouched-vault-${label}` })
  }
  return {
    ...harness,
    aws,
    kube,
    vault,
    before,
    stores,
    targets: {
      aws: aws.settings,
      kubernetes: {
        baseUrl: kube.settings.baseUrl,
        token: kube.settings.token,
        namespace: NAMESPACE,
        secret: SECRET,
        restart: [RESTARTED],
      },
      vault: { baseUrl: vault.settings.baseUrl, token: vault.settings.token },
    },
    async close() {
      await harness.close()
      await aws.close()
      await kube.close()
      await vault.close()
    },
  }
}

/** Patches of a key's entry that reached the Kubernetes Secret. */
function kubernetesWritesOf(setup: Setup, label: Label): number {
  const variable = variableOf(label, setup.before[label])
  return setup.kube.requests.filter(
    (request) =>
      request.method === 'PATCH' &&
      request.path.split('?')[0] === `/api/v1/namespaces/${NAMESPACE}/secrets/${SECRET}` &&
      Object.hasOwn((request.body as { data?: object }).data ?? {}, variable),
  ).length
}

/** Every old key is gone, each target holds the key's one new secret, the rest untouched. */
async function expectDelivered(setup: Setup): Promise<string[]> {
  const secrets: string[] = []
  const awsTokens = new Set<string | undefined>()
  const held = setup.kube.control.secret(NAMESPACE, SECRET) ?? {}
  const web = setup.kube.control.deployment(NAMESPACE, RESTARTED)
  expect(web?.complete).toBe(true)
  for (const label of LABELS) {
    const variable = variableOf(label, setup.before[label])
    const live = await rotatableIds(storeOf(setup.fleet, label))
    expect(live).not.toContain(setup.before[label])
    expect(live).toHaveLength(1)
    const secret = setup.aws.control.value(awsSecretOf(setup, label))
    expect(secret).toBeDefined()
    expect(secret).not.toBe(`previous-${label}-value`)
    // AWS: one version more than the seeded one, now current; the seeded one previous.
    const versions = setup.aws.control.versions(awsSecretOf(setup, label)) ?? []
    expect(versions.map((version) => version.value)).toEqual([`previous-${label}-value`, secret])
    // Every PutSecretValue of the key (a resume may send it again) carries the one token
    // derived from the rotation, and the version it made is that token's.
    const tokens = setup.aws.requests
      .filter(
        (request) =>
          request.headers['x-amz-target'] === 'secretsmanager.PutSecretValue' &&
          (request.body as { SecretId?: string }).SecretId === awsSecretOf(setup, label),
      )
      .map((request) => (request.body as { ClientRequestToken?: string }).ClientRequestToken)
    expect(tokens.length).toBeGreaterThanOrEqual(1)
    expect(new Set(tokens)).toEqual(new Set([versions[1]?.id]))
    awsTokens.add(versions[1]?.id)
    expect(setup.aws.control.value(awsSecretOf(setup, label), 'AWSPREVIOUS')).toBe(
      `previous-${label}-value`,
    )
    // Kubernetes: the entry, and the restarted Deployment's pods run with it.
    expect(held[variable]).toBe(secret)
    expect(web?.runningWith[variable]).toBe(secret)
    // Vault: one version written, the other field kept.
    expect(setup.vault.control.versions(vaultPathOf(label)).map((version) => version.data)).toEqual(
      [
        { OTHER_FIELD: `untouched-vault-${label}` },
        { OTHER_FIELD: `untouched-vault-${label}`, [variable]: secret },
      ],
    )
    expect(kubernetesWritesOf(setup, label)).toBe(1)
    secrets.push(secret as string)
  }
  expect(new Set(secrets).size).toBe(LABELS.length)
  expect(awsTokens.size).toBe(LABELS.length)
  // One restart per key, of the one Deployment named.
  expect(web?.rollouts).toBe(LABELS.length)
  expect(setup.kube.control.deployment(NAMESPACE, LEFT_ALONE)?.rollouts).toBe(0)
  expect(setup.kube.control.secretWrites).toBe(LABELS.length)
  expect(Object.keys(held).sort()).toEqual(
    ['DATABASE_URL', ...LABELS.map((label) => variableOf(label, setup.before[label]))].sort(),
  )
  expect(held.DATABASE_URL).toBe('untouched-kubernetes-value')
  expect(setup.aws.control.versionsPut).toBe(LABELS.length)
  expect(setup.aws.control.names().sort()).toEqual(
    ['other/database', ...LABELS.map((label) => awsSecretOf(setup, label))].sort(),
  )
  expect(setup.aws.control.versions('other/database')?.map((version) => version.value)).toEqual([
    'untouched-aws-value',
  ])
  expect(setup.vault.control.writes).toBe(LABELS.length)
  return secrets
}

/**
 * Places where a secret could be stored in the clear: DBOS's workflow and step records,
 * keyway's journal and what the workers printed, as text. No secret, nor any 8 characters of
 * one in a row, may be there.
 */
async function expectNoSecretStored(
  setup: Setup,
  secrets: readonly string[],
  logs: readonly string[],
): Promise<void> {
  const rows = await setup.db.query<{ text: string }>(
    `SELECT row_to_json(t)::text AS text FROM dbos.workflow_status t
     UNION ALL SELECT row_to_json(t)::text FROM dbos.operation_outputs t
     UNION ALL SELECT row_to_json(t)::text FROM keyway.rotations t`,
  )
  const text = [...rows.rows.map((row) => row.text), ...logs].join('\n')
  expect(text.length).toBeGreaterThan(1000)
  const found: string[] = []
  for (const secret of secrets) {
    for (let at = 0; at + 8 <= secret.length; at++) {
      if (text.includes(secret.slice(at, at + 8)))
        found.push(`${secret.length}-character secret at ${at}`)
    }
  }
  expect(found).toEqual([])
  expect(await leakedCredentials(setup)).toEqual([])
  const sealed = await setup.db.query('SELECT count(*)::int AS n FROM keyway.sealed_secrets')
  expect(sealed.rows[0].n).toBe(0)
}

const EACH_STEP = [
  'open',
  'create',
  'write aws',
  'write kubernetes',
  'write vault',
  'propagate aws',
  'propagate kubernetes',
  'propagate vault',
  'confirm aws',
  'confirm kubernetes',
  'confirm vault',
  'deliver',
  'verify',
  'retire',
]

async function expectEveryStep(setup: Setup): Promise<void> {
  for (const label of LABELS) {
    const steps =
      (await setup.client.listWorkflowSteps(
        rotationWorkflowId('nightly', label, setup.before[label]),
      )) ?? []
    expect(steps.map((step) => step.name)).toEqual(EACH_STEP)
  }
}

async function enqueueAll(worker: WorkerProcess, setup: Setup): Promise<void> {
  for (const label of LABELS) {
    await worker.send({ type: 'enqueue', batchId: 'nightly', label, keyIds: [setup.before[label]] })
  }
}

async function expectOldKeysLive(setup: Setup): Promise<void> {
  for (const label of LABELS) {
    expect(await rotatableIds(storeOf(setup.fleet, label))).toContain(setup.before[label])
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('durable rotations delivering to AWS Secrets Manager, Kubernetes and Vault', () => {
  it('writes each target once, waits for the restarted rollout with the old key still working, and retires it after every confirm; no secret is stored in the clear', async () => {
    const setup = await setUp('cloud_plain')
    let worker: WorkerProcess | undefined
    const logs: string[] = []
    try {
      // Every restart's rollout is held until released here.
      setup.kube.control.nextRollouts(NAMESPACE, RESTARTED, 'stuck', LABELS.length)
      worker = await startWorker(
        {
          executorId: 'worker-a',
          databaseUrl: setup.url,
          sealingKey: testSealingKey(),
          stores: setup.stores,
          targets: setup.targets,
        },
        logs,
      )
      await enqueueAll(worker, setup)
      let held = 0
      for (;;) {
        const ended = await setup.client.listWorkflows({
          workflow_id_prefix: `${ROTATION_WORKFLOW_PREFIX}nightly/`,
          status: ['SUCCESS', 'ERROR'],
        })
        if (ended.length === LABELS.length) break
        const web = setup.kube.control.deployment(NAMESPACE, RESTARTED)
        if (web !== undefined && !web.complete) {
          // A rollout is held, its key written everywhere: that key's old one still works.
          const waiting = LABELS.filter(
            (label) =>
              setup.kube.control.secret(NAMESPACE, SECRET)?.[
                variableOf(label, setup.before[label])
              ] !== undefined,
          )
          expect(waiting.length).toBeGreaterThanOrEqual(1)
          // No rollout has completed yet, so no key can have been retired.
          if (held === 0) await expectOldKeysLive(setup)
          held++
          await pause(300)
          // The other key's restart may start a rollout meanwhile; no key restarts twice.
          expect(setup.kube.control.deployment(NAMESPACE, RESTARTED)?.rollouts).toBeLessThanOrEqual(
            LABELS.length,
          )
          setup.kube.control.release(NAMESPACE, RESTARTED)
        }
        await pause(100)
      }
      expect(held).toBeGreaterThanOrEqual(1)
      const runs = await setup.client.listWorkflows({
        workflow_id_prefix: ROTATION_WORKFLOW_PREFIX,
      })
      expect(runs.map((run) => run.status)).toEqual(LABELS.map(() => 'SUCCESS'))
      for (const run of runs) {
        expect((run.output as { deliveries: unknown[] }).deliveries).toEqual([
          expect.objectContaining({ target: 'aws', holds: 'new', progress: 'confirmed' }),
          expect.objectContaining({ target: 'kubernetes', holds: 'new', progress: 'confirmed' }),
          expect.objectContaining({ target: 'vault', holds: 'new', progress: 'confirmed' }),
        ])
      }
      const secrets = await expectDelivered(setup)
      await expectEveryStep(setup)
      await expectNoSecretStored(setup, secrets, logs)
    } finally {
      await worker?.send({ type: 'stop' }).catch(() => {})
      await setup.close()
    }
  }, 120_000)

  // A worker killed inside a target's step: after AWS answered a write (before core journalled
  // it), after a restart was sent (maybe before the other key's restart of the same Deployment),
  // while waiting for the rollout, and before Vault's confirm.
  // The other worker finishes the rotations; each target was written (and restarted) once per key.
  const cuts: Array<{
    target: 'aws' | 'kubernetes' | 'vault'
    phase: TargetPhase
    when: 'before' | 'after'
  }> = [
    { target: 'aws', phase: 'write', when: 'after' },
    { target: 'kubernetes', phase: 'propagate', when: 'after' },
    { target: 'kubernetes', phase: 'confirm', when: 'before' },
    { target: 'vault', phase: 'confirm', when: 'before' },
  ]
  it.each(cuts)(
    'a worker killed $when the $phase of $target: the other finishes, each target written once, the old key retired after every confirm',
    async (cut) => {
      const setup = await setUp(`cloud_${cut.target}_${cut.phase}_${cut.when}`)
      const sealingKey = testSealingKey()
      let b: WorkerProcess | undefined
      const logs: string[] = []
      try {
        const crashNote = join(await mkdtemp(join(tmpdir(), 'keyway-crash-')), 'rotation-id')
        const a = await startWorker(
          {
            executorId: 'worker-a',
            databaseUrl: setup.url,
            sealingKey,
            stores: setup.stores,
            targets: setup.targets,
            crashAtTarget: { ...cut, nth: 1 },
            crashNote,
          },
          logs,
        )
        await enqueueAll(a, setup)
        expect(await a.exited).toBe('SIGKILL')
        const cutOff = await readFile(crashNote, 'utf8')
        // Nothing retired yet: the cut-off rotation had confirms to go.
        const [label] = LABELS.filter(
          (each) => rotationWorkflowId('nightly', each, setup.before[each]) === cutOff,
        )
        expect(await rotatableIds(storeOf(setup.fleet, label as Label))).toContain(
          setup.before[label as Label],
        )
        b = await startWorker(
          {
            executorId: 'worker-b',
            databaseUrl: setup.url,
            sealingKey,
            stores: setup.stores,
            targets: setup.targets,
          },
          logs,
        )
        await b.send({ type: 'recover', executorId: 'worker-a' })
        await waitForEnded(setup.client, `${ROTATION_WORKFLOW_PREFIX}nightly/`, LABELS.length)
        const runs = await setup.client.listWorkflows({
          workflow_id_prefix: ROTATION_WORKFLOW_PREFIX,
        })
        expect(runs.map((run) => run.status)).toEqual(LABELS.map(() => 'SUCCESS'))
        const secrets = await expectDelivered(setup)
        await expectEveryStep(setup)
        // The step cut off was run again on worker B, opening the rotation from the journal.
        const steps = (await setup.client.listWorkflowSteps(cutOff)) ?? []
        const rerun = steps.find((step) => step.name === `${cut.phase} ${cut.target}`)
        expect((rerun?.output as TargetCheckpoint | undefined)?.reopened).toBe(true)
        expect(runs.find((run) => run.workflowID === cutOff)?.executorId).toBe('worker-b')
        await expectNoSecretStored(setup, secrets, logs)
      } finally {
        await b?.send({ type: 'stop' }).catch(() => {})
        await setup.close()
      }
    },
    120_000,
  )
})
