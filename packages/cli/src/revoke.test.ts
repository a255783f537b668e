// What an operator believes of `keyway revoke`: one command finds a leaked key in whichever
// store holds it, stops it at once where the vendor can, puts a working successor where the
// service reads it, and deletes the old key; several matches or none change nothing; a secret
// goes to no vendor but its own, and is printed, logged and recorded nowhere.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Emulator, Vendor } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { CLI, type Run, STATE_HOME, useSandbox } from './cli.test-support.js'
import { applyKilledAt } from './kill-resume.test-support.js'
import { PROVIDERS } from './providers.js'

const { start, folder } = useSandbox()

interface Account {
  label: string
  vendor: Vendor
  emulator: Emulator
}

/** Runs the built CLI with `input` on stdin (a pipe, as `keyway revoke < file`). */
function keywayWith(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: STATE_HOME, ...env },
        cwd: folder(),
        timeout: 55_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
        resolve({ code, stdout, stderr })
      },
    )
    child.stdin?.end(input)
  })
}

const envName = (label: string, setting: string) =>
  `${label.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_${setting.toUpperCase()}`

/**
 * A fleet of these accounts, each delivering to `secrets.env` (`<LABEL>_<NAME>`, NoteDx by
 * id), history in the sandbox, and the env the CLI runs with.
 */
async function fleetOf(accounts: readonly Account[]) {
  const env: Record<string, string> = { KEYWAY_CONFIG: 'c.json' }
  const stores = accounts.map(({ label, vendor, emulator }) => {
    const credentials: Record<string, string> = {}
    for (const [setting, value] of Object.entries(emulator.settings)) {
      if (typeof value !== 'string' || setting === 'baseUrl') continue
      const name = envName(label, setting)
      if (Object.values(PROVIDERS[vendor].credentials).some((way) => setting in way))
        credentials[setting] = name
      env[name] = value
    }
    env[envName(label, 'base_url')] = String(emulator.settings.baseUrl)
    return {
      label,
      vendor,
      credentials,
      baseUrlEnv: envName(label, 'base_url'),
      deliver: {
        to: 'secrets.env',
        variable: vendor === 'notedx' ? '{LABEL}_{ID}' : '{LABEL}_{NAME}',
      },
    }
  })
  const config = { journal: 'journal.json', history: 'history.jsonl', stores }
  await writeFile(join(folder(), 'c.json'), JSON.stringify(config))
  return env
}

/** The value of each variable in the sandbox's `secrets.env`. */
async function delivered(): Promise<Record<string, string>> {
  const text = await readFile(join(folder(), 'secrets.env'), 'utf8')
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => {
        const [name, ...value] = line.split('=')
        return [name as string, value.join('=').replace(/^"|"$/g, '')]
      }),
  )
}

