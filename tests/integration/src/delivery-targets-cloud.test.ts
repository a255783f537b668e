import { type DeliveryTarget, memoryJournal, RotationError, rotateKey } from '@keyway/core'
import { createSecretsManagerTarget } from '@keyway/target-aws'
import { createKubernetesSecretTarget } from '@keyway/target-kubernetes'
import { createVaultKvTarget } from '@keyway/target-vault'
import {
  type Emulator,
  startAwsSecretsManagerEmulator,
  startKubernetesEmulator,
  startVaultEmulator,
} from '@keyway/testkit'
import { findSecrets, useEmulator } from '@keyway/testkit/conformance'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  events,
  expectDeliveryFailure,
  hooks,
  JOURNAL_KILL_POINTS,
  killAndResume,
  noteOldKeyAtConfirm,
} from './target-rotation.js'
import { fastRetry, seedKey, storeFor, vendors, withEmulator } from './vendors.js'

const quick = { verifyIntervalMs: 5 }

const aws = useEmulator(startAwsSecretsManagerEmulator)
const kube = useEmulator(startKubernetesEmulator)
const vault = useEmulator(startVaultEmulator)
beforeEach(() => {
  // What each place held before keyway came: the key's entry beside others keyway must not touch.
  aws.control.seedSecret(
    'prod/web',
    JSON.stringify({ API_KEY: 'before', DATABASE_URL: 'aws-untouched' }),
  )
  aws.control.seedSecret('prod/other', 'aws-other-untouched')
  kube.control.seedSecret('apps', 'web', { API_KEY: 'before', DATABASE_URL: 'kube-untouched' })
  kube.control.seedSecret('apps', 'other', { API_KEY: 'kube-other-untouched' })
  kube.control.seedDeployment('apps', 'web', { secret: 'web', replicas: 2 })
  kube.control.seedDeployment('apps', 'batch', { secret: 'other', replicas: 1 })
  vault.control.seed('web/prod', { API_KEY: 'before', DATABASE_URL: 'vault-untouched' })
  vault.control.seed('web/other', { API_KEY: 'vault-other-untouched' })
})

/**
 * The key's three consumers: a JSON field of an AWS secret, a Kubernetes Secret entry read by
 * a Deployment that is restarted, and a Vault KV field. Each confirm first notes whether the
 * old key still works at the vendor.
 */
function targetsFor(
  emulator: Emulator,
  oldSecret: string,
  oldAliveAtConfirm: boolean[],
  options: { kubeConfirmWithinMs?: number } = {},
): DeliveryTarget[] {
  const common = { retry: fastRetry, hooks }
  const targets = [
    createSecretsManagerTarget({
      ...aws.settings,
      ...common,
      secretId: 'prod/web',
      jsonKey: 'API_KEY',
      confirmIntervalMs: 5,
    }),
    createKubernetesSecretTarget({
      ...kube.settings,
      ...common,
      namespace: 'apps',
      secret: 'web',
      key: 'API_KEY',
      restart: ['web'],
      confirmIntervalMs: 1,
      ...(options.kubeConfirmWithinMs === undefined
        ? {}
        : { confirmWithinMs: options.kubeConfirmWithinMs }),
    }),
    createVaultKvTarget({ ...vault.settings, ...common, path: 'web/prod', key: 'API_KEY' }),
  ]
  return noteOldKeyAtConfirm(targets, emulator, oldSecret, oldAliveAtConfirm)
}

/** What each consumer holds now, and what the restarted Deployment runs with. */
function held() {
  return {
    aws: JSON.parse(aws.control.value('prod/web') as string).API_KEY as string,
    kube: kube.control.secret('apps', 'web')?.API_KEY,
    running: kube.control.deployment('apps', 'web')?.runningWith.API_KEY,
    vault: vault.control.read('web/prod')?.API_KEY,
  }
}

