// Two accounts of each vendor in one fleet, each its own emulator, their key ids colliding;
// a delivery command that can kill keyway after a chosen delivery; and the checks an operator
// relies on afterwards. Shared by the two-account test and the fault campaign.
import { createHash } from 'node:crypto'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noteDxKeyId } from '@keyway/notedx'
import { type Emulator, startEmulator, type Vendor } from '@keyway/testkit'
import { afterEach, beforeEach, expect } from 'vitest'
import { keyway, killKeywayOnce } from './cli.test-support.js'
import { PROVIDERS } from './providers.js'

export const VENDORS: readonly Vendor[] = ['openrouter', 'latitudesh', 'notedx', 'voiceable']

const DAY = 86_400_000
const daysAgo = (days: number) => new Date(Date.now() - days * DAY)

/** One account: its emulator, its store's label and env vars, and the keys seeded there. */
export interface Account {
  vendor: Vendor
  label: string
  emulator: Emulator
  /** The env var of each setting of the emulator (its credential and base URL). */
  envNames: Record<string, string>
  /** Keys made 120 days ago: due under the policy. */
  due: Array<{ id: string; name: string; secret: string }>
  /** A key made 5 days ago: not due, never to be touched. */
  fresh: { id: string; secret: string }
  /** How many active keys the account held once seeded. */
  keyCount: number
}

/** Upper snake case, as the CLI makes variable names. */
export const upperSnake = (value: string) =>
  value
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')

/** The id a store knows a seeded key by (NoteDx: a hash of the key). */
const storeId = (vendor: Vendor, key: { id: string; secret: string }) =>
  vendor === 'notedx' ? noteDxKeyId(key.secret) : key.id

/**
 * Starts two accounts per vendor (`labels[vendor]` names them), each with `keys` due keys;
 * where `collide` says so for a due key, the second account's key gets the first one's id
 * (Voiceable's small integers collide by themselves).
 */
export async function startAccounts(options: {
  vendors: readonly Vendor[]
  labels: (vendor: Vendor, side: 0 | 1) => string
  keys: number
  collide: (vendor: Vendor, index: number) => boolean
}): Promise<Account[]> {
  const accounts: Account[] = []
  for (const vendor of options.vendors) {
    const pair: Account[] = []
    for (const side of [0, 1] as const) {
      const emulator = await startEmulator(vendor, { seedKeys: 0, rateLimit: false })
      const label = options.labels(vendor, side)
      const prefix = upperSnake(label)
      const envNames = Object.fromEntries(
        Object.keys(emulator.settings).map((setting) => [
          setting,
          `${prefix}_${upperSnake(setting)}`,
        ]),
      )
      const due = Array.from({ length: options.keys }, (_, index) => {
        const name = `svc-${index + 1}`
        const twin = side === 1 && options.collide(vendor, index) ? pair[0]?.due[index] : undefined
        const seeded = emulator.control.seedKey({
          name,
          type: 'live',
          createdAt: daysAgo(120),
          // NoteDx's id is the key itself: the twin's id is its seeded key, not the store's hash.
          ...(twin === undefined ? {} : { id: vendor === 'notedx' ? twin.secret : twin.id }),
        })
        return { id: storeId(vendor, seeded), name, secret: seeded.secret }
      })
      const freshKey = emulator.control.seedKey({
        name: 'fresh',
        type: 'live',
        createdAt: daysAgo(5),
      })
      pair.push({
        vendor,
        label,
        emulator,
        envNames,
        due,
        fresh: { id: storeId(vendor, freshKey), secret: freshKey.secret },
        keyCount: 0,
      })
      const seededAccount = pair[pair.length - 1] as Account
      seededAccount.keyCount = await activeCount(seededAccount)
    }
    accounts.push(...pair)
  }
  return accounts
}

/**
 * Per test: a fresh folder, and the accounts a test starts (`start`, or `pair` for two of one
 * vendor), closed and removed afterwards; `keyway` runs in the folder.
 */
export function useAccounts(prefix: string) {
  let folder = ''
  let accounts: Account[] = []
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), prefix))
  })
  afterEach(async () => {
    await Promise.all(accounts.map((account) => account.emulator.close()))
    accounts = []
    await rm(folder, { recursive: true, force: true })
  })
  const start = async (options: Parameters<typeof startAccounts>[0]) => {
    accounts = await startAccounts(options)
    return accounts
  }
  return {
    folder: () => folder,
    accounts: () => accounts,
    start,
    /**
     * Two accounts of `vendor` labelled `labels`, `keys` due keys each, whose ids `collide` or
     * not; with their env, and a config of one store each, one rotation at a time.
     */
    async pair(vendor: Vendor, labels: readonly [string, string], keys: number, collide: boolean) {
      const two = (await start({
        vendors: [vendor],
        labels: (_vendor, side) => labels[side],
        keys,
        collide: () => collide,
      })) as [Account, Account]
      return { first: two[0], second: two[1], env: envOf(two), config: configOf(two, () => 1) }
    },
    /** Writes `deliver.sh` into the folder, as `writeDeliveryScript`. */
    writeDeliveryScript: (killAfter?: number) => writeDeliveryScript(folder, killAfter),
    /** Checks every account against what `deliver.sh` delivered, as `expectNoCrossing`. */
    expectNoCrossing: async () => expectNoCrossing(accounts, await deliveredSecrets(folder)),
    writeConfig: (config: unknown) =>
      writeFile(join(folder, 'keyway.config.json'), JSON.stringify(config, null, 2)),
    keyway: (args: string[], env: Record<string, string>) => keyway(args, env, folder),
  }
}

