import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import {
  startAwsSecretsManagerEmulator,
  startEmulator,
  startGitHubEmulator,
  startKubernetesEmulator,
  startVaultEmulator,
  startVercelEmulator,
  type TargetEmulator,
  VENDORS,
  type Vendor,
} from '@keyway/testkit'
import { CliError } from '../cli-error.js'
import type { FleetConfig } from '../config/config-schema.js'
import { configPath } from '../config/fleet-settings.js'
import { CONFIG_FILE, loadConfig } from '../config/load-config.js'
import { TARGET_KINDS, type TargetKind } from '../config/target-kinds.js'
import type { Context } from '../context.js'
import { wholeNumber } from '../flags.js'
import { json } from '../output.js'
import { PROVIDERS, providerEnv } from '../providers.js'
import { didYouMean } from '../suggest.js'
import { UsageError } from '../usage-error.js'

/** One running emulator, as `emulate` reports it. */
interface Running {
  /** The vendor, or the delivery target's service (`github`, `vercel`, `aws`, `kubernetes`, `vault`). */
  vendor: string
  title: string
  url: string
  /** Env var → value: the base URL and the emulator's fake credentials. */
  env: Record<string, string>
  /** AWS: the secrets made at start, as the config's targets name them (empty, no version yet). */
  seeded?: string[]
}

/** A running emulator: how to describe it and stop it. */
interface Started {
  running: Running
  close(): Promise<void>
}

/**
 * A delivery target's service whose config reads only the env vars of its kind's token and
 * base URL, plus `extra` ones.
 */
function service<Emulator extends TargetEmulator<unknown>>(
  title: string,
  kind: 'github' | 'vercel' | 'kubernetes-secret' | 'vault-kv',
  startOne: (options: { port?: number }) => Promise<Emulator>,
  extra: (emulator: Emulator) => Record<string, string> = () => ({}),
) {
  return {
    title,
    start: async (port: number | undefined) => {
      const emulator = await startOne(portOption(port))
      const target = TARGET_KINDS[kind] as TargetKind<never>
      const token = target.credentials.token ?? target.optionalCredentials?.token
      const env = {
        [target.baseUrlEnv as string]: emulator.url,
        [token as string]: emulator.settings.token,
        ...extra(emulator),
      }
      return { emulator, env }
    },
  }
}

const portOption = (port: number | undefined) => (port === undefined ? {} : { port })

/**
 * The delivery targets' services `emulate` starts beside the vendors: the base URL, token and
 * what else a config's target reads (Vercel's team, as `teamIdEnv: VERCEL_TEAM_ID`).
 */
const TARGET_EMULATORS = {
  github: service('GitHub Actions secrets', 'github', startGitHubEmulator),
  vercel: service('Vercel', 'vercel', startVercelEmulator, (emulator) => ({
    VERCEL_TEAM_ID: emulator.settings.teamId,
  })),
  aws: {
    title: 'AWS Secrets Manager',
    start: async (port: number | undefined, seed: readonly string[]) => {
      const emulator = await startAwsSecretsManagerEmulator(portOption(port))
      // AWS writes only to a secret that exists: make the ones the config names.
      for (const secretId of seed) emulator.control.seedSecret(secretId)
      const kind = TARGET_KINDS['aws-secrets-manager'] as TargetKind<never>
      const { settings } = emulator
      return {
        emulator,
        env: {
          [kind.baseUrlEnv as string]: emulator.url,
          AWS_REGION: settings.region,
          [kind.optionalCredentials?.accessKeyId as string]: settings.accessKeyId,
          [kind.optionalCredentials?.secretAccessKey as string]: settings.secretAccessKey,
          [kind.optionalCredentials?.sessionToken as string]: settings.sessionToken,
        },
        seeded: [...seed],
      }
    },
  },
  kubernetes: service('Kubernetes', 'kubernetes-secret', startKubernetesEmulator),
  vault: service('Vault', 'vault-kv', startVaultEmulator),
} as const

type TargetService = keyof typeof TARGET_EMULATORS
const SERVICES = Object.keys(TARGET_EMULATORS) as TargetService[]
/** Set in the background process that `--background` starts. */
const CHILD_ENV = 'KEYWAY_EMULATE_CHILD'

/**
 * `keyway emulate [vendor|all]`: runs emulators and prints the exports that point the CLI and
 * the adapters at them. In the foreground it runs until interrupted; with `--background` it
 * prints and exits while a detached process keeps the emulators running.
 */
export async function emulate(context: Context): Promise<number> {
  const chosen = chosenVendors(context)
  const port = portFlag(context)
  if (context.values.background && context.io.env[CHILD_ENV] === undefined)
    return inBackground(context)
  const seed = chosen.includes('aws') ? await awsSecretsNamed(context) : []
  const emulators: Started[] = []
  try {
    for (const [index, which] of chosen.entries())
      emulators.push(await start(which, port === undefined ? undefined : port + index, seed))
    const running = emulators.map((emulator) => emulator.running)
    if (context.io.env[CHILD_ENV] !== undefined) {
      process.send?.({ running })
    } else {
      await show(context, running, null)
      context.note(
        context.paint(
          'dim',
          'emulators running; run the exports above in another shell (or use --background). Ctrl-C stops them.',
        ),
      )
    }
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve()
      context.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    return 0
  } catch (error) {
    if (context.io.env[CHILD_ENV] !== undefined)
      process.send?.({ error: error instanceof Error ? error.message : String(error) })
    throw error
  } finally {
    await Promise.all(emulators.map((emulator) => emulator.close()))
  }
}

