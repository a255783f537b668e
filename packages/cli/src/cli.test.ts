import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Emulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { CLI, envFor, keyway, keywayOnTerminal, type Run, useSandbox } from './cli.test-support.js'
import { VENDOR_IDS } from './providers.js'

const { start, folder, emulators } = useSandbox()

/** Credentials that must never be printed. */
const credentials = () =>
  emulators().flatMap((emulator) =>
    Object.entries(emulator.settings)
      .filter(([name]) => name !== 'baseUrl' && name !== 'credentialKeyId')
      .map(([, value]) => value),
  )
const expectNoCredential = (run: Run) => {
  for (const secret of credentials()) {
    expect(run.stdout).not.toContain(secret)
    expect(run.stderr).not.toContain(secret)
  }
}
const count = (text: string, part: string) => text.split(part).length - 1
/** Runs `args` at `emulator` (in `cwd`): exit 1 with `message` on stderr, and not one request sent. */
const expectRefused = async (emulator: Emulator, args: string[], message: string, cwd?: string) => {
  const run = await keyway(args, envFor(emulator), cwd)
  expect(run.code).toBe(1)
  expect(run.stderr).toContain(message)
  expect(emulator.requests).toHaveLength(0)
  return run
}
/** A command line's words (none holds a space). */
const words = (line: string) => line.split(' ')
/** `keyway rotate <args> --provider <vendor> --yes`, journalled in the test's folder. */
const rotateArgs = (vendor: string, ...args: string[]) => [
  'rotate',
  ...args,
  '--provider',
  vendor,
  '--yes',
  '--journal',
  join(folder(), 'j.json'),
]

