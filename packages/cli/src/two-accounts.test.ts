import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { applyKilledThenResumed } from './cli.test-support.js'
import { type Account, configOf, envOf, useAccounts, VENDORS } from './two-accounts.test-support.js'

const {
  folder,
  accounts,
  start,
  pair,
  writeConfig,
  writeDeliveryScript,
  expectNoCrossing,
  keyway,
} = useAccounts('keyway-accounts-')

const writes = () =>
  accounts().reduce(
    (sum, account) =>
      sum + account.emulator.requests.filter((request) => request.method !== 'GET').length,
    0,
  )

/** The requests each account was sent so far. */
const requestCounts = () => accounts().map((account) => account.emulator.requests.length)

const startTwoAccountsEach = () =>
  start({
    vendors: VENDORS,
    labels: (vendor, side) => `${vendor}-${side === 0 ? 'prod' : 'staging'}`,
    keys: 3,
    collide: () => true,
  })

describe('two accounts of each vendor in one fleet, their key ids colliding', () => {
  it('a secret is only ever delivered for the account it was minted at, across a crash and resume', async () => {
    await startTwoAccountsEach()
    // The ids really collide: each staging key has the id of a production key.
    for (const vendor of VENDORS) {
      const [prod, staging] = accounts().filter((account) => account.vendor === vendor) as [
        Account,
        Account,
      ]
      expect(staging.due.map((key) => key.id)).toEqual(prod.due.map((key) => key.id))
    }
    const env = envOf(accounts())
    await writeConfig(configOf(accounts(), () => 2))
    // Killed on its 7th delivery: some stores done, some mid-way, some not begun.
    await writeDeliveryScript(7)

    await applyKilledThenResumed('nightly-1', env, folder())
    await expectNoCrossing()

    // A rerun of the finished batch sends no write at any account.
    const before = writes()
    const again = await keyway(['apply', '--yes', '--batch-id', 'nightly-1'], env)
    expect(again.code).toBe(0)
    expect(writes()).toBe(before)
    // The digest key of the account records is the owner's only.
    expect((await stat(join(folder(), '.keyway-rotations.json.key'))).mode & 0o777).toBe(0o600)
    const records = await readFile(join(folder(), '.keyway-rotations.json.accounts.json'), 'utf8')
    for (const account of accounts())
      for (const [setting, value] of Object.entries(account.emulator.settings))
        if (!['baseUrl', 'email', 'credentialKeyId'].includes(setting))
          expect(records, `${account.label} ${setting}`).not.toContain(String(value))
  })

  it('refuses to resume a label pointed at another account, saying what changed, sending nothing', async () => {
    await startTwoAccountsEach()
    const env = envOf(accounts())
    await writeConfig(configOf(accounts(), () => 1))
    await writeDeliveryScript(3)
    const crashed = await keyway(['apply', '--yes', '--batch-id', 'nightly-2'], env)
    expect(crashed.code).not.toBe(0)

    // The operator's mistake: production's env vars now hold staging's credential and URL.
    const prod = accounts().find((account) => account.label === 'voiceable-prod') as Account
    const staging = accounts().find((account) => account.label === 'voiceable-staging') as Account
    const mixed = { ...env }
    for (const [setting, name] of Object.entries(prod.envNames))
      mixed[name] = String(staging.emulator.settings[setting])
    const before = writes()
    const requests = requestCounts()
    const refused = await keyway(['apply', '--yes', '--batch-id', 'nightly-2'], mixed)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(
      `FingerprintMismatchError: batch nightly-2:voiceable-prod: store "voiceable-prod" now reaches another account than when the batch began (the base URL changed from ${String(prod.emulator.settings.baseUrl)} to ${String(staging.emulator.settings.baseUrl)} and the credential changed); nothing was sent`,
    )
    expect(refused.stderr).toContain('point the label back at the account the batch began with')
    expect(refused.stderr).not.toContain(String(staging.emulator.settings.apiKey))
    expect(writes()).toBe(before)
    expect(requestCounts()).toEqual(requests)

    // Pointed back, the batch finishes.
    const resumed = await keyway(['apply', '--yes', '--batch-id', 'nightly-2'], env)
    expect(resumed.code).toBe(0)
    await expectNoCrossing()
  })
})

