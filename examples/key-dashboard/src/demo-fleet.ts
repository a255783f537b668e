import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROVIDERS } from '@keyway/cli'
import { descriptorEnv } from '@keyway/core/adapter'
import {
  type AwsSecretsManagerEmulator,
  type Emulator,
  type GitHubEmulatorControl,
  type KubernetesEmulatorControl,
  OPENAI_EMULATED_PROJECT,
  startAwsSecretsManagerEmulator,
  startEmulator,
  startGitHubEmulator,
  startKubernetesEmulator,
  startVaultEmulator,
  startVercelEmulator,
  type TargetEmulator,
  type VaultEmulatorControl,
  type Vendor,
  type VercelEmulatorControl,
} from '@keyway/testkit'

const DAY_MS = 86_400_000

/** One store of the demo: its label, vendor, seeded keys and delivery targets. */
interface DemoStore {
  label: string
  vendor: Vendor
  /** Keys seeded at the emulator, by name and age in days (NoteDx keys have no names). */
  keys: ReadonlyArray<{ name: string; ageDays: number }>
  targets: ReadonlyArray<Record<string, unknown>>
  /** Settings of the emulator itself (OpenAI: a project's keys rather than admin keys). */
  emulator?: { seedKind?: 'admin' | 'project' }
}

/** Targets wait this long between two checks of a redeploy or rollout. */
const POLL = { confirmIntervalMs: 100 }

/**
 * Two stores (accounts) of every vendor, their keys going to every kind of delivery target a
 * config can name. Anthropic's API cannot create keys, so its stores have none: the plan says
 * so; the second NoteDx store has none either, so a rotation there shows the secret once.
 */
const STORES: readonly DemoStore[] = [
  {
    label: 'openrouter-prod',
    vendor: 'openrouter',
    keys: [
      { name: 'app-backend', ageDays: 120 },
      { name: 'app-worker', ageDays: 30 },
    ],
    targets: [
      {
        kind: 'github',
        repository: 'acme/app',
        environment: 'production',
        variable: 'OPENROUTER_{NAME}',
        ...POLL,
      },
      {
        kind: 'vercel',
        project: 'web',
        teamIdEnv: 'VERCEL_TEAM_ID',
        redeploy: true,
        variable: 'OPENROUTER_{NAME}',
        ...POLL,
      },
    ],
  },
  {
    label: 'openrouter-staging',
    vendor: 'openrouter',
    keys: [{ name: 'app-staging', ageDays: 40 }],
    targets: [{ kind: 'dotenv', path: 'staging.env', variable: '{LABEL}_{NAME}' }],
  },
  {
    label: 'latitudesh-prod',
    vendor: 'latitudesh',
    keys: [
      { name: 'app-api', ageDays: 200 },
      { name: 'app-ci', ageDays: 10 },
    ],
    targets: [
      {
        kind: 'kubernetes-secret',
        namespace: 'prod',
        secret: 'app-keys',
        key: 'LATITUDE_API',
        restart: ['web'],
        keys: { name: 'app-api' },
        ...POLL,
      },
      {
        kind: 'aws-secrets-manager',
        secretId: 'prod/latitude-ci',
        keys: { name: 'app-ci' },
        ...POLL,
      },
    ],
  },
  {
    label: 'latitudesh-staging',
    vendor: 'latitudesh',
    keys: [{ name: 'app-web', ageDays: 60 }],
    targets: [
      { kind: 'vault-kv', path: 'web/staging', key: 'LATITUDE_KEY', keys: { name: 'app-web' } },
    ],
  },
  {
    label: 'notedx-prod',
    vendor: 'notedx',
    keys: [{ name: '', ageDays: 120 }],
    targets: [{ kind: 'dotenv', path: 'notedx.env', variable: '{PROVIDER}_{ID}' }],
  },
  { label: 'notedx-lab', vendor: 'notedx', keys: [{ name: '', ageDays: 5 }], targets: [] },
  {
    label: 'voiceable-prod',
    vendor: 'voiceable',
    keys: [{ name: 'app-voice', ageDays: 100 }],
    targets: [
      {
        kind: 'exec',
        // Stands in for a deploy hook: takes the secret on stdin, records only the variable's name.
        command: 'cat > /dev/null && echo "$KEYWAY_VAR_NAME" >> delivered-names.log',
        variable: 'VOICEABLE_{NAME}',
      },
    ],
  },
  {
    label: 'voiceable-staging',
    vendor: 'voiceable',
    keys: [{ name: 'app-voice-staging', ageDays: 20 }],
    targets: [
      {
        kind: 'vault-kv',
        path: 'voice/staging',
        key: 'VOICEABLE_KEY',
        keys: { name: 'app-voice-staging' },
      },
    ],
  },
  {
    label: 'anthropic-prod',
    vendor: 'anthropic',
    keys: [
      { name: 'app-claude', ageDays: 150 },
      { name: 'app-eval', ageDays: 12 },
    ],
    targets: [],
  },
  {
    label: 'anthropic-research',
    vendor: 'anthropic',
    keys: [{ name: 'notebook', ageDays: 45 }],
    targets: [],
  },
  {
    label: 'openai-admin',
    vendor: 'openai',
    keys: [{ name: 'ci-admin', ageDays: 70 }],
    targets: [
      {
        kind: 'github',
        organization: 'acme',
        visibility: 'private',
        variable: 'OPENAI_{NAME}',
        ...POLL,
      },
    ],
  },
  {
    label: 'openai-project',
    vendor: 'openai',
    emulator: { seedKind: 'project' },
    keys: [{ name: 'app-assistant', ageDays: 95 }],
    targets: [
      {
        kind: 'aws-secrets-manager',
        secretId: 'prod/openai',
        keys: { name: 'app-assistant' },
        ...POLL,
      },
    ],
  },
]

