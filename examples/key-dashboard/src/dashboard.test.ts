import { request as httpRequest } from 'node:http'
import { noteDxKeyId } from '@keyway/notedx'
import { startEmulator } from '@keyway/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startDashboard } from './dashboard.js'
import {
  listedIds,
  openTestDashboard,
  shownSecret,
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
  vi.unstubAllEnvs()
})

/** Requests that changed something at any vendor (NoteDx's login aside). */
const writes = (test: TestDashboard) =>
  test.vendorRequests().filter((line) => !/ GET /.test(line) && !/auth\/login/.test(line))

/** The last active key of `vendor` that the dashboard offers to rotate (not NoteDx's sandbox). */
async function changeableKey(test: TestDashboard, vendor: string): Promise<string> {
  const page = await (await test.get('/')).text()
  const section = page.split(`data-vendor="${vendor}"`)[1]?.split('</section>')[0] ?? ''
  const rows = section.split('<tr ').filter((row) => row.includes('action="/actions/rotate"'))
  const id = /data-key-id="([^"]+)"/.exec(rows.at(-1) ?? '')?.[1]
  if (id === undefined) throw new Error(`no rotatable ${vendor} key listed`)
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
    'refuses a forged POST (%s) with 403 and sends nothing to the vendor',
    async (_, headers, fields) => {
      const test = await open()
      const cleaned = Object.fromEntries(
        Object.entries(headers).filter(([, value]) => value !== ''),
      )
      for (const action of ['create', 'delete'] as const) {
        const id = action === 'delete' ? await changeableKey(test, 'openrouter') : ''
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
            vendor: 'openrouter',
            id,
            name: 'forged',
            ...fields,
          }),
        })
        expect(response.status).toBe(403)
        expect(await response.text()).not.toContain('name="csrf"')
      }
      await test.dashboard.stores[0]?.emulator?.idle()
      // Only the page reads of the key lookups reached a vendor: no write anywhere.
      expect(writes(test)).toEqual([])
    },
  )

  it('refuses an action without a session even from its own origin', async () => {
    const test = await open()
    const response = await test.act('create', { vendor: 'openrouter' }, { cookie: '' })
    expect(response.status).toBe(401)
    expect(writes(test)).toEqual([])
  })
})