describe('exit codes, as gh: 0 ok, 1 failure or usage error, 2 cancelled, 4 authentication', () => {
  it('prints help with exit 0, bare keyway included', async () => {
    const help = await keyway(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('keyway <command> [key] --provider <vendor>')
    const bare = await keyway([])
    expect(bare).toEqual({ code: 0, stdout: help.stdout, stderr: '' })
    const { version } = JSON.parse(
      await readFile(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string }
    expect((await keyway(['--version'])).stdout.trim()).toBe(version)
  })

  it.each([
    // Usage: one line on stderr, nothing on stdout, exit 1.
    [
      ['frobnicate'],
      1,
      'UsageError: unknown command "frobnicate" (hint: run keyway help for the commands)',
    ],
    [['lst'], 1, 'UsageError: unknown command "lst" (hint: did you mean keyway list?)'],
    [
      ['help', 'rotat'],
      1,
      'UsageError: unknown command "rotat" (hint: did you mean keyway rotate?)',
    ],
    [
      ['list', '--bogus'],
      1,
      'UsageError: unknown flag: --bogus (keyway list does not take it) (hint: run keyway list --help for the flags)',
    ],
    [
      ['list', '--provder', 'openrouter'],
      1,
      'UsageError: unknown flag: --provder (keyway list does not take it) (hint: did you mean --provider?)',
    ],
    [
      ['list', '--include-disabled=false', '-p', 'openrouter'],
      1,
      'UsageError: --include-disabled takes no value (hint: write --include-disabled for yes, --no-include-disabled for no)',
    ],
    [['list'], 1, `UsageError: --provider is required (hint: one of: ${VENDOR_IDS.join(', ')})`],
    [['list', '--provider', 'acme'], 1, 'UsageError: unknown provider "acme"'],
    [
      ['list', '--provider', 'latitude'],
      1,
      'UsageError: unknown provider "latitude" (hint: did you mean --provider latitudesh?)',
    ],
    [['get', '-p', 'openrouter'], 1, 'UsageError: get needs a key'],
    [['rotate', '-p', 'openrouter'], 1, 'UsageError: rotate needs exactly one of'],
    [
      ['create', '-p', 'openrouter', '--expires-at', '2027-02-30'],
      1,
      'UsageError: --expires-at takes YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM], UTC unless an offset is given; "2027-02-30" is not a day of the calendar (February 2027 has 28 days)',
    ],
    [
      ['create', '-p', 'openrouter', '--limit-reset', 'yearly'],
      1,
      'UsageError: --limit-reset takes daily, weekly, monthly, none, not "yearly"',
    ],
    [['completion', 'tcsh'], 1, 'UsageError: no completion for "tcsh"'],
    // Authentication needed: exit 4, the env var named, no library option name.
    [
      ['list', '-p', 'openrouter'],
      4,
      'AuthenticationNeeded: openrouter: no credential (hint: set OPENROUTER_MANAGEMENT_KEY)',
    ],
    [
      ['list', '-p', 'notedx'],
      4,
      'AuthenticationNeeded: notedx: no credential (hint: set NOTEDX_EMAIL and NOTEDX_PASSWORD, or NOTEDX_ID_TOKEN)',
    ],
  ])('%j exits %i: %s', async (args, code, message) => {
    const run = await keyway(args)
    expect(run.code).toBe(code)
    expect(run.stderr).toContain(`error ${message}`)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).not.toMatch(/managementKey|allowSelf|expiresAt|\bemail\b/)
  })

  it.each([
    ['a credential the vendor refuses', 4, { LATITUDESH_BEARER: 'wrong-token-000000' }],
    ['a blank credential', 4, { LATITUDESH_BEARER: '   ' }],
    ['a good credential', 0, {}],
  ])('%s: exit %i', async (_case, code, override) => {
    const emulator = await start('latitudesh')
    const run = await keyway(['list', '-p', 'latitudesh'], { ...envFor(emulator), ...override })
    expect(run.code).toBe(code)
    expect(run.stderr).not.toContain('wrong-token-000000')
  })

  it('a delete answered no on a terminal exits 2 and deletes nothing', async () => {
    const emulator = await start('openrouter')
    const { id } = emulator.control.seedKey({ name: 'keep-me' })
    const run = await keywayOnTerminal(
      ['delete', 'keep-me', '-p', 'openrouter'],
      envFor(emulator),
      'n\n',
    )
    expect(run.code).toBe(2)
    expect(run.output).toContain(`Delete OpenRouter key "keep-me" (${id})? [y/N]`)
    expect(run.output).toContain('Cancelled: nothing deleted')
    expect(emulator.control.keyIds()).toContain(id)
  })

  it('Ctrl-C at the delete prompt exits 2 and deletes nothing', async () => {
    const emulator = await start('openrouter')
    const { id } = emulator.control.seedKey({ name: 'keep-me-too' })
    const run = await keywayOnTerminal(
      ['delete', id, '-p', 'openrouter'],
      envFor(emulator),
      '\u0003',
    )
    expect(run.code).toBe(2)
    expect(run.output).toContain(
      'Interrupted: stopped before finishing (hint: run the same command again)',
    )
    expect(emulator.control.keyIds()).toContain(id)
  })

  it('Ctrl-C during a command exits 2', async () => {
    const emulator = await start('openrouter')
    let release = () => {}
    emulator.inject({
      until: new Promise<void>((resolve) => {
        release = resolve
      }),
    })
    const child = spawn(process.execPath, [CLI, 'list', '-p', 'openrouter'], {
      env: { PATH: process.env.PATH ?? '', ...envFor(emulator) },
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    while (emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    expect(await exit).toBe(2)
    release()
    expect(stderr).toContain('Interrupted: stopped before finishing')
  })
})

describe('vendor text and pasted secrets', () => {
  it('refuses a secret pasted where a key id belongs, without printing or sending it', async () => {
    const emulator = await start('notedx')
    const { secret } = emulator.control.seedKey({ type: 'live' })
    const before = emulator.requests.length
    for (const command of ['get', 'delete', 'rotate']) {
      const yes = command === 'get' ? [] : ['--yes']
      const run = await keyway([command, secret, '--provider', 'notedx', ...yes], envFor(emulator))
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('looks like a secret key, not a key id')
      expect(run.stdout + run.stderr).not.toContain(secret)
      expect(run.stdout + run.stderr).not.toContain(secret.slice(3))
    }
    expect(emulator.requests.length).toBe(before)
  })

  it('shows escape sequences in vendor key names as text, never sending them to the terminal', async () => {
    const emulator = await start('openrouter')
    emulator.control.seedKey({ name: 'evil\u001b]0;owned\u0007\u001b[2J\u202ename' })
    const tabled = await keyway(['list', '--provider', 'openrouter'], envFor(emulator))
    expect(tabled.code).toBe(0)
    expect(tabled.stdout).toContain('evil\\u001b]0;owned\\u0007\\u001b[2J\\u202ename')
    for (const char of ['\u001b', '\u0007', '\u202e']) expect(tabled.stdout).not.toContain(char)
  })
})

describe.each(['openrouter', 'latitudesh', 'notedx', 'voiceable'] as const)('%s', (vendor) => {
  it('lists keys as JSON with ISO dates, and as a table', async () => {
    const emulator = await start(vendor)
    const listed = await keyway(['list', '--provider', vendor, '--json'], envFor(emulator))
    expect(listed.code).toBe(0)
    const keys = JSON.parse(listed.stdout) as Array<{
      id: string
      provider: string
      createdAt: string
    }>
    expect(keys.length).toBeGreaterThanOrEqual(3)
    expect(
      keys.every((key) => key.provider === vendor && !Number.isNaN(Date.parse(key.createdAt))),
    ).toBe(true)
    // Piped: tab-separated, no header, one line per key, the full id first (as gh).
    const piped = await keyway(['list', '--provider', vendor], envFor(emulator))
    const rows = piped.stdout.trimEnd().split('\n')
    expect(rows.map((row) => row.split('\t')[0])).toEqual(keys.map((key) => key.id))
    expect(new Set(rows.map((row) => row.split('\t').length)).size).toBe(1)
    expect(piped.stdout).not.toContain('\u001b[')
    // On a terminal: a header and aligned columns.
    const tabled = await keyway(['list', '--provider', vendor], {
      ...envFor(emulator),
      KEYWAY_FORCE_TTY: '1',
      NO_COLOR: '1',
    })
    expect(tabled.stdout.split('\n')[0]).toMatch(
      /^ID\s+NAME\s+STATUS\s+HINT\s+.*CREATED\s+LAST USED$/,
    )
    expect(tabled.stdout).not.toContain('\u001b[')
    const one = await keyway(
      ['get', keys[0]?.id as string, '--provider', vendor, '--json'],
      envFor(emulator),
    )
    expect(JSON.parse(one.stdout).id).toBe(keys[0]?.id)
    expectNoCredential(listed)
    expectNoCredential(piped)
    expectNoCredential(tabled)
  })

  it('creates a key and prints its secret exactly once', async () => {
    const emulator = await start(vendor)
    const flags = vendor === 'notedx' ? ['--metadata', 'team=cli'] : ['--name', 'from-cli']
    const created = await keyway(
      ['create', '--provider', vendor, '--json', ...flags],
      envFor(emulator),
    )
    expect(created.code).toBe(0)
    const { key, secret } = JSON.parse(created.stdout) as { key: { id: string }; secret: string }
    expect(emulator.control.works(secret)).toBe(true)
    expect(count(created.stdout, secret)).toBe(1)
    expect(created.stderr).not.toContain(secret)
    const listed = await keyway(['list', '--provider', vendor, '--json'], envFor(emulator))
    expect(listed.stdout).toContain(key.id)
    expect(listed.stdout).not.toContain(secret)
  })

  it('rotates one key: the new secret printed once, the old key retired', async () => {
    const emulator = await start(vendor)
    const old = emulator.control.seedKey({ name: 'rotate-me' })
    const listed = JSON.parse(
      (await keyway(['list', '--provider', vendor, '--json'], envFor(emulator))).stdout,
    ) as Array<{ id: string; name: string | null; hint: string }>
    const target =
      vendor === 'notedx'
        ? listed.find((key) => key.hint === `…${old.secret.slice(-4)}`)
        : listed.find((key) => key.name === 'rotate-me')
    const run = await keyway(rotateArgs(vendor, target?.id as string, '--json'), envFor(emulator))
    expect(run.code).toBe(0)
    // JSON lines: the secret the moment it exists, then the result (which holds no secret).
    const [printed, summary] = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    const result = summary as { rotated: number; outcomes: Array<{ newKeyId: string }> }
    expect(result.rotated).toBe(1)
    expect(printed.newKeyId).toBe(result.outcomes[0]?.newKeyId)
    const secret = printed.secret as string
    expect(emulator.control.works(secret)).toBe(true)
    expect(emulator.control.works(old.secret)).toBe(false)
    expect(count(run.stdout, secret)).toBe(1)
    expect(run.stderr).not.toContain(secret)
    expectNoCredential(run)
    const journal = await readFile(join(folder(), 'j.json'), 'utf8')
    expect(journal).not.toContain(secret)
    expect(journal).not.toContain(old.secret)
  })
})

describe('fields, status and delete', () => {
  it('maps vendor flags and refuses one the vendor lacks, listing what it takes', async () => {
    const openrouter = await start('openrouter')
    const created = await keyway(
      words(
        'create --provider openrouter --json --name capped --limit 5 --limit-reset monthly --expires-at 2099-01-01T00:00:00Z',
      ),
      envFor(openrouter),
    )
    const { key } = JSON.parse(created.stdout) as {
      key: { raw: { limit: number; limit_reset: string }; expiresAt: string }
    }
    expect(key.raw).toMatchObject({ limit: 5, limit_reset: 'monthly' })
    expect(key.expiresAt).toBe('2099-01-01T00:00:00.000Z')

    const refused = await expectRefused(
      await start('latitudesh'),
      ['create', '--provider', 'latitudesh', '--limit', '5'],
      '--limit is not supported by latitudesh create',
    )
    expect(refused.stderr).toContain('--name, --read-only, --allowed-ip')
  })

  it('updates, disables and enables where the vendor can; refuses where it cannot', async () => {
    const openrouter = await start('openrouter')
    const { id } = openrouter.control.seedKey({ name: 'before' })
    const updated = await keyway(
      ['update', id, '--provider', 'openrouter', '--name', 'after', '--json'],
      envFor(openrouter),
    )
    expect(JSON.parse(updated.stdout).name).toBe('after')
    expect(
      (await keyway(['update', id, '--provider', 'openrouter'], envFor(openrouter))).code,
    ).toBe(1)
    const disabled = await keyway(
      ['disable', id, '--provider', 'openrouter', '--json'],
      envFor(openrouter),
    )
    expect(JSON.parse(disabled.stdout).status).toBe('disabled')
    const enabled = await keyway(['enable', id, '--provider', 'openrouter'], envFor(openrouter))
    expect(enabled.stdout.trim()).toBe(`${id} is now active`)

    const voiceable = await start('voiceable')
    const refused = await keyway(['disable', '102', '--provider', 'voiceable'], envFor(voiceable))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('disable is not supported by voiceable')
  })

  it('asks before deleting, deletes with --yes, and reports a missing key with exit 1 and a hint', async () => {
    const emulator = await start('openrouter')
    const { id } = emulator.control.seedKey()
    const asked = await keyway(['delete', id, '--provider', 'openrouter'], envFor(emulator))
    expect(asked.code).toBe(1)
    expect(asked.stderr).toContain('pass --yes')
    expect(emulator.control.keyIds()).toContain(id)
    expect(
      (await keyway(['delete', id, '--provider', 'openrouter', '--yes'], envFor(emulator))).code,
    ).toBe(0)
    expect(emulator.control.keyIds()).not.toContain(id)
    const missing = await keyway(
      ['delete', id, '--provider', 'openrouter', '--yes'],
      envFor(emulator),
    )
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(
      `error NotFoundError: no openrouter key has the id, name or id prefix "${id}" (hint: see the keys with: keyway list --provider openrouter)\n`,
    )
    const debug = await keyway(
      ['delete', id, '--provider', 'openrouter', '--yes', '--debug'],
      envFor(emulator),
    )
    expect(debug.stderr).toContain('    at ')
  })

  it('gives exit 4 and the vendor message for a wrong credential', async () => {
    const emulator = await start('latitudesh')
    const run = await keyway(['list', '--provider', 'latitudesh'], {
      ...envFor(emulator),
      LATITUDESH_BEARER: 'wrong-token-000000',
    })
    expect(run.code).toBe(4)
    expect(run.stderr).toBe(
      'error AuthenticationError: latitudesh list failed: 401 authentication failed: Invalid API key (hint: the vendor refused the credential; check LATITUDESH_BEARER)\n',
    )
  })

  it('tells an operator who pasted "Bearer …" into LATITUDESH_BEARER to drop the prefix', async () => {
    const emulator = await start('latitudesh')
    const token = envFor(emulator).LATITUDESH_BEARER as string
    const run = await keyway(['list', '--provider', 'latitudesh'], {
      ...envFor(emulator),
      LATITUDESH_BEARER: `Bearer ${token}`,
    })
    expect(run.code).toBe(4)
    expect(run.stderr).toContain(
      '(hint: LATITUDESH_BEARER starts with "Bearer ": set it to the token alone, without the prefix)',
    )
    expectNoCredential(run)
  })
})

describe('rotation settings the vendor lacks', () => {
  it.each([
    [
      ['--retire', 'disable'],
      '--retire disable is not supported by voiceable',
      'use --retire delete or keep',
    ],
    [
      ['--strategy', 'regenerate'],
      '--strategy regenerate is not supported by voiceable',
      undefined,
    ],
    [
      ['--expires-in', '30d'],
      '--expires-in is not supported by voiceable: its keys cannot expire',
      undefined,
    ],
  ])('refuses %j as a usage error before any write', async (flags, message, hint) => {
    const emulator = await start('voiceable')
    const { id } = emulator.control.seedKey({ name: 'ci' })
    const keysBefore = emulator.control.keyIds()
    const run = await keyway(rotateArgs('voiceable', id, ...flags), envFor(emulator))
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`UsageError: ${message}`)
    if (hint !== undefined) expect(run.stderr).toContain(`(hint: ${hint})`)
    expect(emulator.requests.filter((request) => request.method !== 'GET')).toEqual([])
    expect(emulator.control.keyIds()).toEqual(keysBefore)
  })
})

describe('batch rotation', () => {
  it('delivers to a dotenv file, printing no secret', async () => {
    const emulator = await start('openrouter')
    const file = join(folder(), 'keys.env')
    const run = await keyway(
      rotateArgs('openrouter', '--all', '--deliver-to', file),
      envFor(emulator),
    )
    expect(run.code).toBe(0)
    const lines = (await readFile(file, 'utf8')).trim().split('\n')
    expect(lines.map((line) => line.split('=')[0]).sort()).toEqual([
      'OPENROUTER_SEED_KEY_1',
      'OPENROUTER_SEED_KEY_2',
      'OPENROUTER_SEED_KEY_3',
    ])
    for (const line of lines) {
      const secret = line.slice(line.indexOf('=') + 1)
      expect(emulator.control.works(secret)).toBe(true)
      expect(run.stdout + run.stderr).not.toContain(secret)
    }
    expect(run.stderr).toContain('[3/3]')
    expect(run.stderr).toContain('3 rotated, 0 failed, 0 skipped')
    // Piped: one tab-separated row per key: old id, result, new id, detail.
    const rows = run.stdout
      .trimEnd()
      .split('\n')
      .map((row) => row.split('\t'))
    expect(rows.map((row) => row[1])).toEqual(['rotated', 'rotated', 'rotated'])
  })

  it('refuses, before any write, a batch whose keys would share a dotenv variable', async () => {
    const emulator = await start('openrouter')
    const old = ['ci-deploy', 'ci_deploy'].map((name) => emulator.control.seedKey({ name }))
    const file = join(folder(), 'keys.env')
    const writesBefore = emulator.requests.filter((request) => request.method !== 'GET').length
    const run = await keyway(
      rotateArgs('openrouter', '--name', 'ci?deploy', '--deliver-to', file),
      envFor(emulator),
    )
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('OPENROUTER_CI_DEPLOY')
    expect(run.stderr).toContain('nothing was rotated (hint: put {ID} in --var-name')
    expect(emulator.requests.filter((request) => request.method !== 'GET')).toHaveLength(
      writesBefore,
    )
    expect(old.every((key) => emulator.control.works(key.secret))).toBe(true)
    await expect(readFile(file, 'utf8')).rejects.toThrow()
  })

  it('resumes a batch whose process was killed mid-delivery, ending with one new key per old key', async () => {
    const emulator = await start('openrouter')
    const oldSecrets = [1, 2, 3, 4].map(
      (index) => emulator.control.seedKey({ name: `batch-${index}` }).secret,
    )
    const before = emulator.control.keyIds().length
    const log = join(folder(), 'deliveries.log')
    // Stores each secret; on the second delivery of the first run, kills the CLI outright.
    const deliver = `exec:read secret; echo "$KEYWAY_KEY_ID $secret" >> "${log}"; if [ "$KILL_AT" = "$(wc -l < "${log}" | tr -d ' ')" ]; then kill -9 $PPID; fi`
    const args = rotateArgs(
      'openrouter',
      '--name',
      'batch-*',
      '--concurrency',
      '1',
      '--deliver-to',
      deliver,
    )
    const killed = await keyway(args, { ...envFor(emulator), KILL_AT: '2' })
    expect(killed.code).not.toBe(0)
    const batchId = /--batch-id (\S+)/.exec(killed.stderr)?.[1] as string
    expect(killed.stderr).toContain(`journal ${join(folder(), 'j.json')}`)
    const resumed = await keyway([...args, '--batch-id', batchId, '--json'], {
      ...envFor(emulator),
      KILL_AT: 'never',
    })
    expect(resumed.code).toBe(0)
    expect(JSON.parse(resumed.stdout)).toMatchObject({ rotated: 4, failed: 0 })
    expect(oldSecrets.filter((secret) => emulator.control.works(secret))).toEqual([])
    expect(emulator.control.keyIds()).toHaveLength(before)
    const delivered = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[1] as string)
    expect(delivered.filter((secret) => emulator.control.works(secret))).toHaveLength(4)
    expect(resumed.stdout + resumed.stderr + killed.stdout + killed.stderr).not.toMatch(
      /sk-or-v1-[0-9a-f]{64}/,
    )
  })
})

describe('rotation safety', () => {
  it('refuses a batch that would retire keys without --deliver-to, before any request', async () => {
    await expectRefused(
      await start('openrouter'),
      ['rotate', '--all', '--provider', 'openrouter', '--yes'],
      'rotating many keys needs --deliver-to',
    )
  })

  it('prints a single key’s new secret before the old key is touched, even when retiring fails', async () => {
    const emulator = await start('openrouter')
    const old = emulator.control.seedKey({ name: 'print-me' })
    emulator.inject({ match: { method: 'DELETE' }, status: 503, times: 20 })
    const run = await keyway(rotateArgs('openrouter', old.id), envFor(emulator))
    expect(run.code).toBe(1)
    const secret = run.stdout.split('\n')[0] as string
    expect(emulator.control.works(secret)).toBe(true)
    expect(emulator.control.works(old.secret)).toBe(true)
    expect(run.stderr).toContain('shown once; store it now')
    expect(count(run.stdout + run.stderr, secret)).toBe(1)
  })

  it('passes vendor flags as overrides on top of the old key’s settings', async () => {
    const emulator = await start('latitudesh')
    const old = emulator.control.seedKey({ name: 'backups' })
    const run = await keyway(
      rotateArgs('latitudesh', old.id, '--read-only', '--allowed-ip', '198.51.100.0/24'),
      envFor(emulator),
    )
    expect(run.code).toBe(0)
    const secret = run.stdout.split('\n')[0] as string
    expect(emulator.control.keyAttributes(secret)).toEqual({
      name: 'backups',
      read_only: true,
      allowed_ips: ['198.51.100.0/24'],
    })
  })

  it('shows the plan with --dry-run, exits 0 and changes nothing', async () => {
    const emulator = await start('latitudesh')
    emulator.control.seedKey({ name: 'ci-1' })
    const run = await keyway(
      ['rotate', '--name', 'ci-*', '--provider', 'latitudesh', '--dry-run'],
      envFor(emulator),
    )
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('ci-1, 0 days old: rotate')
    expect(run.stdout).toContain('carried over:   name=ci-1')
    expect(run.stdout).toContain('own credential: no')
    expect(run.stdout).toContain('old key:        delete')
    expect(emulator.requests.filter((request) => request.method !== 'GET')).toHaveLength(0)
  })

  it('refuses an unknown --batch-id, naming the journal’s absolute path', async () => {
    await expectRefused(
      await start('openrouter'),
      words('rotate --provider openrouter --batch-id typo --deliver-to out.env --journal j.json'),
      `batch typo is not in the journal ${join(folder(), 'j.json')}`,
      folder(),
    )
  })

  it('prints a line on stderr for every wait: retries and the grace period', async () => {
    const emulator = await start('openrouter')
    emulator.inject({ match: { method: 'GET' }, status: 429, retryAfter: 0 })
    const file = join(folder(), 'keys.env')
    const run = await keyway(
      rotateArgs('openrouter', '--all', '--grace-ms', '10', '--deliver-to', file),
      envFor(emulator),
    )
    expect(run.code).toBe(0)
    expect(run.stderr).toMatch(/waiting 0\.0 s: openrouter \w+ rate_limited, then attempt 2/)
    expect(count(run.stderr, 'grace period before the old keys are retired')).toBe(1)
  })

  it('never rotates the key Voiceable authenticates with when it cannot tell which that is', async () => {
    const emulator = await start('voiceable')
    const { VOICEABLE_API_KEY_ID: _named, ...env } = envFor(emulator)
    const run = await keyway(
      rotateArgs('voiceable', '--all', '--deliver-to', join(folder(), 'keys.env')),
      env,
    )
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('VOICEABLE_API_KEY_ID')
    expect(run.stdout).toContain('pass --allow-self')
    expect(run.stdout).not.toMatch(/allowSelf|credentialKeyId/)
    expect((await keyway(['list', '--provider', 'voiceable'], env)).code).toBe(0)
  })
})

describe('emulators', () => {
  it('runs a command against a fresh embedded emulator with --emulator', async () => {
    const run = await keyway(['list', '--provider', 'voiceable', '--emulator', '--json'])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toHaveLength(4)
    expect(run.stderr).toContain('fresh Voiceable emulator')
  })

  it('emulate prints exports that the CLI can use, and stops on SIGINT', async () => {
    const child = spawn(process.execPath, [CLI, 'emulate', 'latitudesh'], {
      env: { PATH: process.env.PATH ?? '' },
    })
    let output = ''
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('LATITUDESH_BEARER=')) resolve()
      })
    })
    const env = Object.fromEntries(
      [...output.matchAll(/^export (\w+)=(.*)$/gm)].map((match) => [match[1], match[2]]),
    )
    expect(Object.keys(env).sort()).toEqual(['LATITUDESH_BASE_URL', 'LATITUDESH_BEARER'])
    const listed = await keyway(
      ['list', '--provider', 'latitudesh', '--json'],
      env as Record<string, string>,
    )
    expect(JSON.parse(listed.stdout)).toHaveLength(4)
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    expect(await exit).toBe(0)
  })

  it('demo walks through all four vendors, then audits, plans and applies one config, and exits 0', async () => {
    const run = await keyway(['demo'])
    expect(run.code).toBe(0)
    for (const title of [
      '== OpenRouter ==',
      '== Latitude.sh ==',
      '== NoteDx ==',
      '== Voiceable ==',
      'Summary',
      '== One fleet: keyway.config.json over all four vendors ==',
      'apply would rotate 8 keys at 4 stores',
      '8 keys rotated from one config',
    ]) {
      expect(run.stdout).toContain(title)
    }
    // One rotation per vendor, then the fleet's eight; the second apply finds nothing due.
    expect(count(run.stdout, 'old key deleted')).toBe(4 + 8)
    expect(`${run.stdout}${run.stderr}`).toContain('nothing to rotate')
    for (const output of [run.stdout, run.stderr]) {
      expect(output).not.toMatch(/sk-or-v1-[0-9a-f]{64}|lk-[0-9a-f]{24}|sk_live_[0-9a-f]{64}/)
    }
  })
})