/** The delivery targets' emulators of the demo. */
export interface DemoTargets {
  github: TargetEmulator<GitHubEmulatorControl>
  vercel: TargetEmulator<VercelEmulatorControl, { teamId: string }>
  aws: AwsSecretsManagerEmulator
  kubernetes: TargetEmulator<KubernetesEmulatorControl>
  vault: TargetEmulator<VaultEmulatorControl>
}

/** A running demo fleet: its config file, the env vars it names, and every emulator. */
export interface DemoFleet {
  /** The demo's `keyway.config.json`. */
  configPath: string
  /** The folder it is in (dotenv files and the command's log land here). */
  folder: string
  /** The env vars the config names: emulators' addresses and fake credentials. */
  env: Record<string, string>
  /** Each store's vendor emulator, by label. */
  emulators: ReadonlyMap<string, Emulator>
  /** The keys seeded at each store's emulator, by label, with their secrets (for tests that scan for them). */
  seeded: ReadonlyMap<string, ReadonlyArray<{ id: string; secret: string }>>
  targets: DemoTargets
  close(): Promise<void>
}

/** `OPENROUTER_PROD` from `openrouter-prod`. */
const envPrefix = (label: string) => label.toUpperCase().replace(/[^A-Z0-9]/g, '_')
/** `MANAGEMENT_KEY` from `managementKey`. */
const snake = (setting: string) => setting.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()

/**
 * Starts an emulator for every store of the demo and one of each delivery target's service,
 * and writes a `keyway.config.json` naming them (env var names only, never a credential) in a
 * new temporary folder, exactly as an operator's config names real accounts.
 */
