import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noteDxKeyId } from '@keyway/notedx'
import {
  type Emulator,
  type OpenRouterEmulatorControl,
  startEmulator,
  type Vendor,
} from '@keyway/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  applyKilledThenResumed,
  keyway,
  keywayOnTerminal,
  killKeywayOnce,
  type Run,
} from './cli.test-support.js'
import { VENDOR_IDS } from './providers.js'

const DAY = 86_400_000
const daysAgo = (days: number) => new Date(Date.now() - days * DAY)

// The vendors that can mint keys: the fleet below rotates at each of them.
const VENDORS = ['openrouter', 'latitudesh', 'notedx', 'voiceable'] as const satisfies Vendor[]
type FleetVendor = (typeof VENDORS)[number]

/** The env var of each emulator setting; OpenRouter's are custom names, the rest the defaults. */
const ENV: Record<FleetVendor, Record<string, string>> = {
  openrouter: { baseUrl: 'OR_PROD_URL', managementKey: 'OR_PROD_MANAGEMENT_KEY' },
  latitudesh: { baseUrl: 'LATITUDESH_BASE_URL', token: 'LATITUDESH_BEARER' },
  notedx: { baseUrl: 'NOTEDX_BASE_URL', email: 'NOTEDX_EMAIL', password: 'NOTEDX_PASSWORD' },
  voiceable: {
    baseUrl: 'VOICEABLE_BASE_URL',
    apiKey: 'VOICEABLE_API_KEY',
    credentialKeyId: 'VOICEABLE_API_KEY_ID',
  },
}

/** Where each store's secrets go, relative to the config. */
const FILES: Record<FleetVendor, string> = {
  openrouter: '.secrets/openrouter.env',
  latitudesh: '.secrets/latitude.env',
  notedx: '.secrets/notedx.env',
  voiceable: '.secrets/voiceable.env',
}

const LABELS: Record<FleetVendor, string> = {
  openrouter: 'openrouter-prod',
  latitudesh: 'latitude',
  notedx: 'notedx',
  voiceable: 'voiceable',
}

function fleetConfig(overrides: Record<string, unknown> = {}) {
  return {
    policy: { maxAgeDays: 90, unusedDays: 30 },
    stores: [
      {
        label: 'openrouter-prod',
        vendor: 'openrouter',
        credentials: { managementKey: 'OR_PROD_MANAGEMENT_KEY' },
        baseUrlEnv: 'OR_PROD_URL',
        deliver: { to: '.secrets/openrouter.env', variable: 'OPENROUTER_{NAME}' },
      },
      {
        label: 'latitude',
        vendor: 'latitudesh',
        deliver: { to: '.secrets/latitude.env', variable: 'LATITUDE_{NAME}' },
      },
      {
        label: 'notedx',
        vendor: 'notedx',
        deliver: { to: '.secrets/notedx.env', variable: 'NOTEDX_{ID}' },
      },
      {
        label: 'voiceable',
        vendor: 'voiceable',
        credentials: { apiKey: 'VOICEABLE_API_KEY', credentialKeyId: 'VOICEABLE_API_KEY_ID' },
        deliver: { to: '.secrets/voiceable.env', variable: 'VOICEABLE_{NAME}' },
      },
    ],
    ...overrides,
  }
}

interface Seeded {
  /** Made 120 days ago, used 2 days ago: too old only. */
  old: { id: string; secret: string }
  /** Made 200 days ago, used 60 days ago (where the vendor reports use): too old and unused. */
  stale: { id: string; secret: string }
  /** Made 10 days ago and used yesterday: no finding. */
  fresh: { id: string; secret: string }
}