/** Everything else at the three places is as it was seeded. */
function othersUntouched() {
  expect(JSON.parse(aws.control.value('prod/web') as string).DATABASE_URL).toBe('aws-untouched')
  expect(aws.control.value('prod/other')).toBe('aws-other-untouched')
  expect(aws.control.versions('prod/other')).toHaveLength(1)
  expect(kube.control.secret('apps', 'web')?.DATABASE_URL).toBe('kube-untouched')
  expect(kube.control.secret('apps', 'other')).toEqual({ API_KEY: 'kube-other-untouched' })
  expect(kube.control.deployment('apps', 'batch')?.rollouts).toBe(0)
  expect(vault.control.read('web/prod')?.DATABASE_URL).toBe('vault-untouched')
  expect(vault.control.versions('web/other')).toHaveLength(1)
}

/** Writes each place received: AWS puts, Kubernetes Secret patches and creates, restarts, Vault writes. */
function writeRequests() {
  return {
    aws: aws.requests.filter(
      (request) => request.headers['x-amz-target'] === 'secretsmanager.PutSecretValue',
    ).length,
    kube: kube.requests.filter(
      (request) => request.method !== 'GET' && request.path.includes('/secrets'),
    ).length,
    restarts: kube.requests.filter(
      (request) => request.method === 'PATCH' && request.path.includes('/deployments/'),
    ).length,
    vault: vault.requests.filter(
      (request) => request.method === 'POST' && request.path.includes('/data/'),
    ).length,
  }
}

