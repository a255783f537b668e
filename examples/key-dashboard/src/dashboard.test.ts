import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { run } from '@keyway/cli'
import { noteDxKeyId } from '@keyway/notedx'
import { startEmulator, startGitHubEmulator } from '@keyway/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { startDashboard } from './dashboard.js'
import type { DemoFleet } from './demo-fleet.js'
import {
  listedIds,
  listedTargets,
  openTestDashboard,
  shownSecret,
  storeSection,
  type TestDashboard,
} from './test-client.test-support.js'

let current: TestDashboard | undefined
const open = async () => {
  current = await openTestDashboard()
  return current
}
afterEach(async () => {
  await current?.dashboard.close()
  current = undefined
})

const demoOf = (test: TestDashboard) => test.dashboard.demo as DemoFleet

/** Requests that changed something at any vendor (NoteDx's login aside). */
const writes = (test: TestDashboard) =>
  test.vendorRequests().filter((line) => !/ GET /.test(line) && !/auth\/login/.test(line))

/** What every delivery target holds now, values included: equal before and after means untouched. */
function targetState(test: TestDashboard) {
  const { github, vercel, aws, kubernetes, vault } = demoOf(test).targets
  const production = { repository: 'acme/app', environment: 'production' }
  return {
    github: [production, { repository: 'acme/app' }, { organization: 'acme' }].map((scope) =>
      github.control.names(scope).map((name) => [name, github.control.secret(scope, name)]),
    ),
    vercel: [vercel.control.env('web'), vercel.control.deployments('web').length],
    aws: ['prod/latitude-ci', 'prod/openai'].map((id) => aws.control.value(id)),
    kubernetes: [
      kubernetes.control.secret('prod', 'app-keys'),
      kubernetes.control.deployment('prod', 'web'),
    ],
    vault: ['web/staging', 'voice/staging'].map((path) => vault.control.read(path)),
  }
}

/** The last key of the store the dashboard offers to rotate (not NoteDx's sandbox). */
async function changeableKey(test: TestDashboard, label: string): Promise<string> {
  const page = await (await test.get('/')).text()
  const rows = storeSection(page, label)
    .split('<tr ')
    .filter((row) => row.includes('action="/actions/rotate"'))
  const id = /data-key-id="([^"]+)"/.exec(rows.at(-1) ?? '')?.[1]
  if (id === undefined) throw new Error(`no rotatable ${label} key listed`)
  return id
}

/** The id of the key named `name` in a store's section (the rotatable one, where several are). */
function idOf(page: string, label: string, name: string): string {
  const rows = storeSection(page, label)
    .split('<tr ')
    .filter((part) => part.includes(`<td>${name}</td>`))
  const row = rows.find((part) => part.includes('action="/actions/rotate"')) ?? rows[0]
  const id = /data-key-id="([^"]+)"/.exec(row ?? '')?.[1]
  if (id === undefined) throw new Error(`no ${label} key named ${name}`)
  return id
}

