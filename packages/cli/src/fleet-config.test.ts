// `openFleetConfig`, the CLI's config reader for programs (the key dashboard): the stores and
// targets `keyway plan` works on, opened from the file and the env vars it names.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@keyway/testkit'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { openFleetConfig } from './index.js'

let folder: string
let openrouter: Emulator
let env: Record<string, string>

const CONFIG = {
  policy: { maxAgeDays: 30 },
  stores: [
    {
      label: 'or-prod',
      vendor: 'openrouter',
      credentials: { managementKey: 'OR_KEY' },
      baseUrlEnv: 'OR_URL',
      rotation: { retire: 'disable' },
      targets: [
        { kind: 'dotenv', path: 'app.env', keys: { name: 'app-*' } },
        { kind: 'vault-kv', path: 'web/prod', key: 'OR_API', keys: { name: 'app-api' } },
      ],
    },
  ],
}

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'keyway-fleet-config-'))
  openrouter = await startEmulator('openrouter', { seedKeys: 0, rateLimit: false })
  openrouter.control.seedKey({ name: 'app-api' })
  openrouter.control.seedKey({ name: 'app-web' })
  openrouter.control.seedKey({ name: 'laptop' })
  env = {
    OR_KEY: openrouter.settings.managementKey as string,
    OR_URL: openrouter.settings.baseUrl as string,
    VAULT_ADDR: 'http://127.0.0.1:1',
    VAULT_TOKEN: 'fake-vault-token',
  }
  await writeFile(join(folder, 'keyway.config.json'), JSON.stringify(CONFIG))
})

afterEach(async () => {
  await openrouter.close()
  await rm(folder, { recursive: true, force: true })
})

it('opens the stores and each key’s targets as keyway plan does, sending nothing', async () => {
  const opened = await openFleetConfig({
    env: { ...env, KEYWAY_CONFIG: 'keyway.config.json' },
    cwd: folder,
  })
  expect(opened.file).toBe('keyway.config.json')
  expect(opened.folder).toBe(folder)
  expect(opened.policy).toEqual({ maxAgeDays: 30 })
  expect(openrouter.requests).toEqual([])
  const [store] = opened.stores
  expect(opened.stores).toHaveLength(1)
  expect(store?.fleetStore.label).toBe('or-prod')
  expect(store?.fleetStore.rotation?.retire).toBe('disable')
  expect(store?.descriptor.id).toBe('openrouter')
  expect(store?.probes.map((probe) => [probe.path, probe.where])).toEqual([
    ['stores[0].targets[0]', 'app.env'],
    ['stores[0].targets[1]', 'secret/web/prod#OR_API'],
  ])
  expect(opened.fleet.stores.map((entry) => entry.label)).toEqual(['or-prod'])
  const keys = await opened.fleet.list()
  const targetsOf = (name: string) => {
    const key = keys.find((entry) => entry.key.name === name)?.key
    if (key === undefined) throw new Error(`no key ${name}`)
    return store?.targetsOf(key.id, key).map((target) => [target.name, target.description.kind])
  }
  expect(targetsOf('app-api')).toEqual([
    ['dotenv:app.env', 'dotenv'],
    ['vault-kv:secret/web/prod#OR_API', 'vault-kv'],
  ])
  expect(targetsOf('app-web')).toEqual([['dotenv:app.env', 'dotenv']])
  expect(targetsOf('laptop')).toEqual([])
})

it('names the file and the path of an env var that is not set, never a value', async () => {
  expect.assertions(2)
  const path = join(folder, 'keyway.config.json')
  const { VAULT_TOKEN: _token, ...withoutToken } = env
  await expect(openFleetConfig({ path, env: withoutToken })).rejects.toThrow(
    /keyway\.config\.json: stores\[0\]\.targets\[1\]\.tokenEnv: env var VAULT_TOKEN is not set/,
  )
  await expect(openFleetConfig({ path, env: { ...env, OR_KEY: '' } })).rejects.toThrow(
    /keyway\.config\.json: stores\[0\]\.credentials\.managementKey: env var OR_KEY is not set$/,
  )
})

it('records each change in the history file when asked, as the CLI records its own', async () => {
  const history = join(folder, 'history.jsonl')
  const path = join(folder, 'keyway.config.json')
  const quiet = await openFleetConfig({ path, env })
  expect(quiet.history).toBeNull()
  const opened = await openFleetConfig({ path, env, history })
  expect(opened.history).toBe(history)
  const store = opened.stores[0]?.fleetStore.store
  const [key] = await (store?.list() ?? Promise.resolve([]))
  await store?.update(key?.id as string, { status: 'disabled' })
  const lines = (await readFile(history, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  expect(lines.map((line) => [line.store, line.phase, line.action, line.keyId])).toEqual([
    ['or-prod', 'attempt', 'disable', key?.id],
    ['or-prod', 'outcome', 'disable', key?.id],
  ])
  expect(await readFile(history, 'utf8')).not.toContain(env.OR_KEY)
})