let folder: string
let emulators: Record<FleetVendor, Emulator>
let seeded: Record<FleetVendor, Seeded>
let env: Record<string, string>

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'keyway-fleet-'))
  emulators = {} as Record<FleetVendor, Emulator>
  seeded = {} as Record<FleetVendor, Seeded>
  env = {}
  for (const vendor of VENDORS) {
    const emulator = await startEmulator(vendor, { seedKeys: 0 })
    emulators[vendor] = emulator
    const seed = (name: string, created: number, used: number) => {
      const key = emulator.control.seedKey({
        name,
        type: 'live',
        createdAt: daysAgo(created),
        lastUsedAt: daysAgo(used),
      })
      // NoteDx knows a key by the key itself; keyway's id for it is a hash.
      return vendor === 'notedx' ? { ...key, id: noteDxKeyId(key.secret) } : key
    }
    seeded[vendor] = {
      old: seed('ci-deploy', 120, 2),
      stale: seed('old-laptop', 200, 60),
      fresh: seed('web', 10, 1),
    }
    for (const [field, name] of Object.entries(ENV[vendor]))
      env[name] = emulator.settings[field] as string
  }
  await writeConfig(fleetConfig())
})

afterEach(async () => {
  await Promise.all(Object.values(emulators).map((emulator) => emulator.close()))
  await rm(folder, { recursive: true, force: true })
})

const writeConfig = (config: unknown, name = 'keyway.config.json') =>
  writeFile(join(folder, name), JSON.stringify(config, null, 2))

/** Writes the fleet config with `change` made to the store labelled `label`. */
const writeConfigChanging = (label: string, change: Record<string, unknown>) =>
  writeConfig(
    fleetConfig({
      stores: fleetConfig().stores.map((store) =>
        store.label === label ? { ...store, ...change } : store,
      ),
    }),
  )

/** Requests that change keys (NoteDx's sign-in is a POST that changes none). */
const writes = (vendor: FleetVendor) =>
  emulators[vendor].requests.filter(
    (request) => request.method !== 'GET' && !request.path.includes('/auth/'),
  ).length
const allWrites = () => VENDORS.reduce((sum, vendor) => sum + writes(vendor), 0)
const allRequests = () =>
  VENDORS.reduce((sum, vendor) => sum + emulators[vendor].requests.length, 0)

const credentials = () =>
  VENDORS.flatMap((vendor) =>
    Object.entries(emulators[vendor].settings)
      .filter(([name]) => !['baseUrl', 'credentialKeyId', 'email'].includes(name))
      .map(([, value]) => value),
  )
const expectNoSecret = (run: Run) => {
  for (const secret of [
    ...credentials(),
    ...VENDORS.flatMap((vendor) => Object.values(seeded[vendor]).map((key) => key.secret)),
  ]) {
    expect(run.stdout).not.toContain(secret)
    expect(run.stderr).not.toContain(secret)
  }
}

async function delivered(vendor: FleetVendor): Promise<Record<string, string>> {
  const text = await readFile(join(folder, FILES[vendor]), 'utf8')
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  )
}

