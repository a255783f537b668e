import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { noteDxKeyId } from '@keyway/notedx'
import {
  type Emulator,
  type GitHubEmulatorControl,
  startEmulator,
  startGitHubEmulator,
  startVercelEmulator,
  type TargetEmulator,
  type Vendor,
  type VercelEmulatorControl,
} from '@keyway/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The `keyway` command as installed from @keyway/cli.
const require = createRequire(import.meta.url)
const cliPackage = require.resolve('@keyway/cli/package.json')
const KEYWAY = join(dirname(cliPackage), require(cliPackage).bin.keyway)
const CONFIG = fileURLToPath(new URL('../keyway.config.json', import.meta.url))
const WORKFLOW = fileURLToPath(new URL('../.github/workflows/key-rotation.yml', import.meta.url))
const CRONTAB = fileURLToPath(new URL('../crontab', import.meta.url))
const README = fileURLToPath(new URL('../README.md', import.meta.url))

// The vendors the nightly rotation covers: each can mint keys.
const VENDORS = ['openrouter', 'latitudesh', 'notedx', 'voiceable'] as const satisfies Vendor[]
type NightlyVendor = (typeof VENDORS)[number]
/** The env var of each emulator setting, as keyway.config.json names them. */
const ENV: Record<NightlyVendor, Record<string, string>> = {
  openrouter: { baseUrl: 'OPENROUTER_BASE_URL', managementKey: 'OPENROUTER_MANAGEMENT_KEY' },
  latitudesh: { baseUrl: 'LATITUDESH_BASE_URL', token: 'LATITUDESH_BEARER' },
  notedx: { baseUrl: 'NOTEDX_BASE_URL', email: 'NOTEDX_EMAIL', password: 'NOTEDX_PASSWORD' },
  voiceable: {
    baseUrl: 'VOICEABLE_BASE_URL',
    apiKey: 'VOICEABLE_API_KEY',
    credentialKeyId: 'VOICEABLE_API_KEY_ID',
  },
}
const FILES: Record<NightlyVendor, string> = {
  openrouter: '.secrets/openrouter.env',
  latitudesh: '.secrets/latitude.env',
  notedx: '.secrets/notedx.env',
  voiceable: '.secrets/voiceable.env',
}
/** Every vendor's keys also go to GitHub and Vercel. */
const TARGETED = VENDORS
const PREFIX: Record<NightlyVendor, string> = {
  openrouter: 'OPENROUTER',
  latitudesh: 'LATITUDE',
  notedx: 'NOTEDX',
  voiceable: 'VOICEABLE',
}
const ENVIRONMENT = { repository: 'acme/app', environment: 'production' }
const DAY = 86_400_000
const daysAgo = (days: number) => new Date(Date.now() - days * DAY)

interface Run {
  code: number
  stdout: string
  stderr: string
}

let folder: string
const emulators = {} as Record<NightlyVendor, Emulator>
let github: TargetEmulator<GitHubEmulatorControl>
let vercel: TargetEmulator<VercelEmulatorControl, { teamId: string }>
/** Per vendor: two keys past the policy's 90 days, and one recent key. */
const keys = {} as Record<
  NightlyVendor,
  { due: Array<{ id: string; secret: string }>; recent: string }
>
const env: Record<string, string> = {}

function keyway(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [KEYWAY, ...args],
      {
        cwd: folder,
        // keyway's state folder (the journal) in the test's own folder, never the user's.
        env: {
          PATH: process.env.PATH ?? '',
          XDG_STATE_HOME: join(folder, 'state'),
          ...env,
          ...extraEnv,
        },
        timeout: 55_000,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    )
  })
}

/** Requests that change keys (NoteDx's sign-in is a POST that changes none). */
const writes = () =>
  VENDORS.flatMap((vendor) => emulators[vendor].requests).filter(
    (request) => request.method !== 'GET' && !request.path.includes('/auth/'),
  ).length