describe('two stores that reach one account', () => {
  it('are refused before any request when they share a credential env var', async () => {
    const { first: ci, env, config } = await pair('openrouter', ['ci', 'web'], 2, false)
    const seedRequests = requestCounts()
    // The second store names the first one's env vars: one account under two labels.
    const second = config.stores[1] as (typeof config.stores)[number]
    config.stores[1] = {
      ...second,
      credentials: { managementKey: ci.envNames.managementKey as string },
      baseUrlEnv: ci.envNames.baseUrl as string,
    }
    await writeConfig(config)
    await writeDeliveryScript()
    for (const command of [['apply', '--yes'], ['plan']]) {
      const run = await keyway(command, env)
      expect(run.code, command[0]).toBe(1)
      expect(run.stderr).toContain(
        'SameAccountError: fleet plan: stores "ci" and "web" reach the same account (same base URL and credential)',
      )
      expect(run.stderr).toContain('each account needs one store in the config')
    }
    expect(requestCounts()).toEqual(seedRequests)
  })

  it('are let through when their name globs cannot select one key', async () => {
    const { first: svc, env, config } = await pair('latitudesh', ['svc', 'other'], 2, false)
    const first = config.stores[0] as (typeof config.stores)[number]
    await writeConfig({
      ...config,
      stores: [
        { ...first, select: { name: 'svc-1' } },
        { ...first, label: 'svc-two', select: { name: 'svc-2' } },
      ],
    })
    await writeDeliveryScript()
    const run = await keyway(['apply', '--yes', '--json'], env)
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ rotated: 2, failed: 0 })
    expect(svc.due.every((key) => !svc.emulator.control.works(key.secret))).toBe(true)
  })
})

describe('two stores of one vendor delivering to one dotenv file', () => {
  it('are refused before any request under the default variable, and pass with {LABEL}', async () => {
    const { first: eu, second: us, env, config } = await pair('voiceable', ['eu', 'us'], 1, true)
    const seedRequests = requestCounts()
    const stores = config.stores.map((store) => ({ ...store, deliver: { to: '.secrets/app.env' } }))
    await writeConfig({ ...config, stores })
    const refused = await keyway(['apply', '--yes'], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(
      'ConfigError: keyway.config.json: stores[1].deliver.variable: "eu" and "us" both deliver to .secrets/app.env, and their variables can be the same ({PROVIDER}_{NAME} and {PROVIDER}_{NAME}); nothing was sent',
    )
    expect(requestCounts()).toEqual(seedRequests)

    await writeConfig({
      ...config,
      stores: stores.map((store) => ({
        ...store,
        deliver: { to: '.secrets/app.env', variable: '{LABEL}_{NAME}' },
      })),
    })
    const applied = await keyway(['apply', '--yes'], env)
    expect(applied.code).toBe(0)
    const file = await readFile(join(folder(), '.secrets', 'app.env'), 'utf8')
    const line = (name: string) => file.split('\n').find((entry) => entry.startsWith(`${name}=`))
    const euSecret = line('EU_SVC_1')?.slice('EU_SVC_1='.length) ?? ''
    const usSecret = line('US_SVC_1')?.slice('US_SVC_1='.length) ?? ''
    expect(eu.emulator.control.works(euSecret)).toBe(true)
    expect(us.emulator.control.works(euSecret)).toBe(false)
    expect(us.emulator.control.works(usSecret)).toBe(true)
    expect(eu.emulator.control.works(usSecret)).toBe(false)
  })
})

describe("a store's named env vars never fall back to the vendor's defaults", () => {
  it('refuses a vendor default variable that would stand in for a credential the config names, and an unset baseUrlEnv', async () => {
    const paired = await pair('voiceable', ['prod', 'staging'], 1, false)
    const { first: prod, second: staging, env, config } = paired
    const seedRequests = requestCounts()
    // Staging is given by session token; the shell still holds production's API key.
    const stagingStore = config.stores[1] as (typeof config.stores)[number]
    await writeConfig({
      ...config,
      stores: [
        config.stores[0],
        { ...stagingStore, credentials: { token: 'STAGING_SESSION_TOKEN' } },
      ],
    })
    const withDefault = {
      ...env,
      STAGING_SESSION_TOKEN: 'fake-session-token',
      VOICEABLE_API_KEY: String(prod.emulator.settings.apiKey),
    }
    const refused = await keyway(['plan'], withDefault)
    expect(refused.code).toBe(4)
    expect(refused.stderr).toContain(
      'keyway.config.json: stores[1].credentials: VOICEABLE_API_KEY is set, and the store would read its `apiKey` from it beside the env vars named here',
    )
    expect(refused.stderr).not.toContain(String(prod.emulator.settings.apiKey))

    await writeConfig(config)
    const unsetUrl = { ...env }
    delete unsetUrl[staging.envNames.baseUrl as string]
    const noUrl = await keyway(['plan'], unsetUrl)
    expect(noUrl.code).toBe(1)
    expect(noUrl.stderr).toContain(
      `keyway.config.json: stores[1].baseUrlEnv: env var ${staging.envNames.baseUrl} is not set`,
    )
    expect(requestCounts()).toEqual(seedRequests)
  })
})