describe('keyway audit', () => {
  it('lists every key of the four stores with its findings, key by key, and exits 8', async () => {
    const run = await keyway(['audit', '--json'], env, folder)
    expect(run.code).toBe(8)
    const report = JSON.parse(run.stdout) as {
      failing: number
      entries: Array<{
        label: string
        key: { id: string }
        ageDays: number
        findings: Array<{ kind: string }>
      }>
      errors: unknown[]
    }
    expect(report.errors).toEqual([])
    const kindsOf = (vendor: FleetVendor, key: keyof Seeded) =>
      report.entries
        .find((entry) => entry.label === LABELS[vendor] && entry.key.id === seeded[vendor][key].id)
        ?.findings.map((finding) => finding.kind)
        .sort()
    for (const vendor of VENDORS) expect(kindsOf(vendor, 'fresh'), vendor).toEqual([])
    // Latitude and NoteDx report the last use (60 and 2 days ago); OpenRouter and Voiceable do
    // not, so there nothing says a key is unused: its last use is unknown, never a finding.
    for (const vendor of ['latitudesh', 'notedx'] as const) {
      expect(kindsOf(vendor, 'stale'), vendor).toEqual(['too-old', 'unused'])
      expect(kindsOf(vendor, 'old'), vendor).toEqual(['too-old'])
    }
    for (const vendor of ['openrouter', 'voiceable'] as const) {
      expect(kindsOf(vendor, 'stale'), vendor).toEqual(['too-old'])
      expect(kindsOf(vendor, 'old'), vendor).toEqual(['too-old'])
    }
    expect(
      report.entries.find((entry) => entry.key.id === seeded.latitudesh.stale.id)?.ageDays,
    ).toBe(200)
    expect(report.failing).toBe(8)
    // Voiceable's own credential is listed and flagged, and fails nothing by default.
    expect(
      report.entries
        .find((entry) => entry.label === 'voiceable' && entry.key.id === env.VOICEABLE_API_KEY_ID)
        ?.findings.map((finding) => finding.kind),
    ).toEqual(['own-credential'])
    expect(allWrites()).toBe(0)
    expectNoSecret(run)
  })

  it('prints a table with store, key, age, last use and findings, then the findings in words', async () => {
    const run = await keyway(['audit'], { ...env, KEYWAY_FORCE_TTY: '1', NO_COLOR: '1' }, folder)
    expect(run.code).toBe(8)
    const header = run.stdout.split('\n')[0]
    expect(header).toMatch(
      /^STORE +KEY +NAME +STATUS +AGE +LAST USED +EXPIRES +SPENT +LEFT +FINDINGS +WORKSPACE$/,
    )
    const row = run.stdout.split('\n').find((line) => line.includes(seeded.latitudesh.stale.id))
    expect(row).toMatch(
      /^latitude +tok_\w+ +old-laptop +active +200d +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +- +- +- +too-old,unused +-$/,
    )
    // OpenRouter's 64-character ids are shortened on a terminal.
    expect(run.stdout).not.toContain(seeded.openrouter.old.id)
    expect(run.stdout).toContain('created 200 days ago, more than the 90 days allowed')
    // Latitude and Voiceable list the credential's own key too, NoteDx the account's sandbox key.
    expect(run.stdout).toContain('15 keys at 4 stores')
    expectNoSecret(run)
  })

  it('exits 0 with --fail-on none, and a flag beats the env var, which beats the file', async () => {
    const audit = async (args: string[], extra: Record<string, string> = {}) =>
      (await keyway(['audit', ...args], { ...env, ...extra }, folder)).code
    expect(await audit(['--fail-on', 'none'])).toBe(0)
    expect(await audit([], { KEYWAY_FAIL_ON: 'none' })).toBe(0)
    expect(await audit(['--fail-on', 'unused'], { KEYWAY_FAIL_ON: 'none' })).toBe(8)
    await writeConfig(fleetConfig({ policy: { maxAgeDays: 1000 }, failOn: ['too-old'] }))
    expect(await audit([])).toBe(0)
    expect(await audit([], { KEYWAY_MAX_AGE_DAYS: '90' })).toBe(8)
    expect(await audit(['--max-age-days', '1000'], { KEYWAY_MAX_AGE_DAYS: '90' })).toBe(0)
  })

  it('reads the file --config names before KEYWAY_CONFIG, and KEYWAY_CONFIG before the default', async () => {
    await writeConfig(fleetConfig({ stores: [fleetConfig().stores[1]] }), 'latitude-only.json')
    await writeConfig({ stores: [{ label: 'x', vendor: 'acme' }] }, 'broken.json')
    const byEnv = await keyway(
      ['audit', '--json'],
      { ...env, KEYWAY_CONFIG: 'latitude-only.json' },
      folder,
    )
    expect(byEnv.code).toBe(8)
    const labels = (run: Run) => [
      ...new Set(
        (JSON.parse(run.stdout).entries as Array<{ label: string }>).map((entry) => entry.label),
      ),
    ]
    expect(labels(byEnv)).toEqual(['latitude'])
    const byFlag = await keyway(
      ['audit', '--config', 'broken.json'],
      { ...env, KEYWAY_CONFIG: 'latitude-only.json' },
      folder,
    )
    expect(byFlag.code).toBe(1)
    expect(byFlag.stderr).toContain('broken.json: stores[0].vendor')
  })

  it('piped, prints the rows alone, tab-separated with full ids; the findings and counts go to stderr', async () => {
    const run = await keyway(['audit'], env, folder)
    expect(run.code).toBe(8)
    const rows = run.stdout.trimEnd().split('\n')
    expect(rows).toHaveLength(15)
    expect(run.stdout).not.toContain('STORE')
    const row = rows.find((line) => line.includes(seeded.openrouter.old.id))?.split('\t')
    expect(row?.slice(0, 6)).toEqual([
      'openrouter-prod',
      seeded.openrouter.old.id,
      'ci-deploy',
      'active',
      '120d',
      'unknown',
    ])
    const used = rows.find((line) => line.includes(seeded.latitudesh.stale.id))?.split('\t')
    expect(used?.[5]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)
    expect(run.stderr).toContain('created 200 days ago, more than the 90 days allowed')
    expect(run.stderr).toContain('15 keys at 4 stores')
    expectNoSecret(run)
  })

  it('exits 1 and names the store when one store cannot be read; the others are still audited', async () => {
    emulators.latitudesh.inject({ status: 401, times: 10 })
    const run = await keyway(['audit', '--json'], env, folder)
    expect(run.code).toBe(1)
    const report = JSON.parse(run.stdout)
    expect(report.errors).toEqual([
      expect.objectContaining({ label: 'latitude', provider: 'latitudesh' }),
    ])
    expect(new Set(report.entries.map((entry: { label: string }) => entry.label))).toEqual(
      new Set(['openrouter-prod', 'notedx', 'voiceable']),
    )
  })
})