/** The env the CLI runs with: every account's credential and base URL under its own names. */
export function envOf(accounts: readonly Account[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const account of accounts)
    for (const [setting, name] of Object.entries(account.envNames))
      env[name] = String(account.emulator.settings[setting])
  return env
}

/** A config with one store per account, each delivering through `deliver.sh`. */
export function configOf(accounts: readonly Account[], concurrency: (account: Account) => number) {
  return {
    policy: { maxAgeDays: 90 },
    // Each test's journal in its own folder, beside its config.
    journal: '.keyway-rotations.json',
    stores: accounts.map((account) => {
      const { baseUrl, ...credentials } = account.envNames
      return {
        label: account.label,
        vendor: account.vendor,
        credentials,
        baseUrlEnv: baseUrl,
        // NoteDx keys have no names: their variables are told apart by id.
        deliver: {
          to: 'exec:./deliver.sh',
          variable: account.vendor === 'notedx' ? '{LABEL}_{ID}' : '{LABEL}_{NAME}',
        },
        rotation: { concurrency: concurrency(account) },
      }
    }),
  }
}

/**
 * Writes `deliver.sh` into `folder`: it appends `VARIABLE=secret` to `delivered.env` and, on
 * its `killAfter`-th delivery of the first run, SIGKILLs keyway (its parent, or the parent of
 * the shell that runs it) before answering.
 */
export async function writeDeliveryScript(folder: string, killAfter?: number): Promise<void> {
  const script = join(folder, 'deliver.sh')
  await writeFile(
    script,
    [
      '#!/bin/sh',
      'read -r secret',
      // The store's label too: the test checks each secret against the account it was meant for.
      'printf "%s %s=%s\\n" "$KEYWAY_STORE" "$KEYWAY_VAR_NAME" "$secret" >> delivered.env',
      ...(killAfter === undefined
        ? []
        : killKeywayOnce(`[ "$(wc -l < delivered.env)" -ge ${killAfter} ]`)),
      '',
    ].join('\n'),
  )
  await chmod(script, 0o755)
}

/** Each store's variables with their last secret in `delivered.env`: what a consumer reads. */
export async function deliveredSecrets(folder: string): Promise<Map<string, Map<string, string>>> {
  const text = await readFile(join(folder, 'delivered.env'), 'utf8')
  const byLabel = new Map<string, Map<string, string>>()
  for (const line of text.trim().split('\n')) {
    const space = line.indexOf(' ')
    const at = line.indexOf('=')
    const label = line.slice(0, space)
    const variables = byLabel.get(label) ?? new Map<string, string>()
    variables.set(line.slice(space + 1, at), line.slice(at + 1))
    byLabel.set(label, variables)
  }
  return byLabel
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

/**
 * What the operator believes after the batch, checked at every emulator: each due key was
 * rotated exactly once (its old secret dead, one working successor delivered under its own
 * label), each delivered secret works at its own account and at no other, the fresh keys are
 * untouched, and no account ever saw the other account's credential.
 */
/** The active keys the account's store lists. */
async function activeCount(account: Account): Promise<number> {
  const store = PROVIDERS[account.vendor].create({ ...account.emulator.settings })
  return (await store.list()).filter((key) => key.status === 'active').length
}

export async function expectNoCrossing(
  accounts: readonly Account[],
  delivered: Map<string, Map<string, string>>,
) {
  for (const account of accounts) {
    const { control } = account.emulator
    const others = accounts.filter((other) => other !== account)
    const where = account.label
    const own = [...(delivered.get(account.label) ?? new Map<string, string>())]
    const working = own.filter(([, secret]) => control.works(secret))
    // One working successor per due key, delivered for this store, and no key left over.
    expect(working.length, `${where}: working secrets delivered`).toBe(account.due.length)
    expect(await activeCount(account), `${where}: active keys at the vendor`).toBe(account.keyCount)
    for (const [variable] of own) {
      expect(variable.startsWith(`${upperSnake(account.label)}_`), variable).toBe(true)
    }
    if (account.vendor !== 'notedx') {
      // Named keys: each due name's variable holds a working secret.
      for (const key of account.due) {
        const secret = new Map(own).get(`${upperSnake(account.label)}_${upperSnake(key.name)}`)
        expect(secret !== undefined && control.works(secret), `${where} ${key.name}`).toBe(true)
      }
    }
    for (const [variable, secret] of own) {
      for (const other of others) {
        expect(
          other.emulator.control.works(secret),
          `${where} ${variable} works at ${other.label}`,
        ).toBe(false)
      }
    }
    for (const key of account.due) {
      expect(control.works(key.secret), `${where} ${key.name}: old secret retired`).toBe(false)
    }
    expect(control.works(account.fresh.secret), `${where}: fresh key untouched`).toBe(true)
    // No request to this account carried another account's own credential.
    const foreign = new Set(
      others.flatMap((other) =>
        Object.entries(other.emulator.settings)
          .filter(([setting]) => !['baseUrl', 'email', 'credentialKeyId'].includes(setting))
          .map(([, value]) => sha256(String(value))),
      ),
    )
    const crossed = account.emulator.requests.filter(
      (request) => request.credentialDigest !== undefined && foreign.has(request.credentialDigest),
    )
    expect(crossed, `${where}: requests with another account's credential`).toEqual([])
    // No write at this account names its fresh key.
    const freshWrites = account.emulator.requests.filter(
      (request) =>
        request.method !== 'GET' && request.path.includes(encodeURIComponent(account.fresh.id)),
    )
    expect(freshWrites, `${where}: writes to the fresh key`).toEqual([])
  }
}