function chosenVendors(context: Context): Array<Vendor | TargetService> {
  const [which = 'all', ...extra] = context.positionals
  if (extra.length > 0) throw new UsageError('emulate takes at most one vendor')
  const every = [...VENDORS, ...SERVICES]
  if (which === 'all') return every
  const found = every.find((candidate) => candidate === which)
  if (found === undefined)
    throw new UsageError(
      `unknown vendor "${which}"`,
      didYouMean(which, [...every, 'all'], `one of: ${every.join(', ')}, all`),
    )
  return [found]
}

function portFlag(context: Context): number | undefined {
  if (context.values.port === undefined) return undefined
  const port = wholeNumber(context.values.port, 'port', 0)
  if (port < 1 || port > 65535) throw new UsageError('--port takes a port number from 1 to 65535')
  return port
}

/**
 * The AWS secrets the config's `aws-secrets-manager` targets name (by name; an ARN names a
 * secret of a real account), for the AWS emulator to make at start. No config: none.
 */
async function awsSecretsNamed(context: Context): Promise<string[]> {
  const path = configPath(context.values, context.io.env)
  if (context.values.config === undefined && !context.io.env.KEYWAY_CONFIG && !existsSync(path))
    return []
  let config: FleetConfig
  try {
    ;({ config } = await loadConfig(path, process.cwd()))
  } catch (error) {
    // The emulators do not need the config: say why nothing was made, and go on.
    context.note(`${error instanceof Error ? error.message : String(error)} (no AWS secret made)`)
    return []
  }
  const names = config.stores.flatMap((store) =>
    (store.targets ?? []).flatMap((target) =>
      target.kind === 'aws-secrets-manager' && !String(target.secretId).startsWith('arn:')
        ? [String(target.secretId)]
        : [],
    ),
  )
  return [...new Set(names)]
}

async function start(
  which: Vendor | TargetService,
  port: number | undefined,
  seed: readonly string[],
): Promise<Started> {
  try {
    if (which in TARGET_EMULATORS) {
      const service = TARGET_EMULATORS[which as TargetService]
      const started = await service.start(port, seed)
      const { emulator, env } = started
      return {
        running: {
          vendor: which,
          title: service.title,
          url: emulator.url,
          env,
          ...('seeded' in started ? { seeded: started.seeded } : {}),
        },
        close: () => emulator.close(),
      }
    }
    const emulator = await startEmulator(which as Vendor, portOption(port))
    return { running: describe(emulator), close: () => emulator.close() }
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EADDRINUSE')
      throw new UsageError(
        `port ${port} is in use`,
        'choose another --port, or leave it out for free ports',
      )
    throw error
  }
}

function describe(emulator: Awaited<ReturnType<typeof startEmulator>>): Running {
  const provider = PROVIDERS[emulator.vendor]
  const env: Record<string, string> = {}
  for (const [setting, name] of Object.entries(providerEnv(provider))) {
    const value = emulator.settings[setting]
    if (typeof value === 'string') env[name] = value
  }
  return { vendor: emulator.vendor, title: provider.title, url: emulator.url, env }
}

/** Prints the exports (or JSON) and writes `--dotenv`. */
async function show(context: Context, running: Running[], pid: number | null): Promise<void> {
  const file = context.values.dotenv
  if (file !== undefined) {
    const lines = running.flatMap((one) =>
      Object.entries(one.env).map(([name, value]) => `${name}=${value}`),
    )
    await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 })
  }
  const aws = running.find((one) => one.seeded !== undefined)
  if (aws !== undefined) context.note(context.paint('dim', awsNote(aws)))
  if (context.values.json) {
    context.out(json({ pid, emulators: running }))
    return
  }
  for (const one of running) {
    context.out(`# ${one.title} emulator (fake credentials, loopback only)`)
    for (const [name, value] of Object.entries(one.env))
      context.out(`export ${name}=${shellQuote(value)}`)
  }
  if (pid !== null) context.out(`export KEYWAY_EMULATOR_PID=${pid}`)
}

/** What the AWS emulator holds at start, and how to make a secret a config names. */
function awsNote(aws: Running): string {
  if (aws.seeded !== undefined && aws.seeded.length > 0)
    return `AWS Secrets Manager emulator: made the secrets your config's targets name: ${aws.seeded.join(', ')}`
  return `AWS Secrets Manager emulator: no secrets yet, and AWS writes only to a secret that exists. Name it in an aws-secrets-manager target of ${CONFIG_FILE} (secretId) and start emulate again, or make it with: aws secretsmanager create-secret --name <secretId> --endpoint-url ${aws.url}`
}

/** Starts this command again as a detached process, waits for its emulators, then returns. */
async function inBackground(context: Context): Promise<number> {
  const cli = fileURLToPath(new URL('./cli.js', import.meta.url))
  const { port } = context.values
  const args = [
    cli,
    'emulate',
    ...context.positionals,
    ...(port === undefined ? [] : ['--port', port]),
  ]
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...context.io.env, [CHILD_ENV]: '1' },
  })
  const message = await new Promise<{ running?: Running[]; error?: string }>((resolve) => {
    child.once('message', (value) => resolve(value as { running?: Running[]; error?: string }))
    child.once('exit', (code) =>
      resolve({ error: `the background process exited with code ${code}` }),
    )
    child.once('error', (error) => resolve({ error: error.message }))
  })
  if (message.running === undefined || child.pid === undefined)
    throw new CliError('Error', `emulators did not start: ${message.error ?? 'no answer'}`)
  child.disconnect()
  child.unref()
  await show(context, message.running, child.pid)
  context.note(
    context.paint('dim', `emulators running in the background; stop them with: kill ${child.pid}`),
  )
  return 0
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`
}