describe('exit codes of the fleet commands, as exit-codes.ts has them', () => {
  it('exits 4 when no store can be read because each refused its credential', async () => {
    for (const vendor of VENDORS) emulators[vendor].inject({ status: 401, times: 50 })
    const audited = await keyway(['audit', '--json'], env, folder)
    expect(audited.code, audited.stderr).toBe(4)
    expect(
      (JSON.parse(audited.stdout).errors as Array<{ label: string }>)
        .map((error) => error.label)
        .sort(),
    ).toEqual(['latitude', 'notedx', 'openrouter-prod', 'voiceable'])
    expectNoSecret(audited)
  })

  it('exits 4 for plan when the one store asked for refuses its credential', async () => {
    emulators.latitudesh.inject({ status: 401, times: 50 })
    const run = await keyway(['plan', '--store', 'latitude'], env, folder)
    expect(run.code, run.stderr).toBe(4)
    expect(allWrites()).toBe(0)
  })

  it('exits 2 when apply is answered no on a terminal, and writes nothing', async () => {
    const run = await keywayOnTerminal(
      ['apply', '--config', join(folder, 'keyway.config.json')],
      env,
      'n\n',
    )
    expect(run.output).toContain('Rotate 8 keys at 4 stores as shown? [y/N]')
    expect(run.output).toContain('nothing rotated')
    expect(run.code).toBe(2)
    expect(allWrites()).toBe(0)
  })

  it('refuses before any write when two planned keys would share a variable', async () => {
    await writeConfigChanging('latitude', {
      deliver: { to: '.secrets/latitude.env', variable: 'LATITUDE_KEY' },
    })
    const run = await keyway(['apply', '--yes'], env, folder)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'keyway.config.json: stores[1].deliver.variable: keys would share LATITUDE_KEY in .secrets/latitude.env: latitude ',
    )
    expect(run.stderr).toContain(seeded.latitudesh.old.id)
    expect(run.stderr).toContain(seeded.latitudesh.stale.id)
    expect(allWrites()).toBe(0)
  })
})