export async function startDemoFleet(): Promise<DemoFleet> {
  const folder = await mkdtemp(join(tmpdir(), 'keyway-dashboard-'))
  const emulators = new Map<string, Emulator>()
  const seeded = new Map<string, Array<{ id: string; secret: string }>>()
  const started: Array<{ close(): Promise<void> }> = []
  const close = async () => {
    await Promise.all(started.map((emulator) => emulator.close()))
    await rm(folder, { recursive: true, force: true })
  }
  try {
    const targets = await startTargets(started)
    const env: Record<string, string> = {
      GITHUB_API_URL: targets.github.url,
      GITHUB_TOKEN: targets.github.settings.token,
      VERCEL_API_URL: targets.vercel.url,
      VERCEL_TOKEN: targets.vercel.settings.token,
      VERCEL_TEAM_ID: targets.vercel.settings.teamId,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: targets.aws.url,
      AWS_REGION: targets.aws.settings.region,
      AWS_ACCESS_KEY_ID: targets.aws.settings.accessKeyId,
      AWS_SECRET_ACCESS_KEY: targets.aws.settings.secretAccessKey,
      AWS_SESSION_TOKEN: targets.aws.settings.sessionToken,
      KUBERNETES_API_URL: targets.kubernetes.url,
      KUBERNETES_TOKEN: targets.kubernetes.settings.token,
      VAULT_ADDR: targets.vault.url,
      VAULT_TOKEN: targets.vault.settings.token,
    }
    const stores = []
    for (const demo of STORES) {
      const emulator = await startEmulator(demo.vendor, {
        seedKeys: 0,
        rateLimit: false,
        ...demo.emulator,
      })
      started.push(emulator)
      emulators.set(demo.label, emulator)
      seeded.set(
        demo.label,
        demo.keys.map((key) =>
          emulator.control.seedKey({
            ...(key.name === '' ? { type: 'live' } : { name: key.name }),
            createdAt: new Date(Date.now() - key.ageDays * DAY_MS),
          }),
        ),
      )
      // Each setting the emulator gives goes into an env var of this store's own.
      const names = descriptorEnv(PROVIDERS[demo.vendor])
      const prefix = envPrefix(demo.label)
      const credentials: Record<string, string> = {}
      for (const [setting, value] of Object.entries(emulator.settings)) {
        if (names[setting] === undefined || setting === 'baseUrl') continue
        credentials[setting] = `${prefix}_${snake(setting)}`
        env[`${prefix}_${snake(setting)}`] = value
      }
      if (demo.emulator?.seedKind === 'project') {
        credentials.project = `${prefix}_PROJECT`
        env[`${prefix}_PROJECT`] = OPENAI_EMULATED_PROJECT
      }
      env[`${prefix}_BASE_URL`] = emulator.settings.baseUrl as string
      stores.push({
        label: demo.label,
        vendor: demo.vendor,
        credentials,
        baseUrlEnv: `${prefix}_BASE_URL`,
        rotation: { retire: 'delete', graceMs: 0 },
        ...(demo.targets.length === 0 ? {} : { targets: demo.targets }),
      })
    }
    const configPath = join(folder, 'keyway.config.json')
    const config = { policy: { maxAgeDays: 90 }, stores }
    await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`)
    return { configPath, folder, env, emulators, seeded, targets, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** One emulator of each target service, seeded with what lives there beside keyway's variables. */
async function startTargets(started: Array<{ close(): Promise<void> }>): Promise<DemoTargets> {
  const github = await startGitHubEmulator()
  started.push(github)
  const vercel = await startVercelEmulator()
  started.push(vercel)
  const aws = await startAwsSecretsManagerEmulator()
  started.push(aws)
  const kubernetes = await startKubernetesEmulator()
  started.push(kubernetes)
  const vault = await startVaultEmulator()
  started.push(vault)
  github.control.seedSecret({ repository: 'acme/app' }, 'DATABASE_URL', 'postgres://app')
  vercel.control.seedEnv('web', { key: 'DATABASE_URL', value: 'postgres://app' })
  aws.control.seedSecret('prod/latitude-ci', 'placeholder-before-rotation')
  aws.control.seedSecret('prod/openai', 'placeholder-before-rotation')
  kubernetes.control.seedSecret('prod', 'app-keys', { DATABASE_URL: 'postgres://app' })
  kubernetes.control.seedDeployment('prod', 'web', { secret: 'app-keys', replicas: 2 })
  vault.control.seed('web/staging', { DATABASE_URL: 'postgres://app' })
  vault.control.seed('voice/staging', { REGION: 'eu' })
  return { github, vercel, aws, kubernetes, vault }
}