/** Requests to GitHub and Vercel that write. */
const targetRequests = () =>
  [...github.requests, ...vercel.requests].filter((request) => request.method !== 'GET').length

async function delivered(vendor: NightlyVendor): Promise<Map<string, string>> {
  const text = await readFile(join(folder, FILES[vendor]), 'utf8')
  return new Map(
    text
      .trim()
      .split('\n')
      .map((line): [string, string] => [
        line.slice(0, line.indexOf('=')),
        line.slice(line.indexOf('=') + 1),
      ]),
  )
}

/**
 * The variables GitHub and Vercel hold for a vendor's delivered keys: the file's names, and for
 * NoteDx (whose file names each key by its id) the fixed variable of the label the key carries.
 */
async function targetVariables(vendor: NightlyVendor): Promise<Map<string, string>> {
  const secrets = await delivered(vendor)
  if (vendor !== 'notedx') return secrets
  const named = new Map<string, string>()
  for (const secret of secrets.values()) {
    const attributes = emulators.notedx.control.keyAttributes(secret) as {
      metadata: Record<string, string> | null
    }
    named.set(`NOTEDX_${String(attributes.metadata?.app).toUpperCase()}`, secret)
  }
  return named
}

beforeAll(async () => {
  // The example's own config, run where a server would keep it.
  folder = await mkdtemp(join(tmpdir(), 'keyway-nightly-'))
  await copyFile(CONFIG, join(folder, 'keyway.config.json'))
  for (const vendor of VENDORS) {
    const emulator = await startEmulator(vendor, { seedKeys: 0 })
    emulators[vendor] = emulator
    const seed = (name: string, ageDays: number) => {
      const key = emulator.control.seedKey({
        name,
        type: 'live',
        createdAt: daysAgo(ageDays),
        // NoteDx keys have no names: a label (carried over to each successor) picks each one.
        ...(vendor === 'notedx' ? { metadata: { app: name.replace('app-', '') } } : {}),
      })
      // NoteDx knows a key by the key itself; keyway's id for it is a hash.
      return vendor === 'notedx' ? { ...key, id: noteDxKeyId(key.secret) } : key
    }
    keys[vendor] = {
      due: [seed('app-api', 120), seed('app-worker', 95)],
      recent: seed('app-web', 5).secret,
    }
    for (const [field, name] of Object.entries(ENV[vendor]))
      env[name] = emulator.settings[field] as string
  }
  // Where the app's CI and hosting read the keys, with a secret and a variable keyway does not own.
  github = await startGitHubEmulator()
  github.control.seedSecret(ENVIRONMENT, 'DATABASE_URL', 'postgres://app')
  vercel = await startVercelEmulator()
  vercel.control.seedEnv('web', { key: 'DATABASE_URL', value: 'postgres://app', type: 'encrypted' })
  env.GITHUB_API_URL = github.url
  env.GITHUB_TOKEN = github.settings.token
  env.VERCEL_API_URL = vercel.url
  env.VERCEL_TOKEN = vercel.settings.token
  env.VERCEL_TEAM_ID = vercel.settings.teamId
  // The grace period is for services to pick up the new keys; the test has none to wait for.
  env.KEYWAY_GRACE_MS = '0'
})

afterAll(async () => {
  await Promise.all([github.close(), vercel.close()])
  await Promise.all(VENDORS.map((vendor) => emulators[vendor].close()))
  await rm(folder, { recursive: true, force: true })
})

