// `keyway plan`, `apply` and `audit` of a fleet of two vendors delivering to AWS Secrets
// Manager, a Kubernetes Secret (with a rollout restart) and Vault, through the built CLI,
// against the emulators: the old key is retired only after every target confirmed.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AwsSecretsManagerEmulator,
  type Emulator,
  type KubernetesEmulatorControl,
  startAwsSecretsManagerEmulator,
  startEmulator,
  startKubernetesEmulator,
  startVaultEmulator,
  type TargetEmulator,
  type VaultEmulatorControl,
} from '@keyway/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { expectEmulateEnv, keyway, type Run, STATE_HOME } from './cli.test-support.js'
import {
  applyKilledAt,
  expectNoSecretOnDisk,
  type KillPoint,
  latitudeConfig,
  plannedTargets,
  startLatitude,
  until,
} from './kill-resume.test-support.js'

const DAY = 86_400_000
const NAMESPACE = 'prod'

let folder: string
let latitude: Emulator
let openrouter: Emulator
let aws: AwsSecretsManagerEmulator
let kube: TargetEmulator<KubernetesEmulatorControl>
let vault: TargetEmulator<VaultEmulatorControl>
let env: Record<string, string>
let latKey: { id: string; secret: string }
let orKey: { id: string; secret: string }

/** Each store's one due key goes to its own AWS secret, a data entry of one Secret, a Vault field. */
function config() {
  const targets = (secretId: string, key: string, restart: string[]) => [
    { kind: 'aws-secrets-manager', secretId, confirmIntervalMs: 0 },
    {
      kind: 'kubernetes-secret',
      namespace: NAMESPACE,
      secret: 'app-keys',
      key,
      ...(restart.length === 0 ? {} : { restart }),
      confirmIntervalMs: 5,
    },
    { kind: 'vault-kv', path: 'web/prod', key },
  ]
  return latitudeConfig(targets('prod/latitude', 'LATITUDE_KEY', ['web']), {
    store: {
      label: 'or',
      vendor: 'openrouter',
      credentials: { managementKey: 'OR_MANAGEMENT_KEY' },
      baseUrlEnv: 'OR_URL',
    },
    targets: targets('prod/openrouter', 'OPENROUTER_KEY', []),
  })
}

const run = (args: string[], extra: Record<string, string> = {}): Promise<Run> =>
  keyway(args, { ...env, ...extra }, folder)

const awsValue = (secretId: string) => aws.control.value(secretId)
const kubeValue = (key: string) => kube.control.secret(NAMESPACE, 'app-keys')?.[key]
const vaultValue = (key: string) => vault.control.read('web/prod')?.[key] as string | undefined

/** Every secret this test knows: none may appear in any output or the journal. */
function secrets(): string[] {
  const delivered = [
    awsValue('prod/latitude'),
    awsValue('prod/openrouter'),
    kubeValue('LATITUDE_KEY'),
    kubeValue('OPENROUTER_KEY'),
    vaultValue('LATITUDE_KEY'),
    vaultValue('OPENROUTER_KEY'),
  ].filter((value): value is string => value !== undefined)
  return [
    latKey.secret,
    orKey.secret,
    ...delivered,
    aws.settings.secretAccessKey,
    aws.settings.sessionToken,
    kube.settings.token,
    vault.settings.token,
    env.LATITUDESH_BEARER as string,
    env.OR_MANAGEMENT_KEY as string,
  ]
}

function expectNoSecret(text: string): void {
  for (const secret of secrets()) expect(text).not.toContain(secret)
}

/**
 * A rotation waiting on web's rollout reads the Deployment again and again; the rollout is
 * not done, so the Latitude key's old secret still works and nothing was deleted there.
 */
async function expectWaitingOnRollout(): Promise<void> {
  const reads = () =>
    kube.requests.filter(
      (request) => request.method === 'GET' && request.path.endsWith('/deployments/web'),
    ).length
  const before = reads()
  await until(() => reads() >= before + 3)
  expect(kube.control.deployment(NAMESPACE, 'web')?.complete).toBe(false)
  expect(latitude.control.works(latKey.secret)).toBe(true)
  expect(latitude.requests.filter((request) => request.method === 'DELETE')).toEqual([])
}