describe('keyway plan', () => {
  it('shows exactly the too-old keys per store, why, and the dry-run detail; writes nothing', async () => {
    const run = await keyway(['plan', '--json'], env, folder)
    expect(run.code).toBe(0)
    const plan = JSON.parse(run.stdout) as {
      entries: Array<{
        label: string
        keyId: string
        reasons: Array<{ kind: string }>
        deliverTo: string
        plan: { action: string; retire: string; credential: string; input: Record<string, unknown> }
      }>
    }
    for (const vendor of VENDORS) {
      const entries = plan.entries.filter((entry) => entry.label === LABELS[vendor])
      expect(entries.map((entry) => entry.keyId).sort(), vendor).toEqual(
        [seeded[vendor].old.id, seeded[vendor].stale.id].sort(),
      )
      for (const entry of entries) {
        expect(entry.reasons.map((reason) => reason.kind)).toContain('too-old')
        expect(entry.deliverTo).toBe(FILES[vendor])
        expect(entry.plan).toMatchObject({
          action: 'rotate',
          retire: 'delete',
          credential: 'other',
        })
      }
    }
    expect(allWrites()).toBe(0)

    const text = await keyway(['plan'], env, folder)
    expect(text.stdout).toContain('== latitude (latitudesh) ==')
    expect(text.stdout).toMatch(/why: +too-old: created 120 days ago/)
    expect(text.stdout).toMatch(/carried over: +name=ci-deploy/)
    expect(text.stdout).toMatch(/delivered to: +\.secrets\/latitude\.env/)
    expect(text.stdout).toContain('apply would rotate 8 keys at 4 stores')
    expect(allWrites()).toBe(0)
  })

  it('works on the --store named only: the other vendors get no request', async () => {
    const run = await keyway(['plan', '--store', 'latitude', '--json'], env, folder)
    expect(run.code).toBe(0)
    expect(
      new Set(JSON.parse(run.stdout).entries.map((entry: { label: string }) => entry.label)),
    ).toEqual(new Set(['latitude']))
    for (const vendor of ['openrouter', 'notedx', 'voiceable'] as const)
      expect(emulators[vendor].requests, vendor).toEqual([])
  })
})

