// Rotations of two vendors' keys delivered to AWS Secrets Manager, a Kubernetes Secret (with a
// rollout restart of one Deployment) and Vault KV v2, each target's write, propagate and confirm
// a checkpointed DBOS step of its own, against the real Postgres, the vendors' emulators and the
// three target emulators, with worker processes killed with SIGKILL inside the target steps.
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
import { ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { rotatableIds, storeOf, variableOf } from './fleet.js'
import { enqueueAll, LABELS, type Label, type TargetSetup, targetSuite } from './target-kills.js'
import type { CloudTargets } from './worker.js'

const NAMESPACE = 'apps'
const SECRET = 'app-keys'
/** The Deployment restarted after each write, and one that reads the same Secret and is not. */
const RESTARTED = 'web'
const LEFT_ALONE = 'batch'

interface Setup extends TargetSetup {
  aws: AwsSecretsManagerEmulator
  kube: TargetEmulator<KubernetesEmulatorControl>
  vault: TargetEmulator<VaultEmulatorControl>
  targets: CloudTargets
}

const awsSecretOf = (setup: Setup, label: Label) => `keys/${variableOf(label, setup.before[label])}`
const vaultPathOf = (label: Label) => `apps/${label}`

async function setUp(harness: Omit<TargetSetup, 'targets'>): Promise<Setup> {
  const aws = await startAwsSecretsManagerEmulator()
  const kube = await startKubernetesEmulator()
  const vault = await startVaultEmulator()
  const { before } = harness
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

async function expectOldKeysLive(setup: Setup): Promise<void> {
  for (const label of LABELS) {
    expect(await rotatableIds(storeOf(setup.fleet, label))).toContain(setup.before[label])
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const suite = targetSuite(usePostgres(), {
  database: 'cloud',
  targets: ['aws', 'kubernetes', 'vault'],
  steps: EACH_STEP,
  setUp,
  expectDelivered,
})

describe('durable rotations delivering to AWS Secrets Manager, Kubernetes and Vault', () => {
  it('writes each target once, waits for the restarted rollout with the old key still working, and retires it after every confirm; no secret is stored in the clear', async () => {
    await suite.run('plain', async (setup, workers) => {
      // Every restart's rollout is held until released here.
      setup.kube.control.nextRollouts(NAMESPACE, RESTARTED, 'stuck', LABELS.length)
      await enqueueAll(await workers.start('worker-a'), setup)
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
      await suite.expectFinished(setup)
    })
  }, 120_000)

  suite.itRecoversFromEachKill()
})