describe('a vendor that cannot create keys', () => {
  it('lists, disables and shows statuses, and refuses create and rotate with the reason', async () => {
    const anthropic = await start('anthropic')
    const env = envFor(anthropic)
    const archived = anthropic.control.seedKey({ name: 'retired', status: 'archived' } as never)
    const listed = await keyway(['list', '-p', 'anthropic', '--json'], env)
    expect(listed.code).toBe(0)
    const keys = JSON.parse(listed.stdout) as Array<{ id: string; status: string; hint: string }>
    expect(keys.find((key) => key.id === archived.id)?.status).toBe('archived')
    expect(keys.every((key) => key.hint.startsWith('sk-ant-api03-'))).toBe(true)

    const [active] = keys.filter((key) => key.status === 'active')
    const disabled = await keyway(['disable', active?.id as string, '-p', 'anthropic'], env)
    expect(disabled.stdout).toContain(`${active?.id} is now disabled`)
    expect(anthropic.requests.at(-1)).toMatchObject({
      method: 'POST',
      body: { status: 'inactive' },
    })

    const before = anthropic.requests.length
    const created = await keyway(['create', '-p', 'anthropic', '--name', 'x'], env)
    expect(created.code).toBe(1)
    expect(created.stderr).toContain('anthropic cannot create keys through its API')
    const rotated = await keyway(['rotate', archived.id, '-p', 'anthropic'], env)
    expect(rotated.code).toBe(1)
    expect(rotated.stderr).toContain(
      'anthropic cannot create keys through its API: audit and disable only',
    )
    // The CLI looks the key up by id or name; nothing is written.
    expect(anthropic.requests.slice(before).map((request) => request.method)).toEqual(['GET'])
  })
})