describe('keyway apply', () => {
  it('rotates what plan showed, delivers working keys to each store’s file, and a rerun sends no write', async () => {
    const run = await keyway(['apply', '--yes'], env, folder)
    expect(run.stderr).toContain('apply would rotate 8 keys at 4 stores')
    expect(run.stderr).not.toContain('[y/N]')
    expect(run.code).toBe(0)
    // Piped: the outcome rows on stdout (full ids), the counts on stderr.
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(8)
    expect(run.stdout).toMatch(/^openrouter-prod\t[0-9a-f]{64}\trotated\t[0-9a-f]{64}\t/m)
    expect(run.stderr).toMatch(/: 8 rotated, 0 failed, 0 skipped$/m)
    for (const vendor of VENDORS) {
      const secrets = await delivered(vendor)
      expect(Object.keys(secrets), vendor).toHaveLength(2)
      for (const secret of Object.values(secrets))
        expect(emulators[vendor].control.works(secret), vendor).toBe(true)
      expect(emulators[vendor].control.works(seeded[vendor].old.secret)).toBe(false)
      expect(emulators[vendor].control.works(seeded[vendor].stale.secret)).toBe(false)
      expect(emulators[vendor].control.works(seeded[vendor].fresh.secret)).toBe(true)
    }
    expect(Object.keys(await delivered('openrouter')).sort()).toEqual([
      'OPENROUTER_CI_DEPLOY',
      'OPENROUTER_OLD_LAPTOP',
    ])
    expectNoSecret(run)
    for (const secret of VENDORS.flatMap((vendor) =>
      Object.values(seeded[vendor]).map((key) => key.secret),
    ))
      expect(run.stdout + run.stderr).not.toContain(secret)

    const sent = allWrites()
    const again = await keyway(['apply', '--yes'], env, folder)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('nothing to rotate')
    expect(allWrites()).toBe(sent)
  })

  it('takes --retire over KEYWAY_RETIRE over the file: keep leaves the old keys working', async () => {
    const run = await keyway(
      ['apply', '--yes', '--store', 'latitude', '--retire', 'keep'],
      { ...env, KEYWAY_RETIRE: 'delete' },
      folder,
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/old key kept/)
    expect(emulators.latitudesh.control.works(seeded.latitudesh.old.secret)).toBe(true)
    expect(emulators.latitudesh.requests.filter((request) => request.method === 'DELETE')).toEqual(
      [],
    )
    for (const secret of Object.values(await delivered('latitudesh')))
      expect(emulators.latitudesh.control.works(secret)).toBe(true)
  })

  it('asks first, and refuses without a terminal unless --yes, sending no write', async () => {
    const run = await keyway(['apply'], env, folder)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('Rotate 8 keys at 4 stores as shown: refusing without a terminal')
    expect(run.stderr).toContain('pass --yes')
    expect(allWrites()).toBe(0)
  })

  it('resumes a batch that crashed in the middle by --batch-id, finishing exactly what was left', async () => {
    // Latitude's secrets go to a command that kills keyway (SIGKILL) after its first delivery.
    const script = join(folder, 'deliver-then-crash.sh')
    await writeFile(
      script,
      [
        '#!/bin/sh',
        'mkdir -p .secrets',
        'read -r secret',
        'printf "%s=%s\\n" "$KEYWAY_VAR_NAME" "$secret" >> .secrets/latitude.env',
        ...killKeywayOnce(),
        '',
      ].join('\n'),
    )
    await chmod(script, 0o755)
    await writeConfigChanging('latitude', {
      deliver: { to: 'exec:./deliver-then-crash.sh', variable: 'LATITUDE_{NAME}' },
      rotation: { concurrency: 1 },
    })

    await applyKilledThenResumed('nightly-1', env, folder)
    for (const vendor of VENDORS) {
      expect(emulators[vendor].control.works(seeded[vendor].old.secret), vendor).toBe(false)
      expect(emulators[vendor].control.works(seeded[vendor].stale.secret), vendor).toBe(false)
    }
    // The last line written for each Latitude variable is a working key, and no key is left over.
    const latitude = await readFile(join(folder, '.secrets', 'latitude.env'), 'utf8')
    const last = new Map(
      latitude
        .trim()
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    )
    expect([...last.keys()].sort()).toEqual(['LATITUDE_CI_DEPLOY', 'LATITUDE_OLD_LAPTOP'])
    for (const secret of last.values())
      expect(emulators.latitudesh.control.works(secret)).toBe(true)
    // admin + fresh + two successors
    expect(emulators.latitudesh.control.keyIds()).toHaveLength(4)

    const sent = allWrites()
    const finished = await keyway(['apply', '--yes', '--batch-id', 'nightly-1'], env, folder)
    expect(finished.code).toBe(0)
    expect(finished.stderr).toContain('done already')
    expect(allWrites()).toBe(sent)
  })
})