/**
 * After the batch: each target holds its store's new key, one the vendor accepts, and web's
 * rollout ran with it; the old keys are gone; what else lives at each place is untouched.
 */
function expectRotatedEverywhere(): void {
  const latNew = awsValue('prod/latitude') as string
  const orNew = awsValue('prod/openrouter') as string
  expect(latitude.control.works(latNew)).toBe(true)
  expect(openrouter.control.works(orNew)).toBe(true)
  expect([kubeValue('LATITUDE_KEY'), vaultValue('LATITUDE_KEY')]).toEqual([latNew, latNew])
  expect([kubeValue('OPENROUTER_KEY'), vaultValue('OPENROUTER_KEY')]).toEqual([orNew, orNew])
  expect(latitude.control.works(latKey.secret)).toBe(false)
  expect(openrouter.control.works(orKey.secret)).toBe(false)
  const web = kube.control.deployment(NAMESPACE, 'web')
  expect(web?.complete).toBe(true)
  expect(web?.runningWith.LATITUDE_KEY).toBe(latNew)
  expect(kubeValue('DATABASE_URL')).toBe('postgres://other')
  expect(vaultValue('DATABASE_URL')).toBe('postgres://other')
}

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'keyway-cloud-targets-'))
  const lat = await startLatitude()
  latitude = lat.emulator
  openrouter = await startEmulator('openrouter', { seedKeys: 0, rateLimit: false })
  aws = await startAwsSecretsManagerEmulator()
  kube = await startKubernetesEmulator()
  vault = await startVaultEmulator()
  const createdAt = new Date(Date.now() - 120 * DAY)
  latKey = latitude.control.seedKey({ name: 'app-api', type: 'live', createdAt })
  orKey = openrouter.control.seedKey({ name: 'app-chat', createdAt })
  aws.control.seedSecret('prod/latitude', 'placeholder-before-rotation')
  aws.control.seedSecret('prod/openrouter', 'placeholder-before-rotation')
  kube.control.seedSecret(NAMESPACE, 'app-keys', { DATABASE_URL: 'postgres://other' })
  kube.control.seedDeployment(NAMESPACE, 'web', { secret: 'app-keys', replicas: 2 })
  vault.control.seed('web/prod', { DATABASE_URL: 'postgres://other' })
  env = {
    ...lat.env,
    OR_URL: openrouter.settings.baseUrl as string,
    OR_MANAGEMENT_KEY: openrouter.settings.managementKey as string,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    AWS_REGION: aws.settings.region,
    AWS_ACCESS_KEY_ID: aws.settings.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.settings.secretAccessKey,
    AWS_SESSION_TOKEN: aws.settings.sessionToken,
    KUBERNETES_API_URL: kube.url,
    KUBERNETES_TOKEN: kube.settings.token,
    VAULT_ADDR: vault.url,
    VAULT_TOKEN: vault.settings.token,
  }
  await writeFile(join(folder, 'keyway.config.json'), JSON.stringify(config(), null, 2))
})

afterEach(async () => {
  await Promise.all([latitude, openrouter, aws, kube, vault].map((emulator) => emulator.close()))
  await rm(folder, { recursive: true, force: true })
})