/** A run that succeeded; on failure the assertion shows its stderr. */
function expectOk(run: Run) {
  expect(run.stderr).not.toMatch(/error \w+:/)
  expect(run.code).toBe(0)
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** Every 12-character piece of `secret`. */
const fragments = (secret: string) =>
  Array.from({ length: secret.length - 11 }, (_, at) => secret.slice(at, at + 12))

/** The secret appears nowhere in `texts`, not even in part. */
function expectNowhere(secret: string, ...texts: string[]) {
  for (const text of texts) for (const piece of fragments(secret)) expect(text).not.toContain(piece)
}

/** No request `emulator` received carried the secret: as credential, in its path or its body. */
function expectNeverSent(emulator: Emulator, secret: string) {
  for (const request of emulator.requests) {
    expect(request.credentialDigest).not.toBe(sha256(secret))
    expect(request.path).not.toContain(secret)
    expect(JSON.stringify(request.body ?? '')).not.toContain(secret)
  }
}

const writes = (emulator: Emulator) =>
  emulator.requests.filter(
    (request) => request.method !== 'GET' && !request.path.includes('/auth/'),
  )

/** The actions history holds for the key `keyId`, in order, with their outcomes. */
async function historyOf(keyId: string): Promise<string[]> {
  const text = await readFile(join(folder(), 'history.jsonl'), 'utf8')
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(
      (line) =>
        JSON.parse(line) as {
          keyId: string
          action: string
          phase: string
          outcome?: { status: string }
        },
    )
    .filter((entry) => entry.keyId === keyId && entry.phase === 'outcome')
    .map((entry) => `${entry.action}:${entry.outcome}`)
}

async function threeVendors() {
  const openrouter = await start('openrouter')
  const latitude = await start('latitudesh')
  const notedx = await start('notedx')
  const accounts: Account[] = [
    { label: 'router', vendor: 'openrouter', emulator: openrouter },
    { label: 'lat', vendor: 'latitudesh', emulator: latitude },
    { label: 'ndx', vendor: 'notedx', emulator: notedx },
  ]
  return { openrouter, latitude, notedx, env: await fleetOf(accounts) }
}

/** Two Latitude.sh accounts in one fleet, labelled lat-a and lat-b. */
async function twoLatitudeAccounts() {
  const first = await start('latitudesh')
  const second = await start('latitudesh')
  const env = await fleetOf([
    { label: 'lat-a', vendor: 'latitudesh', emulator: first },
    { label: 'lat-b', vendor: 'latitudesh', emulator: second },
  ])
  return { first, second, env }
}

/**
 * One OpenRouter store `router` with a key `api` (`seed` on top), and the command `argsOf`
 * gives for its secret, killed while the emulator holds the successor's create.
 */
async function killedAtCreate(
  seed: { createdAt?: Date },
  argsOf: (secret: string) => string[],
): Promise<{ openrouter: Emulator; env: Record<string, string>; key: { id: string } }> {
  const openrouter = await start('openrouter')
  const env = await fleetOf([{ label: 'router', vendor: 'openrouter', emulator: openrouter }])
  const key = openrouter.control.seedKey({ name: 'api', ...seed })
  const args = argsOf(key.secret)
  await applyKilledAt(
    {
      name: args[0] as string,
      emulator: openrouter,
      match: { method: 'POST', path: /^\/api\/v1\/keys$/ },
    },
    { folder: folder(), env, batchId: '', args },
  )
  return { openrouter, env, key }
}

/** `command` finishes what was killed: the old key gone, a working successor delivered. */
async function expectFinished(
  command: string[],
  env: Record<string, string>,
  openrouter: Emulator,
  oldId: string,
) {
  expectOk(await keywayWith(command, env))
  expect(openrouter.control.keyIds()).not.toContain(oldId)
  expect(openrouter.control.works((await delivered()).ROUTER_API as string)).toBe(true)
}

describe('keyway revoke', () => {
  it('revokes a leaked OpenRouter secret: disabled at once, a working successor delivered, the old key deleted; no other vendor is sent it', async () => {
    const { openrouter, latitude, notedx, env } = await threeVendors()
    const api = openrouter.control.seedKey({ name: 'api' })
    const other = openrouter.control.seedKey({ name: 'worker' })
    const result = await keywayWith(['revoke', '--yes', '--now', '--json'], env, `${api.secret}\n`)
    expectOk(result)
    const shown = JSON.parse(result.stdout)
    expect(shown).toMatchObject({
      outcome: 'revoked',
      form: 'secret',
      shapes: ['openrouter'],
      matches: [{ label: 'router', id: api.id, by: 'key-id' }],
      disabled: true,
      plan: { disable: 'disable', successor: 'rotate', retire: 'delete', graceMs: 0 },
      successor: { status: 'rotated', retired: 'deleted' },
    })
    // The successor is at the vendor, delivered, and works; the leaked secret does not.
    const successor = (await delivered()).ROUTER_API as string
    expect(openrouter.control.works(successor)).toBe(true)
    expect(openrouter.control.keyIds()).toContain(shown.successor.newKeyId)
    expect(openrouter.control.keyIds()).not.toContain(api.id)
    expect(openrouter.control.works(api.secret)).toBe(false)
    // Nothing else changed there.
    expect(openrouter.control.works(other.secret)).toBe(true)
    // Disabled before anything else was done, deleted last.
    expect(await historyOf(api.id)).toEqual(['disable:succeeded', 'delete:succeeded'])
    // The other vendors were not even asked; the secret is nowhere keyway writes.
    expect(latitude.requests).toEqual([])
    expect(notedx.requests).toEqual([])
    expectNeverSent(openrouter, api.secret)
    const history = await readFile(join(folder(), 'history.jsonl'), 'utf8')
    const journal = await readFile(join(folder(), 'journal.json'), 'utf8')
    expectNowhere(api.secret, result.stdout, result.stderr, history, journal)
    expectNowhere(successor, result.stdout, result.stderr, history, journal)
  })

  it('revokes a Latitude.sh key from a hint of its last five characters: it cannot be disabled, so it is replaced and deleted', async () => {
    const { latitude, openrouter, env } = await threeVendors()
    const leaked = latitude.control.seedKey({ name: 'backups' })
    const kept = latitude.control.seedKey({ name: 'reports' })
    const result = await keywayWith(
      ['revoke', '--hint', `…${leaked.secret.slice(-5)}`, '--yes', '--now', '--json'],
      env,
    )
    expectOk(result)
    const shown = JSON.parse(result.stdout)
    expect(shown).toMatchObject({
      outcome: 'revoked',
      form: 'hint',
      matches: [{ label: 'lat', id: leaked.id, by: 'hint' }],
      disabled: false,
      plan: { disable: 'cannot', retire: 'delete' },
      successor: { status: 'rotated', retired: 'deleted' },
    })
    expect(shown.plan.cannot).toEqual([
      'latitudesh cannot disable keys: the old key works until it is deleted',
    ])
    const successor = (await delivered()).LAT_BACKUPS as string
    expect(latitude.control.works(successor)).toBe(true)
    expect(latitude.control.works(leaked.secret)).toBe(false)
    expect(latitude.control.keyIds()).not.toContain(leaked.id)
    expect(latitude.control.works(kept.secret)).toBe(true)
    // A hint of hex characters is no OpenRouter key's: OpenRouter keys show `sk-or-v1-…`,
    // and its label's end is compared without any write.
    expect(writes(openrouter)).toEqual([])
    expect(await historyOf(leaked.id)).toEqual(['delete:succeeded'])
  })

  it('revokes a leaked NoteDx key found by the id it gives: disabled at once, replaced, deleted', async () => {
    const { notedx, openrouter, latitude, env } = await threeVendors()
    const leaked = notedx.control.seedKey({ type: 'live' })
    const result = await keywayWith(['revoke', '--yes', '--now', '--json'], env, leaked.secret)
    expectOk(result)
    const shown = JSON.parse(result.stdout)
    const storeId = `ndx_${sha256(leaked.secret).slice(0, 24)}`
    expect(shown).toMatchObject({
      outcome: 'revoked',
      shapes: ['notedx'],
      matches: [{ label: 'ndx', id: storeId, by: 'key-id' }],
      disabled: true,
      successor: { status: 'rotated', retired: 'deleted' },
    })
    const variables = await delivered()
    expect(Object.keys(variables)).toHaveLength(1)
    const successor = Object.values(variables)[0] as string
    expect(notedx.control.works(successor)).toBe(true)
    expect(notedx.control.works(leaked.secret)).toBe(false)
    expect(await historyOf(storeId)).toEqual(['disable:succeeded', 'delete:succeeded'])
    expect(openrouter.requests).toEqual([])
    expect(latitude.requests).toEqual([])
    const history = await readFile(join(folder(), 'history.jsonl'), 'utf8')
    expectNowhere(leaked.secret, result.stdout, result.stderr, history)
  })

  it('finds an OpenRouter key by a SHA-256 prefix; the dry run changes nothing', async () => {
    const { openrouter, env } = await threeVendors()
    const leaked = openrouter.control.seedKey({ name: 'api' })
    const before = openrouter.requests.length
    const result = await keywayWith(
      ['revoke', '--sha256', `sha256:${sha256(leaked.secret).slice(0, 8)}`, '--dry-run', '--json'],
      env,
    )
    expectOk(result)
    expect(JSON.parse(result.stdout)).toMatchObject({
      outcome: 'dry-run',
      form: 'sha256',
      matches: [{ label: 'router', id: leaked.id, by: 'sha256' }],
      stores: expect.arrayContaining([
        expect.objectContaining({ label: 'lat', by: 'skipped' }),
        expect.objectContaining({ label: 'ndx', by: 'sha256' }),
      ]),
    })
    expect(writes(openrouter)).toEqual([])
    expect(openrouter.requests.length).toBeGreaterThan(before)
    expect(openrouter.control.works(leaked.secret)).toBe(true)
  })

  it('changes nothing when several keys match, and lists them by id, never a secret', async () => {
    const notedx = await start('notedx')
    const env = await fleetOf([{ label: 'ndx', vendor: 'notedx', emulator: notedx }])
    const twins = ['lk-0123456789abcdef0123beef', 'lk-fedcba9876543210fedcbeef'].map((id) =>
      notedx.control.seedKey({ id, type: 'live' }),
    )
    const result = await keywayWith(['revoke', '--hint', '…beef', '--yes'], env)
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('2 keys match; nothing changed')
    for (const twin of twins) {
      expect(result.stdout).toContain(`ndx_${sha256(twin.secret).slice(0, 24)}`)
      expect(notedx.control.works(twin.secret)).toBe(true)
      expectNowhere(twin.secret, result.stdout, result.stderr)
    }
    expect(writes(notedx)).toEqual([])
  })

  it('says so when nothing matches, and sends nothing anywhere', async () => {
    const { openrouter, env } = await threeVendors()
    openrouter.control.seedKey({ name: 'api' })
    const unknown = `sk-or-v1-${'ab'.repeat(32)}`
    const result = await keywayWith(['revoke', '--yes', '--json'], env, unknown)
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'none', matches: [] })
    expect(writes(openrouter)).toEqual([])
    expectNowhere(unknown, result.stdout, result.stderr)
  })

  it('picks the right one of two accounts of one vendor whose key ids collide', async () => {
    const { first, second, env } = await twoLatitudeAccounts()
    const id = 'tok_collide123456'
    const a = first.control.seedKey({ id, name: 'ci' })
    const b = second.control.seedKey({ id, name: 'ci' })
    const result = await keywayWith(
      ['revoke', '--hint', `…${b.secret.slice(-5)}`, '--yes', '--now', '--json'],
      env,
    )
    expectOk(result)
    expect(JSON.parse(result.stdout)).toMatchObject({
      matches: [{ label: 'lat-b', id }],
      successor: { status: 'rotated' },
    })
    expect(second.control.works(b.secret)).toBe(false)
    expect(first.control.works(a.secret)).toBe(true)
    expect(writes(first)).toEqual([])
    expect((await delivered()).LAT_B_CI).toBeDefined()
  })

  it('disables a leaked Anthropic key and says what the vendor cannot do: mint a successor, delete the key', async () => {
    const anthropic = await start('anthropic')
    const env = await fleetOf([{ label: 'claude', vendor: 'anthropic', emulator: anthropic }])
    const leaked = anthropic.control.seedKey({ name: 'api' })
    const result = await keywayWith(['revoke', '--yes', '--json'], env, leaked.secret)
    expectOk(result)
    const shown = JSON.parse(result.stdout)
    expect(shown).toMatchObject({
      outcome: 'revoked',
      matches: [{ label: 'claude', id: leaked.id, by: 'hint' }],
      disabled: true,
      plan: { disable: 'disable', successor: 'skip', retire: 'disable' },
    })
    expect(shown.plan.cannot).toEqual([
      'anthropic cannot delete keys through its API: the old key stays disabled',
    ])
    expect(shown.plan.reason).toContain('anthropic')
    expect(anthropic.control.works(leaked.secret)).toBe(false)
    expect(anthropic.control.keyIds()).toContain(leaked.id)
    expect(await historyOf(leaked.id)).toEqual(['disable:succeeded'])
    expectNowhere(leaked.secret, result.stdout, result.stderr)
  })

  it('refuses a secret given as an argument or as a hint without echoing it, before any request', async () => {
    const { openrouter, env } = await threeVendors()
    const leaked = openrouter.control.seedKey({ name: 'api' })
    const runs = [
      await keywayWith(['revoke', leaked.secret, '--yes'], env),
      await keywayWith(['revoke', '--hint', leaked.secret, '--yes'], env),
      await keywayWith(['revoke', '--sha256', 'not-hex', '--yes'], env),
      // Seven hex digits name one key in hundreds of millions only with few keys: refused.
      await keywayWith(['revoke', '--sha256', sha256(leaked.secret).slice(0, 7), '--yes'], env),
      await keywayWith(['revoke', '--hint', 'ab', '--yes'], env),
      await keywayWith(['revoke', '--hint', '…abcd', '--sha256', 'abcdef12', '--yes'], env),
      await keywayWith(['revoke', '--yes'], env, ''),
    ]
    for (const run of runs) {
      expect(run.code).toBe(1)
      expect(run.stdout).toBe('')
      expect(run.stderr).toMatch(/error (UsageError|ValidationError)/)
      expectNowhere(leaked.secret, run.stderr)
    }
    expect(openrouter.requests).toEqual([])
  })

  it.each([
    { point: 'the successor’s create', method: 'POST', path: /^\/api\/v1\/keys$/ },
    { point: 'the leaked key’s delete', method: 'DELETE', path: /^\/api\/v1\/keys\// },
  ])(
    'a revoke killed during $point finishes with the command it printed: one successor, delivered, the leaked key deleted, no other key touched',
    async ({ method, path }) => {
      const openrouter = await start('openrouter')
      const env = await fleetOf([{ label: 'router', vendor: 'openrouter', emulator: openrouter }])
      const leaked = openrouter.control.seedKey({ name: 'api' })
      const other = openrouter.control.seedKey({ name: 'worker' })
      const hash = sha256(leaked.secret).slice(0, 16)
      const seeded = openrouter.control.keyIds()
      const killed = await applyKilledAt(
        { name: 'revoke', emulator: openrouter, match: { method, path } },
        {
          folder: folder(),
          env,
          batchId: '',
          args: ['revoke', '--sha256', hash, '--yes', '--now'],
        },
      )
      // The leaked key was disabled before the kill; the run said how to finish.
      expect(openrouter.control.works(leaked.secret)).toBe(false)
      const printed = /if interrupted, run keyway (.+)\)$/m.exec(killed.stderr)?.[1]
      expect(printed).toMatch(/^revoke --sha256 \w+ --yes --now --batch-id revoke-\w+$/)
      const resumed = await keywayWith((printed as string).split(' '), env)
      expectOk(resumed)
      expect(resumed.stdout).toMatch(
        /router: revoke of batch revoke-\w+: \S+ replaced by \S+, delivered; old key deleted/,
      )
      // Exactly one successor: the keys there were, less the leaked one, plus one.
      const ids = openrouter.control.keyIds()
      expect(ids).not.toContain(leaked.id)
      expect(seeded.filter((id) => id !== leaked.id).every((id) => ids.includes(id))).toBe(true)
      expect(ids.filter((id) => !seeded.includes(id))).toHaveLength(1)
      const successor = (await delivered()).ROUTER_API as string
      expect(openrouter.control.works(successor)).toBe(true)
      // The other key was never written to.
      expect(openrouter.control.works(other.secret)).toBe(true)
      expect(writes(openrouter).filter((request) => request.path.includes(other.id))).toEqual([])
      // A second run of the same command sends no write.
      const before = writes(openrouter).length
      const again = await keywayWith((printed as string).split(' '), env)
      expectOk(again)
      expect(writes(openrouter).length).toBe(before)
      const journal = await readFile(join(folder(), 'journal.json'), 'utf8')
      expectNowhere(leaked.secret, killed.stderr, resumed.stdout, resumed.stderr, journal)
      expectNowhere(successor, killed.stderr, resumed.stdout, resumed.stderr, journal)
    },
  )

  it('refuses apply and rotate --batch-id of an unfinished revoke before any request, naming the revoke that finishes it', async () => {
    const {
      openrouter,
      env,
      key: leaked,
    } = await killedAtCreate({}, (secret) => [
      'revoke',
      '--sha256',
      sha256(secret).slice(0, 16),
      '--yes',
      '--now',
      '--batch-id',
      'revoke-leak1',
    ])
    const sent = openrouter.requests.length
    // A new apply beside the unfinished revoke is refused, and the command it prints is the
    // revoke that finishes it (apply would refuse that batch).
    const beside = await keywayWith(['apply', '--yes'], env)
    expect(beside.code).toBe(1)
    expect(beside.stderr).toContain('UnfinishedBatch: batch revoke-leak1 in')
    expect(beside.stderr.trim().split('\n').at(-1)).toBe(
      'keyway revoke --yes --batch-id revoke-leak1',
    )
    const applied = await keywayWith(['apply', '--batch-id', 'revoke-leak1', '--yes'], env)
    expect(applied.code).toBe(1)
    expect(applied.stdout).toBe('')
    expect(applied.stderr).toMatch(
      /error UsageError: batch revoke-leak1 in \S+journal\.json was started by keyway revoke: apply would not finish it .*; nothing was sent \(hint: keyway revoke --yes --batch-id revoke-leak1\)/,
    )
    // `rotate` with the store's part of the batch: the same, with the journal it was given.
    const rotated = await keywayWith(
      [
        'rotate',
        '--batch-id',
        'revoke-leak1:router',
        '-p',
        'openrouter',
        '--journal',
        'journal.json',
        '--yes',
      ],
      {
        ...env,
        OPENROUTER_BASE_URL: String(openrouter.settings.baseUrl),
        OPENROUTER_MANAGEMENT_KEY: String(openrouter.settings.managementKey),
      },
    )
    expect(rotated.code).toBe(1)
    expect(rotated.stderr).toContain(
      `(hint: keyway revoke --yes --journal ${join(folder(), 'journal.json')} --batch-id revoke-leak1)`,
    )
    expect(openrouter.requests.length).toBe(sent)
    // The command in the hint finishes the revoke: one successor, delivered; the leaked key gone.
    await expectFinished(
      ['revoke', '--yes', '--batch-id', 'revoke-leak1'],
      env,
      openrouter,
      leaked.id,
    )
  })

  it('refuses revoke --batch-id of an unfinished apply batch before any request, naming the apply that finishes it; an unmarked batch resumes as before', async () => {
    const {
      openrouter,
      env,
      key: old,
    } = await killedAtCreate({ createdAt: new Date(Date.now() - 400 * 86_400_000) }, () => [
      'apply',
      '--yes',
      '--batch-id',
      'nightly',
      '--max-age-days',
      '90',
    ])
    const sent = openrouter.requests.length
    const revoked = await keywayWith(['revoke', '--batch-id', 'nightly', '--yes', '--now'], env)
    expect(revoked.code).toBe(1)
    expect(revoked.stderr).toMatch(
      /error UsageError: batch nightly in \S+journal\.json was started by keyway apply, not revoke: .*; nothing was sent \(hint: keyway apply --yes --batch-id nightly\)/,
    )
    expect(openrouter.requests.length).toBe(sent)
    // A journal written before batches were marked: resumed as before (here by apply).
    const path = join(folder(), 'journal.json')
    const journal = JSON.parse(await readFile(path, 'utf8'))
    for (const batch of Object.values(journal.batches) as Array<{ kind?: string }>) {
      expect(batch.kind).toBe('rotate')
      delete batch.kind
    }
    await writeFile(path, JSON.stringify(journal))
    await expectFinished(['apply', '--yes', '--batch-id', 'nightly'], env, openrouter, old.id)
  })

  it('changes nothing when a store could not be searched, and names it', async () => {
    const { first, second, env } = await twoLatitudeAccounts()
    const leaked = first.control.seedKey({ name: 'ci' })
    second.inject({ match: { method: 'GET', path: /^\/auth\/api_keys/ }, status: 500, times: 20 })
    const result = await keywayWith(
      ['revoke', '--hint', `…${leaked.secret.slice(-5)}`, '--yes', '--now'],
      env,
    )
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('nothing changed')
    expect(result.stderr).toContain('could not search store lat-b')
    expect(first.control.works(leaked.secret)).toBe(true)
    expect(writes(first)).toEqual([])
    expect(writes(second)).toEqual([])
  })
})