describe.each(vendors)(
  'rotation at %s delivered to AWS Secrets Manager, Kubernetes and Vault',
  (vendor) => {
    it('plans each target, then writes, restarts and confirms all three before the old key is retired; nothing else changes', () =>
      withEmulator(vendor, async (emulator) => {
        const store = storeFor(emulator)
        const old = seedKey(emulator)
        const alive: boolean[] = []
        const plan = await rotateKey(store, {
          keyId: old.id,
          targets: targetsFor(emulator, old.secret, alive),
          dryRun: true,
        })
        expect(
          plan.targets.map((target) => [target.kind, target.location, target.cannotConfirm]),
        ).toEqual([
          ['aws-secrets-manager', 'secret prod/web in eu-west-1, field API_KEY', null],
          ['kubernetes-secret', 'namespace apps, Secret web, key API_KEY', null],
          ['vault-kv', 'KV v2 secret secret/web/prod, field API_KEY', null],
        ])
        expect(writeRequests()).toEqual({ aws: 0, kube: 0, restarts: 0, vault: 0 })

        const result = await rotateKey(store, {
          ...quick,
          keyId: old.id,
          targets: targetsFor(emulator, old.secret, alive),
        })
        const secret = result.secret?.reveal() as string
        expect(alive).toEqual([true, true, true])
        expect(held()).toEqual({ aws: secret, kube: secret, running: secret, vault: secret })
        expect(emulator.control.works(old.secret)).toBe(false)
        expect(emulator.control.works(secret)).toBe(true)
        expect(
          result.deliveries.map((delivery) => [delivery.kind, delivery.holds, delivery.progress]),
        ).toEqual([
          ['aws-secrets-manager', 'new', 'confirmed'],
          ['kubernetes-secret', 'new', 'confirmed'],
          ['vault-kv', 'new', 'confirmed'],
        ])
        expect(writeRequests()).toEqual({ aws: 1, kube: 1, restarts: 1, vault: 1 })
        othersUntouched()
        const credentials = [
          aws.settings.secretAccessKey,
          aws.settings.sessionToken,
          kube.settings.token,
          vault.settings.token,
        ]
        expect(
          findSecrets([result.deliveries, events], [secret, old.secret, ...credentials]),
        ).toEqual([])
      }))

    it.each(JOURNAL_KILL_POINTS)(
      'a worker killed %s (%s the journal write) resumes with each target written at most once',
      (state, when) =>
        withEmulator(vendor, async (emulator) => {
          const store = storeFor(emulator)
          const old = seedKey(emulator)
          await killAndResume(store, emulator, old, { state, when }, (alive) =>
            targetsFor(emulator, old.secret, alive),
          )
          const now = held()
          expect(new Set(Object.values(now)).size).toBe(1)
          expect(emulator.control.works(now.aws)).toBe(true)
          expect(writeRequests()).toEqual({ aws: 1, kube: 1, restarts: 1, vault: 1 })
          expect([
            aws.control.versionsPut,
            kube.control.secretWrites,
            vault.control.writes,
          ]).toEqual([1, 1, 1])
          othersUntouched()
        }),
    )

    it('a rollout that never becomes ready keeps the new key and the old one live, says where each target stands, and a rerun finishes', () =>
      withEmulator(vendor, async (emulator) => {
        const store = storeFor(emulator)
        const old = seedKey(emulator)
        const journal = memoryJournal()
        const alive: boolean[] = []
        const options = { ...quick, keyId: old.id, rotationId: 'nightly-2', journal }
        kube.control.nextRollouts('apps', 'web', 'stuck')
        const { failure, newKeyId } = await expectDeliveryFailure(
          rotateKey(store, {
            ...options,
            targets: targetsFor(emulator, old.secret, alive, { kubeConfirmWithinMs: 100 }),
          }),
          journal,
          'nightly-2',
          {
            progress: [
              ['aws-secrets-manager', 'confirmed'],
              ['kubernetes-secret', 'written'],
              ['vault-kv', 'confirmed'],
            ],
            failed: 1,
            // The rollout's own check or core's deadline, whichever a loaded machine reaches first.
            reason: /did not complete|did not confirm by its deadline/,
          },
        )
        const first = held()
        // Both keys work: the stores hold the new one; the pods still run with what the Secret held before.
        expect(first.running).toBe('before')
        expect([emulator.control.works(old.secret), emulator.control.works(first.aws)]).toEqual([
          true,
          true,
        ])
        expect(findSecrets(failure, [old.secret, first.aws])).toEqual([])

        // The cause is fixed: the rollout goes on, and a rerun finishes.
        kube.control.release('apps', 'web')
        const result = await rotateKey(store, {
          ...options,
          targets: targetsFor(emulator, old.secret, alive, { kubeConfirmWithinMs: 5000 }),
        })
        const final = held()
        expect(new Set(Object.values(final)).size).toBe(1)
        expect(emulator.control.works(final.aws)).toBe(true)
        expect(emulator.control.works(old.secret)).toBe(false)
        // A key that a rerun replaced (its secret could not be had again) is retired too.
        if (result.newKeyId !== newKeyId) expect(emulator.control.works(first.aws)).toBe(false)
        expect(alive.every(Boolean)).toBe(true)
        othersUntouched()
      }))

    it('a target that keeps failing (AWS answers 500) never loses the new secret and never retires the old key', () =>
      withEmulator(vendor, async (emulator) => {
        const store = storeFor(emulator)
        const old = seedKey(emulator)
        const journal = memoryJournal()
        const alive: boolean[] = []
        aws.inject({ match: { method: 'POST' }, status: 500, times: 1000 })
        const error = await rotateKey(store, {
          ...quick,
          keyId: old.id,
          rotationId: 'nightly-3',
          journal,
          targets: targetsFor(emulator, old.secret, alive),
        }).catch((thrown: unknown) => thrown)
        expect(error).toBeInstanceOf(RotationError)
        expect(emulator.control.works(old.secret)).toBe(true)
        expect(JSON.parse(aws.control.value('prod/web') as string).API_KEY).toBe('before')
        const failure = error as RotationError
        const delivered = failure.deliveries?.filter((delivery) => delivery.holds === 'new') ?? []
        // Where a target holds the new key, the new key still works.
        const newSecrets = [held().kube, held().vault].filter(
          (value) => value !== 'before',
        ) as string[]
        for (const secret of newSecrets) expect(emulator.control.works(secret)).toBe(true)
        expect(delivered.map((delivery) => delivery.kind)).not.toContain('aws-secrets-manager')
        expect(
          findSecrets(failure, [old.secret, ...newSecrets, aws.settings.secretAccessKey]),
        ).toEqual([])
        aws.clearFaults()
        await rotateKey(store, {
          ...quick,
          keyId: old.id,
          rotationId: 'nightly-3',
          journal,
          targets: targetsFor(emulator, old.secret, alive),
        })
        const final = held()
        expect(new Set(Object.values(final)).size).toBe(1)
        expect(emulator.control.works(final.aws)).toBe(true)
        expect(emulator.control.works(old.secret)).toBe(false)
        othersUntouched()
      }))
  },
)