describe('the nightly rotation over four vendors', () => {
  it('rotates every key past 90 days and delivers each new key, working, to its own file, GitHub and Vercel', async () => {
    // Vercel's answers on the redeploys are held: until they are READY, no old key may go.
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    vercel.inject({
      match: { method: 'GET', path: /^\/v13\/deployments\// },
      until: held,
      times: 1000,
    })
    const running = keyway(['apply', '--yes', '--batch-id', 'nightly-2026-01-01'])
    while (!vercel.requests.some((request) => request.path.startsWith('/v13/deployments/')))
      await new Promise((resolve) => setTimeout(resolve, 20))
    for (const vendor of TARGETED) {
      for (const old of keys[vendor].due)
        expect(emulators[vendor].control.works(old.secret), vendor).toBe(true)
      expect(emulators[vendor].requests.filter((request) => request.method === 'DELETE')).toEqual(
        [],
      )
    }
    release()
    vercel.clearFaults()
    const run = await running
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/batch nightly-2026-01-01: 8 rotated, 0 failed, 0 skipped$/m)
    for (const vendor of VENDORS) {
      const secrets = await delivered(vendor)
      expect(secrets.size, vendor).toBe(2)
      for (const secret of secrets.values())
        expect(emulators[vendor].control.works(secret), vendor).toBe(true)
      for (const old of keys[vendor].due)
        expect(emulators[vendor].control.works(old.secret), vendor).toBe(false)
      expect(emulators[vendor].control.works(keys[vendor].recent), vendor).toBe(true)
    }
    expect([...(await delivered('openrouter')).keys()].sort()).toEqual([
      'OPENROUTER_APP_API',
      'OPENROUTER_APP_WORKER',
    ])
    // GitHub and Vercel hold the same working keys; a redeploy runs with them.
    const names: string[] = []
    for (const vendor of TARGETED) {
      const atTargets = await targetVariables(vendor)
      expect([...atTargets.keys()].sort(), vendor).toEqual(
        [`${PREFIX[vendor]}_APP_API`, `${PREFIX[vendor]}_APP_WORKER`]
          .map((name) => (vendor === 'notedx' ? name.replace('_APP', '') : name))
          .sort(),
      )
      for (const [name, secret] of atTargets) {
        expect(name.startsWith(`${PREFIX[vendor]}_`)).toBe(true)
        names.push(name)
        const puts = github.requests.filter(
          (request) =>
            request.method === 'PUT' &&
            request.path === `/repos/acme/app/environments/production/secrets/${name}`,
        )
        expect(puts, name).toHaveLength(1)
        // The sealed value, opened with the emulator's private key, is the key the vendor takes.
        const sealed = String(
          (puts[0]?.body as { encrypted_value?: string } | undefined)?.encrypted_value,
        )
        expect(github.control.open(sealed)).toBe(secret)
        expect(
          vercel.control.env('web').find((variable) => variable.key === name)?.value,
          name,
        ).toBe(secret)
      }
    }
    const redeploys = vercel.control
      .deployments('web')
      .filter((deployment) => deployment.sourceId !== null)
    expect(redeploys).toHaveLength(8)
    expect(new Set(redeploys.map((deployment) => deployment.readyState))).toEqual(
      new Set(['READY']),
    )
    const last = vercel.control.deployments('web')[0]
    for (const vendor of TARGETED)
      for (const [name, secret] of await targetVariables(vendor))
        expect(last?.env[name]).toBe(secret)
    // Nothing else at either place changed.
    expect(github.control.names(ENVIRONMENT).sort()).toEqual(['DATABASE_URL', ...names].sort())
    expect(github.control.secret(ENVIRONMENT, 'DATABASE_URL')?.value).toBe('postgres://app')
    expect(
      vercel.control
        .env('web')
        .map((variable) => variable.key)
        .sort(),
    ).toEqual(['DATABASE_URL', ...names].sort())
    expect(
      vercel.control.env('web').find((variable) => variable.key === 'DATABASE_URL')?.value,
    ).toBe('postgres://app')
    // No secret in the job's log.
    for (const vendor of VENDORS)
      for (const secret of (await delivered(vendor)).values())
        expect(run.stdout + run.stderr).not.toContain(secret)
    expect(run.stdout + run.stderr).not.toContain(github.settings.token)
    expect(run.stdout + run.stderr).not.toContain(vercel.settings.token)
  })

  it('rotates nothing the next night: zero write requests, the same files', async () => {
    const before = writes()
    const targetWrites = targetRequests()
    const files = await Promise.all(VENDORS.map(delivered))
    const run = await keyway(['apply', '--yes', '--batch-id', 'nightly-2026-01-02'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('nothing to rotate')
    expect(writes()).toBe(before)
    expect(targetRequests()).toBe(targetWrites)
    expect(await Promise.all(VENDORS.map(delivered))).toEqual(files)
  })

  it('sends nothing when the same night runs again (the finished batch)', async () => {
    const before = writes()
    const run = await keyway(['apply', '--yes', '--batch-id', 'nightly-2026-01-01'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('done already')
    expect(writes()).toBe(before)
  })

  it('the weekly audit fails (exit 8) only on what rotation cannot fix: OpenRouter keys without a limit', async () => {
    const run = await keyway(['audit', '--json'])
    expect(run.code).toBe(8)
    const report = JSON.parse(run.stdout) as {
      failOn: string[]
      entries: Array<{
        label: string
        key: { status: string }
        findings: Array<{ kind: string }>
      }>
    }
    // NoteDx keeps a deleted key listed, as inactive: only the active keys are in use.
    const active = report.entries.filter((entry) => entry.key.status === 'active')
    const failing = active.flatMap((entry) =>
      entry.findings
        .filter((finding) => report.failOn.includes(finding.kind))
        .map((finding) => `${entry.label} ${finding.kind}`),
    )
    expect(failing.length).toBeGreaterThan(0)
    expect(new Set(failing)).toEqual(new Set(['openrouter-prod no-limit-or-expiry']))
  })

  it('exits 4 and sends nothing when a store’s credential is not set, as the workflow tells', async () => {
    const before = VENDORS.reduce((sum, vendor) => sum + emulators[vendor].requests.length, 0)
    for (const command of ['audit', 'apply']) {
      const yes = command === 'apply' ? ['--yes'] : []
      const run = await keyway([command, ...yes], { OPENROUTER_MANAGEMENT_KEY: '' })
      expect(run.code, command).toBe(4)
      expect(run.stderr).toContain(
        'keyway.config.json: stores[0].credentials.managementKey: env var OPENROUTER_MANAGEMENT_KEY is not set',
      )
    }
    expect(VENDORS.reduce((sum, vendor) => sum + emulators[vendor].requests.length, 0)).toBe(before)
  })

  it('the workflow runs keyway under bash with pipefail, so the audit step fails as audit does', async () => {
    const workflow = await readFile(WORKFLOW, 'utf8')
    const steps = workflow.split(/\n\s+- /).filter((step) => /run: .*keyway/.test(step))
    expect(steps).toHaveLength(2)
    for (const step of steps) {
      expect(step).toMatch(/\n\s+shell: bash\n/)
      expect(step).toMatch(/run: \.\/node_modules\/\.bin\/keyway /)
    }
    const audit = /run: (.*keyway audit.*)/.exec(workflow)?.[1] as string
    expect(audit).toContain('| tee audit.txt')
    // GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
    const line = audit.replace('./node_modules/.bin/keyway', `"${process.execPath}" "${KEYWAY}"`)
    const code = await new Promise<number | null>((resolve) =>
      execFile(
        'bash',
        ['--noprofile', '--norc', '-eo', 'pipefail', '-c', line],
        {
          cwd: folder,
          env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: join(folder, 'state'), ...env },
        },
        (error) => resolve(error === null ? 0 : (error.code as number)),
      ),
    )
    expect(code).toBe(8)
    expect(await readFile(join(folder, 'audit.txt'), 'utf8')).toContain('no-limit-or-expiry')
  })

  it('never calls the unscoped keyway package in its docs', async () => {
    for (const file of [WORKFLOW, CRONTAB, README]) {
      const text = await readFile(file, 'utf8')
      expect(text.replace(/"npx keyway"/g, ''), file).not.toMatch(/npx (--yes )?keyway\b/)
    }
  })
})