describe('bad configs', () => {
  const bad: Array<
    [
      string,
      (config: ReturnType<typeof fleetConfig>) => unknown,
      Record<string, string>,
      string,
      number,
    ]
  > = [
    [
      'an unknown vendor',
      (config) => ({ ...config, stores: [{ ...config.stores[0], vendor: 'acme' }] }),
      {},
      `keyway.config.json: stores[0].vendor: expected one of: ${VENDOR_IDS.join(', ')}`,
      1,
    ],
    [
      'a missing env var',
      (config) => config,
      { OR_PROD_MANAGEMENT_KEY: '' },
      'keyway.config.json: stores[0].credentials.managementKey: env var OR_PROD_MANAGEMENT_KEY is not set',
      4,
    ],
    [
      'a credential pasted into the file',
      (config) => ({
        ...config,
        stores: [config.stores[0], { ...config.stores[1], credentials: { token: 'f'.repeat(36) } }],
      }),
      {},
      'keyway.config.json: stores[1].credentials.token: looks like a credential itself',
      1,
    ],
    [
      'a wrong type',
      (config) => ({ ...config, policy: { maxAgeDays: '90' } }),
      {},
      'keyway.config.json: policy.maxAgeDays: expected number',
      1,
    ],
  ]
  it.each(bad)(
    '%s is one line with the path, exit %i (1 usage, 4 a missing credential), and no request',
    async (_name, change, extraEnv, message, code) => {
      await writeConfig(change(fleetConfig()))
      for (const command of ['audit', 'plan', 'apply']) {
        const yes = command === 'apply' ? ['--yes'] : []
        const run = await keyway([command, ...yes], { ...env, ...extraEnv }, folder)
        expect(run.code, command).toBe(code)
        expect(run.stderr).toContain(message)
        expect(run.stderr.trim().split('\n')).toHaveLength(1)
        expect(run.stderr).not.toContain('f'.repeat(36))
      }
      expect(allRequests()).toBe(0)
    },
  )

  it('refuses a retire mode the vendor lacks, naming the path', async () => {
    await writeConfigChanging('voiceable', { rotation: { retire: 'disable' } })
    const run = await keyway(['plan'], env, folder)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'keyway.config.json: stores[3].rotation.retire: Voiceable cannot disable keys',
    )
    expect(allRequests()).toBe(0)
  })

  it('refuses --provider: the stores come from the config', async () => {
    const run = await keyway(['audit', '--provider', 'openrouter'], env, folder)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'unknown flag: --provider (keyway audit does not take it) (hint: the stores come from the config file; use --store <label>',
    )
  })

  it('names an unknown --store label and the labels there are', async () => {
    const run = await keyway(['plan', '--store', 'prod'], env, folder)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('no store labelled "prod" in keyway.config.json')
    expect(run.stderr).toContain('labels: openrouter-prod, latitude, notedx, voiceable')
  })

  it('tells how to start when there is no config file', async () => {
    await rm(join(folder, 'keyway.config.json'))
    const run = await keyway(['audit'], env, folder)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('keyway.config.json: no such file')
    expect(run.stderr).toContain('--config')
  })

  it('names a config given outside the working folder as it was given', async () => {
    const elsewhere = join(tmpdir(), 'keyway-missing', 'keyway.config.json')
    const run = await keyway(['audit', '--config', elsewhere], env, folder)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`${elsewhere}: no such file`)
  })
})

describe('an OpenRouter store with keys in three workspaces', () => {
  it('audits every workspace with spend, and rotates old keys in each, keeping their workspace', async () => {
    const emulator = emulators.openrouter as Emulator<OpenRouterEmulatorControl>
    const control = emulator.control
    const workspaces = [
      control.defaultWorkspaceId,
      control.seedWorkspace({ name: 'research' }).id,
      control.seedWorkspace({ name: 'support' }).id,
    ]
    const old = workspaces.map((workspaceId, index) =>
      control.seedKey({ name: `app-${index}`, workspaceId, createdAt: daysAgo(100) }),
    )
    const limited = control.seedKey({ name: 'budget', workspaceId: workspaces[2], limit: 25 })
    control.spend(limited.id, 7.5)
    await writeConfig(
      fleetConfig({ policy: { maxAgeDays: 90 }, stores: [fleetConfig().stores[0]] }),
    )

    const audited = await keyway(
      ['audit'],
      { ...env, KEYWAY_FORCE_TTY: '1', NO_COLOR: '1' },
      folder,
    )
    expect(audited.code).toBe(8)
    for (const index of [0, 1, 2])
      expect(audited.stdout).toMatch(
        new RegExp(`app-${index} +active +100d .* too-old +${workspaces[index]}$`, 'm'),
      )
    expect(audited.stdout).toMatch(
      new RegExp(
        `budget +active +0d +today +- +\\$7\\.50 of \\$25\\.00 +\\$17\\.50 +${workspaces[2]}$`,
        'm',
      ),
    )

    const applied = await keyway(['apply', '--yes'], env, folder)
    expect(applied.code, applied.stderr).toBe(0)
    const secrets = await delivered('openrouter')
    for (const index of [0, 1, 2]) {
      const secret = secrets[`OPENROUTER_APP_${index}`] as string
      expect(control.works(secret)).toBe(true)
      expect(control.keyAttributes(secret)?.workspace_id).toBe(workspaces[index])
      expect(control.works((old[index] as { secret: string }).secret)).toBe(false)
    }
    expect(control.works(limited.secret)).toBe(true)
  })
})