describe('keyway apply to AWS Secrets Manager, Kubernetes and Vault', () => {
  it('plans, delivers, waits for the rollout, retires the old keys only after every confirm, and audits', async () => {
    const plan = await run(['plan', '--json'])
    expect(plannedTargets(plan)).toEqual([
      [
        'app-api',
        [
          'aws-secrets-manager:prod/latitude',
          'kubernetes-secret:prod/app-keys#LATITUDE_KEY',
          'vault-kv:secret/web/prod#LATITUDE_KEY',
        ],
      ],
      [
        'app-chat',
        [
          'aws-secrets-manager:prod/openrouter',
          'kubernetes-secret:prod/app-keys#OPENROUTER_KEY',
          'vault-kv:secret/web/prod#OPENROUTER_KEY',
        ],
      ],
    ])
    const text = await run(['plan'])
    expect(text.code, text.stderr).toBe(0)
    for (const line of [
      `secret prod/latitude in ${aws.settings.region} (aws-secrets-manager)`,
      'confirm: reads the new version back by its id: the value, and that it is AWSCURRENT',
      'namespace prod, Secret app-keys, key LATITUDE_KEY (kubernetes-secret)',
      'then:    restarts deployment web (as kubectl rollout restart)',
      'KV v2 secret secret/web/prod, field OPENROUTER_KEY (vault-kv)',
      // Without a restart, the plan says what it cannot confirm.
      'cannot confirm: that running pods use the new key: pods reading it as an environment variable need a restart (set restart)',
    ])
      expect(text.stdout).toContain(line)
    for (const emulator of [aws, kube, vault])
      expect(emulator.requests.filter((request) => request.method !== 'GET')).toEqual([])
    expectNoSecret(plan.stdout + plan.stderr + text.stdout + text.stderr)

    // Hold the rollout of web: the rotation waits for it before retiring the old key.
    kube.control.nextRollouts(NAMESPACE, 'web', 'stuck')
    const applied = run(['apply', '--yes', '--batch-id', 'night-1'])
    await until(
      () =>
        kube.control.deployment(NAMESPACE, 'web')?.annotations[
          'kubectl.kubernetes.io/restartedAt'
        ] !== undefined,
      () => JSON.stringify(kube.control.deployment(NAMESPACE, 'web')),
    )
    await until(() => vaultValue('LATITUDE_KEY') !== undefined)
    // The new key is written and the restart begun, the rollout not done: the old key lives.
    await expectWaitingOnRollout()
    kube.control.release(NAMESPACE, 'web')
    const result = await applied
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/batch night-1: 2 rotated, 0 failed, 0 skipped$/m)

    expectRotatedEverywhere()
    const web = kube.control.deployment(NAMESPACE, 'web')
    // One new AWS version per secret, signed with the session token from the env.
    expect(aws.control.versionsPut).toBe(2)
    expect(kube.control.secretWrites).toBe(2)
    const signed = aws.requests.filter((request) => request.method === 'POST')
    expect(signed.length).toBeGreaterThan(0)
    for (const request of signed)
      expect(request.headers['x-amz-security-token'], JSON.stringify(request.headers)).toBeDefined()

    const journal = await readFile(join(folder, 'journal.json'), 'utf8')
    expectNoSecret(result.stdout + result.stderr + journal)

    // The same night again: done, nothing written anywhere.
    const written = () => [aws.control.versionsPut, vault.control.writes, kube.control.secretWrites]
    const before = written()
    const again = await run(['apply', '--yes', '--batch-id', 'night-1'])
    expect(again.code, again.stderr).toBe(0)
    expect(written()).toEqual(before)
    expect(kube.control.deployment(NAMESPACE, 'web')?.generation).toBe(web?.generation)

    // The audit probes all three kinds of target, writing nothing.
    const writesBefore = [aws.control.versionsPut, vault.control.writes]
    const audit = await run(['audit', '--json'])
    const audited = JSON.parse(audit.stdout) as {
      targets: Array<{ label: string; kind: string; where: string; status: string }>
    }
    expect(
      audited.targets.map((target) => [target.label, target.kind, target.where, target.status]),
    ).toEqual([
      ['lat', 'aws-secrets-manager', 'prod/latitude', 'reachable'],
      ['lat', 'kubernetes-secret', 'prod/app-keys#LATITUDE_KEY', 'reachable'],
      ['lat', 'vault-kv', 'secret/web/prod#LATITUDE_KEY', 'reachable'],
      ['or', 'aws-secrets-manager', 'prod/openrouter', 'reachable'],
      ['or', 'kubernetes-secret', 'prod/app-keys#OPENROUTER_KEY', 'reachable'],
      ['or', 'vault-kv', 'secret/web/prod#OPENROUTER_KEY', 'reachable'],
    ])
    expect([aws.control.versionsPut, vault.control.writes]).toEqual(writesBefore)
    expectNoSecret(audit.stdout + audit.stderr)
  })

  it('signs AWS requests with the static keys of the shared profile a target names; no key env vars needed', async () => {
    const credentials = join(folder, 'aws-credentials')
    await writeFile(
      credentials,
      `[deploy]\naws_access_key_id = ${aws.settings.accessKeyId}\naws_secret_access_key = ${aws.settings.secretAccessKey}\naws_session_token = ${aws.settings.sessionToken}\n`,
    )
    const withProfile = config()
    for (const store of withProfile.stores)
      for (const target of store.targets)
        if (target.kind === 'aws-secrets-manager') Object.assign(target, { profile: 'deploy' })
    await writeFile(join(folder, 'keyway.config.json'), JSON.stringify(withProfile))
    const result = await run(['apply', '--yes'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: join(folder, 'no-aws-config'),
    })
    expect(result.code, result.stderr).toBe(0)
    expect(aws.control.versionsPut).toBe(2)
    expect(awsValue('prod/latitude')).toBe(kubeValue('LATITUDE_KEY'))
    expect(awsValue('prod/openrouter')).toBe(kubeValue('OPENROUTER_KEY'))
    expectNoSecret(result.stdout + result.stderr)
    // A profile that the file does not hold is refused before anything is sent.
    await writeFile(
      join(folder, 'keyway.config.json'),
      JSON.stringify({
        ...withProfile,
        stores: withProfile.stores.map((store) => ({
          ...store,
          targets: store.targets.map((target) =>
            target.kind === 'aws-secrets-manager' ? { ...target, profile: 'missing' } : target,
          ),
        })),
      }),
    )
    const requestsBefore = aws.requests.length
    const refused = await run(['plan'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: join(folder, 'no-aws-config'),
    })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('profile "missing" is not in')
    expect(aws.requests).toHaveLength(requestsBefore)
  })

  it('refuses, before anything is sent, a config whose AWS_ACCESS_KEY_ID is not set (exit 4)', async () => {
    const result = await run(['apply', '--yes'], { AWS_ACCESS_KEY_ID: '' })
    expect(result.code).toBe(4)
    expect(result.stderr).toContain(
      'keyway.config.json: stores[0].targets[0].accessKeyIdEnv: env var AWS_ACCESS_KEY_ID is not set',
    )
    for (const emulator of [latitude, openrouter, aws, kube, vault])
      expect(emulator.requests).toEqual([])
  })

  it.each<{
    why: string
    env: Record<string, string>
    change: Record<string, unknown>
    message: string
    code: number
  }>([
    {
      why: 'Kubernetes token auth without KUBERNETES_TOKEN',
      env: { KUBERNETES_TOKEN: '' },
      change: {},
      message: 'stores[0].targets[1].tokenEnv: env var KUBERNETES_TOKEN is not set',
      code: 4,
    },
    {
      why: 'a Vault target without VAULT_ADDR',
      env: { VAULT_ADDR: '' },
      change: {},
      message: 'stores[0].targets[2].baseUrlEnv: env var VAULT_ADDR is not set',
      code: 1,
    },
    {
      why: 'a "variable" on a target that names its own key',
      env: {},
      change: { variable: 'LATITUDE_{NAME}' },
      message:
        'stores[0].targets[2].variable: this kind takes no variable: use `key`: the field at `path` that holds the key',
      code: 1,
    },
    {
      why: 'an AWS region that is not one',
      env: { AWS_REGION: 'Frankfurt' },
      change: {},
      message: 'stores[0].targets[0].region: an AWS region such as eu-west-1; or set AWS_REGION',
      code: 1,
    },
  ])('refuses $why before anything is sent', async ({ env: extra, change, message, code }) => {
    const changed = config()
    Object.assign(changed.stores[0]?.targets[2] ?? {}, change)
    await writeFile(join(folder, 'keyway.config.json'), JSON.stringify(changed, null, 2))
    const result = await run(['apply', '--yes'], extra)
    expect(result.stderr).toContain(message)
    expect(result.code).toBe(code)
    for (const emulator of [latitude, openrouter, aws, kube, vault])
      expect(emulator.requests).toEqual([])
    expectNoSecret(result.stdout + result.stderr)
  })

  it('keyway emulate aws, kubernetes and vault print the env lines a config reads', async () => {
    for (const [service, names] of [
      [
        'aws',
        [
          'AWS_ENDPOINT_URL_SECRETS_MANAGER',
          'AWS_REGION',
          'AWS_ACCESS_KEY_ID',
          'AWS_SECRET_ACCESS_KEY',
          'AWS_SESSION_TOKEN',
        ],
      ],
      ['kubernetes', ['KUBERNETES_API_URL', 'KUBERNETES_TOKEN']],
      ['vault', ['VAULT_ADDR', 'VAULT_TOKEN']],
    ] as const) {
      await expectEmulateEnv(service, names)
    }
  })
})