describe('secrets', () => {
  it('shows a new key secret in the create response only, never in the log', async () => {
    const test = await open()
    const created = await test.act('create', { vendor: 'openrouter', name: 'fake-dashboard-key' })
    expect(created.status).toBe(200)
    expect(created.headers.get('cache-control')).toBe('no-store')
    expect(created.headers.get('content-security-policy')).toContain("script-src 'self'")
    const page = await created.text()
    const secret = shownSecret(page) as string
    expect(secret).toMatch(/^sk-or-v1-[0-9a-f]{64}$/)
    const emulator = test.dashboard.stores[0]?.emulator
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
      vendor: 'openrouter',
      id: await changeableKey(test, 'openrouter'),
    })
    expect(await other.text()).not.toContain(secret)
    for (const asset of ['/assets/dashboard.js', '/assets/dashboard.css']) {
      expect(await (await test.get(asset)).text()).not.toContain(secret)
    }
    expect(test.log.join('\n')).toContain('POST /actions/create 200 OpenRouter: created')
    expect(test.log.join('\n')).not.toContain(secret)
  })

  it.each(['openrouter', 'latitudesh', 'notedx', 'voiceable'])(
    'rotates a %s key: the new secret works and is shown once; the old key is retired',
    async (vendor) => {
      const test = await open()
      const entry = test.dashboard.stores.find((store) => store.vendor === vendor)
      const emulator = entry?.emulator
      const oldId = await changeableKey(test, vendor)
      const response = await test.act('rotate', { vendor, id: oldId })
      const page = await response.text()
      expect(response.status).toBe(200)
      const secret = shownSecret(page) as string
      expect(secret).toBeDefined()
      expect(emulator?.control.works(secret)).toBe(true)
      expect(page).toContain(`rotated ${oldId} to`)
      const reloaded = await (await test.get('/')).text()
      if (entry?.store.capabilities.deleted === 'gone') {
        expect(listedIds(reloaded, vendor)).not.toContain(oldId)
      } else {
        // NoteDx keeps a deleted key listed, as disabled.
        expect(reloaded).toContain(`<tr data-key-id="${oldId}" class="disabled">`)
      }
      expect(reloaded).not.toContain(secret)
      expect(test.log.join('\n')).not.toContain(secret)
    },
  )

  it('keeps a NoteDx key, which NoteDx puts in URLs, out of the page and the log', async () => {
    const test = await open()
    const emulator = test.dashboard.stores.find((store) => store.vendor === 'notedx')?.emulator
    const seeded = emulator?.control.seedKey({ type: 'live' }) as { secret: string }
    const id = noteDxKeyId(seeded.secret)
    const page = await (await test.get('/')).text()
    expect(listedIds(page, 'notedx')).toContain(id)
    expect(page).not.toContain(seeded.secret)
    const response = await test.act('disable', { vendor: 'notedx', id })
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
    const id = await changeableKey(test, 'openrouter')
    const disabled = await (await test.act('disable', { vendor: 'openrouter', id })).text()
    expect(disabled).toContain(`${id} is now disabled`)
    const enabled = await (await test.act('enable', { vendor: 'openrouter', id })).text()
    expect(enabled).toContain(`${id} is now active`)
    const patches = test.dashboard.stores[0]?.emulator?.requests.filter(
      (request) => request.method === 'PATCH',
    )
    expect(patches?.map((request) => request.body)).toEqual([
      { disabled: true },
      { disabled: false },
    ])
    const page = await (await test.get('/')).text()
    const latitude = page.split('data-vendor="latitudesh"')[1]?.split('</section>')[0] ?? ''
    expect(latitude).toContain('action="/actions/rotate"')
    expect(latitude).not.toContain('action="/actions/disable"')
  })

  it('deletes a key', async () => {
    const test = await open()
    const id = await changeableKey(test, 'voiceable')
    const response = await test.act('delete', { vendor: 'voiceable', id })
    expect(await response.text()).toContain(`deleted ${id}`)
    const emulator = test.dashboard.stores.find((store) => store.vendor === 'voiceable')?.emulator
    expect(emulator?.control.keyIds()).not.toContain(id)
  })

  it('shows a vendor error on the page instead of failing', async () => {
    const test = await open()
    const response = await test.act('delete', { vendor: 'voiceable', id: '999999' })
    expect(response.status).toBe(422)
    expect(await response.text()).toContain('NotFoundError')
  })

  it('never offers to change a key that may be its own credential', async () => {
    const test = await open()
    const page = await (await test.get('/')).text()
    const latitude = page.split('data-vendor="latitudesh"')[1]?.split('</section>')[0] ?? ''
    const admin =
      /<tr data-key-id="([^"]+)"[^>]*>\s*<td>admin<\/td>(?:(?!<\/tr>)[\s\S])*<\/tr>/.exec(latitude)
    expect(admin?.[0]).toContain("may be this dashboard's credential")
    expect(admin?.[0]).not.toContain('<form')
  })
})

describe('vendors', () => {
  it('uses a real account where its env var is set, and emulators for the rest', async () => {
    const account = await startEmulator('openrouter', { seedKeys: 1 })
    try {
      vi.stubEnv('OPENROUTER_MANAGEMENT_KEY', account.settings.managementKey as string)
      vi.stubEnv('OPENROUTER_BASE_URL', account.settings.baseUrl as string)
      const dashboard = await startDashboard({ log: () => {} })
      try {
        expect(dashboard.stores.map((entry) => [entry.vendor, entry.source])).toEqual([
          ['openrouter', 'account'],
          ['latitudesh', 'emulator'],
          ['notedx', 'emulator'],
          ['voiceable', 'emulator'],
        ])
        expect(dashboard.stores[0]?.emulator).toBeUndefined()
        const login = await fetch(dashboard.loginUrl, { redirect: 'manual' })
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string
        const page = await (await fetch(`${dashboard.origin}/`, { headers: { cookie } })).text()
        expect(page).toContain('real account')
        expect(listedIds(page, 'openrouter').sort()).toEqual(account.control.keyIds().sort())
      } finally {
        await dashboard.close()
      }
    } finally {
      await account.close()
    }
  })
})