/** GET `/` with a Host header that fetch would not let a test set. */
function getWithHost(origin: string, host: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${origin}/`, { headers: { host, cookie } }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('error', reject)
    request.end()
  })
}

/** A value of a dotenv file in the demo's folder. */
async function dotenvValue(demo: DemoFleet, file: string, variable: string) {
  const text = await readFile(join(demo.folder, file), 'utf8').catch(() => '')
  const line = text.split('\n').find((one) => one.startsWith(`${variable}=`))
  return line?.slice(variable.length + 1).replace(/^"|"$/g, '')
}

describe('access', () => {
  it('refuses every page without the start token', async () => {
    const test = await open()
    const { origin } = test.dashboard
    expect((await fetch(`${origin}/`)).status).toBe(401)
    expect((await fetch(`${origin}/login`, { redirect: 'manual' })).status).toBe(401)
    expect((await fetch(`${origin}/login?token=wrong`, { redirect: 'manual' })).status).toBe(401)
    const page = await (
      await fetch(`${origin}/`, { headers: { cookie: 'keyway_dashboard=forged' } })
    ).text()
    expect(page).toContain('401')
    expect(page).not.toContain('name="csrf"')
  })

  it('trades the token for an HttpOnly SameSite=Strict cookie and sends the browser to /', async () => {
    const test = await open()
    const login = await fetch(test.dashboard.loginUrl, { redirect: 'manual' })
    expect(login.status).toBe(303)
    expect(login.headers.get('location')).toBe('/')
    const cookie = login.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/^keyway_dashboard=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict$/)
    expect(cookie).not.toContain(new URL(test.dashboard.loginUrl).searchParams.get('token'))
    expect((await test.get('/')).status).toBe(200)
  })

  it('binds 127.0.0.1 only and refuses other host names (DNS rebinding)', async () => {
    const test = await open()
    expect(test.dashboard.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const port = new URL(test.dashboard.origin).port
    expect(await getWithHost(test.dashboard.origin, `attacker.example:${port}`, test.cookie)).toBe(
      400,
    )
    expect(await getWithHost(test.dashboard.origin, `localhost:${port}`, test.cookie)).toBe(400)
    expect(await getWithHost(test.dashboard.origin, `127.0.0.1:${port}`, test.cookie)).toBe(200)
  })

  it('never logs the start token', async () => {
    const test = await open()
    const token = new URL(test.dashboard.loginUrl).searchParams.get('token') as string
    expect(test.log.join('\n')).toContain('GET /login 303')
    expect(test.log.join('\n')).not.toContain(token)
  })

  const forgeries: Array<[string, Record<string, string>, Record<string, string>]> = [
    [
      'Origin of another site, no CSRF token',
      { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
      { csrf: '' },
    ],
    [
      'another port of this machine (same site, so the cookie is sent), no CSRF token',
      { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' },
      { csrf: '' },
    ],
    [
      'another origin that read no token but guessed one',
      { origin: 'http://localhost:1' },
      { csrf: 'guess' },
    ],
    ['no Origin at all', { origin: '', 'sec-fetch-site': '' }, {}],
    [
      'another origin that somehow holds the right CSRF token',
      { origin: 'http://127.0.0.1:1' },
      {},
    ],
    ['own Origin but a cross-site fetch', { 'sec-fetch-site': 'cross-site' }, {}],
    ['own Origin, no CSRF token', {}, { csrf: '' }],
    ['own Origin, a wrong CSRF token', {}, { csrf: 'A'.repeat(43) }],
  ]
  it.each(forgeries)(
    'refuses a forged POST (%s) with 403 and sends nothing to any vendor or target',
    async (_, headers, fields) => {
      const test = await open()
      const cleaned = Object.fromEntries(
        Object.entries(headers).filter(([, value]) => value !== ''),
      )
      const before = targetState(test)
      for (const action of ['create', 'delete', 'rotate'] as const) {
        const id = action === 'create' ? '' : await changeableKey(test, 'openrouter-prod')
        const response = await fetch(`${test.dashboard.origin}/actions/${action}`, {
          method: 'POST',
          headers: {
            cookie: test.cookie,
            'content-type': 'application/x-www-form-urlencoded',
            ...(headers.origin === undefined ? { origin: test.dashboard.origin } : {}),
            ...cleaned,
          },
          body: new URLSearchParams({
            csrf: test.csrf,
            store: 'openrouter-prod',
            id,
            name: 'forged',
            ...fields,
          }),
        })
        expect(response.status).toBe(403)
        expect(await response.text()).not.toContain('name="csrf"')
      }
      await test.dashboard.stores[0]?.emulator?.idle()
      // Only the page reads of the key lookups reached a vendor: no write anywhere, and
      // nothing changed at any delivery target.
      expect(writes(test)).toEqual([])
      expect(targetState(test)).toEqual(before)
    },
  )

  it('refuses an action without a session even from its own origin', async () => {
    const test = await open()
    const response = await test.act('create', { store: 'openrouter-prod' }, { cookie: '' })
    expect(response.status).toBe(401)
    expect(writes(test)).toEqual([])
  })
})

/**
 * Each store's rotatable key (by name; `''`: its only live NoteDx key), and where the demo's
 * config sends its new secret: the value there, read from the target's emulator.
 */
const ROTATIONS: Array<
  [string, string, (demo: DemoFleet, newKey: { id: string; name: string }) => Promise<string[]>]
> = [
  [
    'openrouter-prod',
    'app-backend',
    async ({ targets }) => [
      targets.github.control.secret(
        { repository: 'acme/app', environment: 'production' },
        'OPENROUTER_APP_BACKEND',
      )?.value ?? '',
      targets.vercel.control.env('web').find((one) => one.key === 'OPENROUTER_APP_BACKEND')
        ?.value ?? '',
    ],
  ],
  [
    'openrouter-staging',
    'app-staging',
    async (demo) => [
      (await dotenvValue(demo, 'staging.env', 'OPENROUTER_STAGING_APP_STAGING')) ?? '',
    ],
  ],
  [
    'latitudesh-prod',
    'app-api',
    async ({ targets }) => [
      targets.kubernetes.control.secret('prod', 'app-keys')?.LATITUDE_API ?? '',
    ],
  ],
  [
    'latitudesh-staging',
    'app-web',
    async ({ targets }) => [String(targets.vault.control.read('web/staging')?.LATITUDE_KEY)],
  ],
  [
    'notedx-prod',
    '(no name)',
    async (demo, newKey) => [
      (await dotenvValue(
        demo,
        'notedx.env',
        `NOTEDX_${newKey.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`,
      )) ?? '',
    ],
  ],
  [
    'voiceable-staging',
    'app-voice-staging',
    async ({ targets }) => [String(targets.vault.control.read('voice/staging')?.VOICEABLE_KEY)],
  ],
  [
    'openai-admin',
    'ci-admin',
    async ({ targets }) => [
      targets.github.control.secret({ organization: 'acme' }, 'OPENAI_CI_ADMIN')?.value ?? '',
    ],
  ],
  [
    'openai-project',
    'app-assistant',
    async ({ targets }) => [targets.aws.control.value('prod/openai') ?? ''],
  ],
]

describe('secrets', () => {
  it('shows a new key secret in the create response only, never in the log', async () => {
    const test = await open()
    const created = await test.act('create', {
      store: 'openrouter-prod',
      name: 'fake-dashboard-key',
    })
    expect(created.status).toBe(200)
    expect(created.headers.get('cache-control')).toBe('no-store')
    expect(created.headers.get('content-security-policy')).toContain("script-src 'self'")
    const page = await created.text()
    const secret = shownSecret(page) as string
    expect(secret).toMatch(/^sk-or-v1-[0-9a-f]{64}$/)
    const emulator = test.dashboard.stores[0]?.emulator
    expect(test.dashboard.stores[0]?.label).toBe('openrouter-prod')
    expect(emulator?.control.works(secret)).toBe(true)
    expect(
      emulator?.requests
        .filter((request) => request.method === 'POST')
        .map((request) => request.path),
    ).toEqual(['/api/v1/keys'])

    const reloaded = await (await test.get('/')).text()
    expect(reloaded).toContain('fake-dashboard-key')
    expect(reloaded).not.toContain(secret)
    const other = await test.act('disable', {
      store: 'openrouter-prod',
      id: await changeableKey(test, 'openrouter-prod'),
    })
    expect(await other.text()).not.toContain(secret)
    for (const asset of ['/assets/dashboard.js', '/assets/dashboard.css']) {
      expect(await (await test.get(asset)).text()).not.toContain(secret)
    }
    expect(test.log.join('\n')).toContain('POST /actions/create 200 openrouter-prod: created')
    expect(test.log.join('\n')).not.toContain(secret)
  })

  it.each(ROTATIONS)(
    'rotates a %s key to its delivery targets: the secret there works, is never on the page, and the page shows the new key',
    async (label, name, delivered) => {
      const test = await open()
      const demo = demoOf(test)
      const emulator = demo.emulators.get(label)
      const before = await (await test.get('/')).text()
      const oldId = idOf(before, label, name)
      const oldTargets = listedTargets(before, label, oldId)
      expect(oldTargets.length).toBeGreaterThan(0)
      expect(oldTargets).not.toContain('this-page')
      const response = await test.act('rotate', { store: label, id: oldId })
      const page = await response.text()
      expect(response.status, page).toBe(200)
      expect(shownSecret(page)).toBeUndefined()
      const newId = new RegExp(`rotated ${oldId} to (\\S+) \\(`).exec(page)?.[1] as string
      expect(newId).toBeDefined()
      for (const target of oldTargets) expect(page).toContain(`${target} (confirmed)`)
      const values = await delivered(demo, { id: newId, name })
      expect(values.length).toBeGreaterThan(0)
      for (const value of values) {
        expect(emulator?.control.works(value)).toBe(true)
        expect(page).not.toContain(value)
        expect(test.log.join('\n')).not.toContain(value)
      }
      const reloaded = await (await test.get('/')).text()
      expect(listedIds(reloaded, label)).toContain(newId)
      // The new key goes to the same places the old one did.
      expect(listedTargets(reloaded, label, newId)).toEqual(oldTargets)
      const store = test.dashboard.stores.find((entry) => entry.label === label)
      if (store?.store.capabilities.deleted === 'gone') {
        expect(listedIds(reloaded, label)).not.toContain(oldId)
      } else {
        // NoteDx keeps a deleted key listed, as disabled.
        expect(reloaded).toContain(`<tr data-key-id="${oldId}" class="key disabled">`)
      }
      for (const value of values) expect(reloaded).not.toContain(value)
    },
  )

  it('keeps the old key when a target fails, says which target holds which key, and finishes that rotation when asked again', async () => {
    const test = await open()
    const demo = demoOf(test)
    const { github, vercel } = demo.targets
    const page = await (await test.get('/')).text()
    const oldId = idOf(page, 'openrouter-prod', 'app-backend')
    const old = demo.seeded.get('openrouter-prod')?.find((key) => key.id === oldId)
    const emulator = demo.emulators.get('openrouter-prod')
    const keysBefore = emulator?.control.keyIds().length as number
    const githubPuts = () => github.requests.filter((request) => request.method === 'PUT').length
    vercel.control.nextDeployments('error')
    const response = await test.act('rotate', { store: 'openrouter-prod', id: oldId })
    const answer = await response.text()
    expect(response.status).toBe(422)
    expect(answer).toContain(`openrouter-prod: rotating ${oldId} failed: RotationError:`)
    const newId = /github:acme\/app@production holds the new key (\S+) \(confirmed\)/.exec(
      answer,
    )?.[1] as string
    expect(newId).toBeDefined()
    expect(answer).toContain(`vercel:web holds the new key ${newId} (written): confirm failed`)
    expect(shownSecret(answer)).toBeUndefined()
    // The old key was not retired: it still works, and the page still lists it.
    expect(emulator?.control.keyIds()).toContain(oldId)
    expect(emulator?.control.works(old?.secret as string)).toBe(true)
    expect(listedIds(await (await test.get('/')).text(), 'openrouter-prod')).toContain(oldId)
    const atGitHub = github.control.secret(
      { repository: 'acme/app', environment: 'production' },
      'OPENROUTER_APP_BACKEND',
    )?.value as string
    expect(emulator?.control.works(atGitHub)).toBe(true)
    expect(answer).not.toContain(atGitHub)
    expect(githubPuts()).toBe(1)

    // Rotating the key again finishes that rotation rather than starting another: the journal
    // holds no secret, so it makes one more key and delivers it everywhere, then retires the old
    // key and the first new one, which no target is left holding.
    const again = await test.act('rotate', { store: 'openrouter-prod', id: oldId })
    const finished = await again.text()
    expect(again.status, finished).toBe(200)
    const notice = /role="status">([^<]*)/.exec(finished)?.[1] as string
    expect(notice).toContain(
      'delivered to github:acme/app@production (confirmed), vercel:web (confirmed)',
    )
    const finalId = new RegExp(`rotated ${oldId} to (\\S+) `).exec(notice)?.[1] as string
    const keys = emulator?.control.keyIds() ?? []
    expect(keys).not.toContain(oldId)
    expect(keys).not.toContain(newId)
    expect(keys).toContain(finalId)
    expect(keys).toHaveLength(keysBefore)
    const delivered = github.control.secret(
      { repository: 'acme/app', environment: 'production' },
      'OPENROUTER_APP_BACKEND',
    )?.value as string
    expect(emulator?.control.works(delivered)).toBe(true)
    expect(
      vercel.control.env('web').find((one) => one.key === 'OPENROUTER_APP_BACKEND')?.value,
    ).toBe(delivered)
    expect(vercel.control.deployments('web')[0]?.readyState).toBe('READY')
    expect(finished).not.toContain(delivered)
    expect(test.log.join('\n')).not.toContain(atGitHub)
  })

  it('runs an exec target with the secret on its stdin and shows it nowhere', async () => {
    const test = await open()
    const page = await (await test.get('/')).text()
    const oldId = idOf(page, 'voiceable-prod', 'app-voice')
    const response = await test.act('rotate', { store: 'voiceable-prod', id: oldId })
    const answer = await response.text()
    expect(response.status, answer).toBe(200)
    expect(shownSecret(answer)).toBeUndefined()
    expect(answer).toContain('(confirmed)')
    const names = await readFile(join(demoOf(test).folder, 'delivered-names.log'), 'utf8')
    expect(names.trim()).toBe('VOICEABLE_APP_VOICE')
    const emulator = demoOf(test).emulators.get('voiceable-prod')
    expect(emulator?.control.keyIds()).not.toContain(oldId)
  })

  it('shows the new secret once where no target of the config takes the key', async () => {
    const test = await open()
    const id = await changeableKey(test, 'notedx-lab')
    const page = await (await test.get('/')).text()
    expect(listedTargets(page, 'notedx-lab', id)).toEqual(['this-page'])
    const response = await test.act('rotate', { store: 'notedx-lab', id })
    const answer = await response.text()
    const secret = shownSecret(answer) as string
    expect(demoOf(test).emulators.get('notedx-lab')?.control.works(secret)).toBe(true)
    const reloaded = await (await test.get('/')).text()
    expect(reloaded).not.toContain(secret)
    expect(test.log.join('\n')).not.toContain(secret)
  })

  it('never puts a seeded secret, a credential or a token of the demo on the page', async () => {
    const test = await open()
    const page = await (await test.get('/')).text()
    const demo = demoOf(test)
    const known = [
      ...[...demo.seeded.values()].flat().map((key) => key.secret),
      // Every env value but addresses and ids: fake credentials and tokens.
      ...Object.entries(demo.env)
        .filter(
          ([name, value]) =>
            !value.startsWith('http') && !/(REGION|TEAM_ID|PROJECT|KEY_ID)$/.test(name),
        )
        .map(([, value]) => value),
    ]
    expect(known.length).toBeGreaterThan(30)
    for (const secret of known) {
      expect(page).not.toContain(secret)
      expect(test.log.join('\n')).not.toContain(secret)
    }
  })

  it('keeps a NoteDx key, which NoteDx puts in URLs, out of the page and the log', async () => {
    const test = await open()
    const emulator = demoOf(test).emulators.get('notedx-prod')
    const seeded = emulator?.control.seedKey({ type: 'live' }) as { secret: string }
    const id = noteDxKeyId(seeded.secret)
    const page = await (await test.get('/')).text()
    expect(listedIds(page, 'notedx-prod')).toContain(id)
    expect(page).not.toContain(seeded.secret)
    const response = await test.act('disable', { store: 'notedx-prod', id })
    expect(await response.text()).toContain(`${id} is now disabled`)
    // NoteDx took the raw key in the path; the log line of that request has it redacted.
    const statusPath = `/v1/user/api-keys/${seeded.secret}/status`
    expect(emulator?.requests.map((request) => request.path)).toContain(statusPath)
    expect(test.log.join('\n')).toMatch(/notedx update: POST \S+\/status 200/)
    expect(test.log.join('\n')).not.toContain(seeded.secret)
  })
})

describe('actions', () => {
  it('disables and enables where the vendor can, and offers it nowhere else', async () => {
    const test = await open()
    const id = await changeableKey(test, 'openrouter-prod')
    const disabled = await (await test.act('disable', { store: 'openrouter-prod', id })).text()
    expect(disabled).toContain(`${id} is now disabled`)
    const enabled = await (await test.act('enable', { store: 'openrouter-prod', id })).text()
    expect(enabled).toContain(`${id} is now active`)
    const patches = test.dashboard.stores[0]?.emulator?.requests.filter(
      (request) => request.method === 'PATCH',
    )
    expect(patches?.map((request) => request.body)).toEqual([
      { disabled: true },
      { disabled: false },
    ])
    const page = await (await test.get('/')).text()
    for (const label of ['latitudesh-prod', 'voiceable-prod', 'openai-admin']) {
      expect(storeSection(page, label)).toContain('action="/actions/rotate"')
      expect(storeSection(page, label)).not.toContain('action="/actions/disable"')
    }
  })

  it('offers no create, rotate or delete at Anthropic, whose API has none, and refuses a rotate sent anyway', async () => {
    const test = await open()
    const page = await (await test.get('/')).text()
    for (const label of ['anthropic-prod', 'anthropic-research']) {
      const section = storeSection(page, label)
      expect(section).toContain('Anthropic&#39;s API cannot create, rotate or delete keys')
      expect(section).toContain('action="/actions/disable"')
      for (const action of ['create', 'rotate', 'delete'])
        expect(section).not.toContain(`action="/actions/${action}"`)
      expect(listedIds(page, label).length).toBeGreaterThan(0)
    }
    const id = idOf(page, 'anthropic-prod', 'app-claude')
    const response = await test.act('rotate', { store: 'anthropic-prod', id })
    expect(response.status).toBe(422)
    expect(await response.text()).toContain('anthropic cannot create keys through its API')
    expect(writes(test)).toEqual([])
  })

  it("says why OpenAI's user key cannot be rotated, and offers it only for service accounts", async () => {
    const test = await open()
    const page = await (await test.get('/')).text()
    const section = storeSection(page, 'openai-project')
    const user = idOf(page, 'openai-project', 'owner-laptop')
    const row = section.split(`data-key-id="${user}"`)[1]?.split('data-key-id=')[0] ?? ''
    expect(row).toContain('Not rotatable: openai mints project keys only as service accounts')
    expect(row).not.toContain('action="/actions/rotate"')
    const service = idOf(page, 'openai-project', 'app-assistant')
    expect(section.split(`data-key-id="${service}"`)[1]).toContain('action="/actions/rotate"')
  })

  it('deletes a key', async () => {
    const test = await open()
    const id = await changeableKey(test, 'voiceable-prod')
    const response = await test.act('delete', { store: 'voiceable-prod', id })
    expect(await response.text()).toContain(`deleted ${id}`)
    expect(demoOf(test).emulators.get('voiceable-prod')?.control.keyIds()).not.toContain(id)
  })

  it('shows a vendor error on the page instead of failing', async () => {
    const test = await open()
    const response = await test.act('delete', { store: 'voiceable-prod', id: '999999' })
    expect(response.status).toBe(422)
    expect(await response.text()).toContain('NotFoundError')
  })

  it('refuses an unknown store', async () => {
    const test = await open()
    const response = await test.act('delete', { store: 'openrouter', id: '1' })
    expect(response.status).toBe(400)
    expect(writes(test)).toEqual([])
  })

  it('never offers to change a key that may be its own credential', async () => {
    const test = await open()
    const page = await (await test.get('/')).text()
    const latitude = storeSection(page, 'latitudesh-prod')
    const admin =
      /<tr data-key-id="([^"]+)"[^>]*>\s*<td>admin<\/td>(?:(?!<\/tr>)[\s\S])*<\/tr>/.exec(latitude)
    expect(admin?.[0]).toContain("may be this dashboard's credential")
    expect(admin?.[0]).not.toContain('<form')
  })
})

describe('the fleet config', () => {
  it('shows every vendor from its descriptor, each store by label, with its own columns', async () => {
    const test = await open()
    const page = await (await test.get('/')).text()
    const vendors = [...page.matchAll(/<section class="vendor" data-vendor="([^"]+)"/g)].map(
      (match) => match[1],
    )
    expect(vendors).toEqual([
      'openrouter',
      'latitudesh',
      'notedx',
      'voiceable',
      'anthropic',
      'openai',
    ])
    for (const store of test.dashboard.stores) {
      expect(listedIds(page, store.label).length).toBeGreaterThan(0)
      for (const column of store.descriptor.columns ?? [])
        expect(storeSection(page, store.label)).toContain(`<th>${column.header}</th>`)
    }
    expect(storeSection(page, 'openrouter-prod')).toContain('<th>LIMIT</th>')
    expect(storeSection(page, 'openai-project')).toContain('<th>OWNER</th>')
  })

  it('shows, for every key, the targets and plan text `keyway plan` prints for it', async () => {
    const test = await open()
    const demo = demoOf(test)
    const page = await (await test.get('/')).text()
    const stdout = new PassThrough()
    let text = ''
    stdout.on('data', (chunk) => {
      text += chunk
    })
    const code = await run(['plan', '--json', '--config', demo.configPath], {
      stdout,
      stderr: new PassThrough(),
      stdin: new PassThrough(),
      env: demo.env,
    })
    expect(code).toBe(0)
    const plan = JSON.parse(text) as {
      entries: Array<{
        label: string
        keyId: string
        plan: { targets: Array<Record<string, string>> }
      }>
      skipped: Array<{ label: string; keyId: string; plan: { reason: string } }>
    }
    // The keys older than the policy's 90 days: Anthropic's is skipped, it cannot mint.
    expect(plan.entries.map((entry) => entry.label).sort()).toEqual([
      'latitudesh-prod',
      'notedx-prod',
      'openai-project',
      'openrouter-prod',
      'voiceable-prod',
    ])
    expect(plan.skipped.map((entry) => [entry.label, entry.plan.reason])).toEqual([
      ['anthropic-prod', 'anthropic cannot create keys through its API: audit and disable only'],
    ])
    const anthropic = storeSection(page, 'anthropic-prod')
    expect(anthropic).toContain('Anthropic&#39;s API cannot create, rotate or delete keys')
    for (const entry of plan.entries) {
      expect(entry.plan.targets.length).toBeGreaterThan(0)
      expect(listedTargets(page, entry.label, entry.keyId)).toEqual(
        entry.plan.targets.map((target) => escaped(target.name as string)),
      )
      const row = storeSection(page, entry.label).split(`data-targets-of="${entry.keyId}"`)[1]
      for (const target of entry.plan.targets) {
        for (const field of ['location', 'kind', 'propagate', 'confirm'] as const)
          expect(row).toContain(escaped(target[field] as string))
      }
    }
  })

  it('opens a config file with the env vars it names, as the CLI does', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'keyway-dashboard-config-'))
    const account = await startEmulator('openrouter', { seedKeys: 2 })
    const github = await startGitHubEmulator()
    try {
      const config = {
        stores: [
          {
            label: 'team-a',
            vendor: 'openrouter',
            credentials: { managementKey: 'TEAM_A_KEY' },
            baseUrlEnv: 'TEAM_A_URL',
            targets: [{ kind: 'github', repository: 'acme/app', variable: 'OR_{NAME}' }],
          },
        ],
      }
      const path = join(folder, 'keyway.config.json')
      await writeFile(path, JSON.stringify(config))
      const env = {
        TEAM_A_KEY: account.settings.managementKey as string,
        TEAM_A_URL: account.settings.baseUrl as string,
        GITHUB_TOKEN: github.settings.token,
        GITHUB_API_URL: github.url,
      }
      const missing = { ...env, TEAM_A_KEY: '' }
      await expect(startDashboard({ config: path, env: missing, log: () => {} })).rejects.toThrow(
        /stores\[0\]\.credentials\.managementKey: env var TEAM_A_KEY is not set/,
      )
      const history = join(folder, 'history.jsonl')
      const dashboard = await startDashboard({ config: path, env, history, log: () => {} })
      try {
        expect(dashboard.source).toBe('config')
        expect(dashboard.stores.map((entry) => entry.label)).toEqual(['team-a'])
        const login = await fetch(dashboard.loginUrl, { redirect: 'manual' })
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string
        const page = await (await fetch(`${dashboard.origin}/`, { headers: { cookie } })).text()
        expect(page).toContain('from config')
        expect(page).toContain('keyway.config.json')
        const ids = listedIds(page, 'team-a')
        expect(ids.sort()).toEqual(account.control.keyIds().sort())
        for (const id of ids) expect(listedTargets(page, 'team-a', id)).toEqual(['github:acme/app'])
        expect(page).toContain(
          '<code>github-actions</code> acme/app: <span class="probe reachable">',
        )
        expect(page).not.toContain(env.TEAM_A_KEY)
        expect(page).not.toContain(env.GITHUB_TOKEN)
        // A change from the page is in the history `keyway history` reads, as one from the CLI.
        const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] as string
        const created = await fetch(`${dashboard.origin}/actions/create`, {
          method: 'POST',
          headers: {
            cookie,
            origin: dashboard.origin,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ csrf, store: 'team-a', name: 'from-the-page' }),
        })
        const secret = shownSecret(await created.text()) as string
        expect(account.control.works(secret)).toBe(true)
        const lines = (await readFile(history, 'utf8'))
          .trim()
          .split('\n')
          .map(
            (line) =>
              JSON.parse(line) as {
                store: string
                phase: string
                action: string
                outcome?: string
                account: unknown
              },
          )
        expect(lines.map((line) => [line.store, line.phase, line.action, line.outcome])).toEqual([
          ['team-a', 'attempt', 'create', undefined],
          ['team-a', 'outcome', 'create', 'succeeded'],
        ])
        expect(lines[1]?.account).not.toBeNull()
        expect(await readFile(history, 'utf8')).not.toContain(secret)
      } finally {
        await dashboard.close()
      }
    } finally {
      await Promise.all([account.close(), github.close()])
      await rm(folder, { recursive: true, force: true })
    }
  })
})

/** Text as the page escapes it. */
function escaped(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