describe('keyway apply to AWS, Kubernetes and Vault: killed and resumed', () => {
  /** Where a run is killed: each point holds one request, which lands after the kill. */
  const points = (): KillPoint[] => [
    {
      name: 'after the AWS write, while the Secret patch is held',
      emulator: kube,
      match: { method: 'PATCH', path: /\/secrets\/app-keys$/ },
    },
    {
      name: 'after the Secret patch, while the Vault write is held',
      emulator: vault,
      match: { method: 'POST', path: /^\/v1\/secret\/data\/web\/prod$/ },
    },
    {
      name: 'after every write, while the rollout restart is held',
      emulator: kube,
      match: { method: 'PATCH', path: /\/deployments\/web$/ },
    },
  ]
  const creates = (emulator: Emulator, path: RegExp) =>
    emulator.requests.filter((request) => request.method === 'POST' && path.test(request.path))
      .length

  it.each([0, 1, 2])(
    'kill point %i: the resume writes each place at most once, makes no second key, and retires the old keys only after every confirm',
    async (index) => {
      const point = points()[index] as KillPoint
      // Every rollout of web stays in progress until released: the resume must wait for it.
      kube.control.nextRollouts(NAMESPACE, 'web', 'stuck', 2)
      const rolloutsBefore = kube.control.deployment(NAMESPACE, 'web')?.rollouts ?? 0
      await applyKilledAt(point, { folder, env, batchId: 'night-9' })
      expect(latitude.control.works(latKey.secret), point.name).toBe(true)
      expect(creates(latitude, /^\/auth\/api_keys$/)).toBe(1)

      const resumed = run(['apply', '--yes', '--batch-id', 'night-9'])
      // The resume waits on web's rollout: the Latitude key's old secret still works, and
      // nothing was deleted there.
      await until(
        () => kube.control.deployment(NAMESPACE, 'web')?.rollouts === rolloutsBefore + 1,
        () => JSON.stringify(kube.control.deployment(NAMESPACE, 'web')),
      )
      await expectWaitingOnRollout()
      kube.control.release(NAMESPACE, 'web')
      const result = await resumed
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).not.toContain('warning')

      // One new key per old key, and each place written once: one AWS version per secret,
      // one patch per Secret entry, one Vault version per field, one restart of web.
      expect(creates(latitude, /^\/auth\/api_keys$/)).toBe(1)
      expect(creates(openrouter, /\/keys$/)).toBe(1)
      expect(aws.control.versionsPut).toBe(2)
      expect(kube.control.secretWrites).toBe(2)
      expect(vault.control.writes).toBe(2)
      expect(kube.control.deployment(NAMESPACE, 'web')?.rollouts).toBe(rolloutsBefore + 1)
      expectRotatedEverywhere()
      // Nothing stays sealed, and no file holds a secret.
      await expect(
        readFile(join(folder, 'journal.json.sealed.json'), 'utf8'),
      ).rejects.toMatchObject({ code: 'ENOENT' })
      await expectNoSecretOnDisk([folder, STATE_HOME], secrets())
      expectNoSecret(result.stdout + result.stderr)
    },
  )
})
