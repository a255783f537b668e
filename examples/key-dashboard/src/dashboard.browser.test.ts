// Drives the dashboard in a real headless Chromium (Debian's, installed by the global
// setup) and saves a screenshot of each step in artifacts/, which git ignores.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
  type Response,
} from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Dashboard, startDashboard } from './dashboard.js'
import { startForgedSite } from './forged-site.test-support.js'
import { CHROMIUM_PATH } from './install-chromium.js'

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

let dashboard: Dashboard
let context: BrowserContext
let page: Page
let userDataDir: string
const log: string[] = []
const secrets: string[] = []

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true })
  dashboard = await startDashboard({ log: (line) => log.push(line) })
  userDataDir = await mkdtemp(join(tmpdir(), 'keyway-dashboard-chromium-'))
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: dashboard.origin,
  })
  page = context.pages()[0] ?? (await context.newPage())
})

afterAll(async () => {
  await context?.close()
  await dashboard?.close()
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true })
})

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true })
const emulatorOf = (vendor: string) =>
  dashboard.stores.find((entry) => entry.vendor === vendor)?.emulator
/** Methods of the requests that change something at the vendor (NoteDx's login aside). */
const writes = (vendor: string) =>
  (emulatorOf(vendor)?.requests ?? [])
    .filter((request) => request.method !== 'GET' && !request.path.endsWith('/auth/login'))
    .map((request) => request.method)
const posts = (vendor: string) => writes(vendor).length
const section = (vendor: string) => page.locator(`section[data-vendor="${vendor}"]`)

/** Clicks a form's button and waits for the page the action answered with. */
async function submit(button: Locator, action: string): Promise<Response> {
  const url = `${dashboard.origin}/actions/${action}`
  const [response] = await Promise.all([
    page.waitForResponse((answer) => answer.url() === url && answer.request().method() === 'POST'),
    button.click(),
  ])
  await page.waitForLoadState('load')
  // The page's script swaps the form's address for the plain page's.
  await expect.poll(() => page.url()).toBe(`${dashboard.origin}/`)
  return response
}

it('opens with the start token, which leaves the address bar, and lists every vendor', async () => {
  await page.goto(dashboard.loginUrl)
  expect(page.url()).toBe(`${dashboard.origin}/`)
  const cookies = await context.cookies(dashboard.origin)
  expect(cookies.map((cookie) => [cookie.name, cookie.httpOnly, cookie.sameSite])).toEqual([
    ['keyway_dashboard', true, 'Strict'],
  ])
  for (const vendor of ['openrouter', 'latitudesh', 'notedx', 'voiceable']) {
    const rows = section(vendor).locator('tbody tr')
    expect(await rows.count()).toBeGreaterThan(1)
    expect(await rows.locator('td:nth-child(2)').allTextContents()).not.toContain('')
  }
  await expect.poll(() => section('openrouter').locator('h2').textContent()).toContain('emulator')
  await shot('01-list.png')
})

it('creates a key and shows its secret once, with a working copy button', async () => {
  const before = posts('openrouter')
  const create = section('openrouter').locator('form.create')
  await create.locator('input[name="name"]').fill('fake-browser-key')
  expect((await submit(create.locator('button'), 'create')).status()).toBe(200)
  const secret = await page.locator('#new-secret').inputValue()
  expect(secret).toMatch(/^sk-or-v1-[0-9a-f]{64}$/)
  expect(emulatorOf('openrouter')?.control.works(secret)).toBe(true)
  // One create (and the rename that settles its marker).
  expect(writes('openrouter').slice(before)).toEqual(['POST', 'PATCH'])
  await expect.poll(() => section('openrouter').textContent()).toContain('fake-browser-key')
  await page.locator('button[data-copy="new-secret"]').click()
  await expect.poll(() => page.locator('button[data-copy]').textContent()).toBe('Copied')
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)
  secrets.push(secret)
  await shot('02-created.png')
})

it('rotates a key: the new secret is shown once and the old key is gone', async () => {
  const rows = section('voiceable').locator('tbody tr', { has: page.locator('form.rotate') })
  const oldId = (await rows.last().getAttribute('data-key-id')) as string
  expect((await submit(rows.last().locator('form.rotate button'), 'rotate')).status()).toBe(200)
  const secret = await page.locator('#new-secret').inputValue()
  expect(emulatorOf('voiceable')?.control.works(secret)).toBe(true)
  expect(secret).not.toBe(secrets[0])
  expect(await page.locator('.flash.notice').textContent()).toContain(`rotated ${oldId} to`)
  expect(await section('voiceable').locator(`tr[data-key-id="${oldId}"]`).count()).toBe(0)
  expect(emulatorOf('voiceable')?.control.keyIds()).not.toContain(oldId)
  secrets.push(secret)
  await shot('03-rotated.png')
})

it('shows no secret after a reload, and the reload sends no form again', async () => {
  const before = dashboard.stores.map((entry) => posts(entry.vendor))
  await page.reload()
  expect(await page.locator('#new-secret').count()).toBe(0)
  const html = await page.content()
  for (const secret of secrets) expect(html).not.toContain(secret)
  expect(dashboard.stores.map((entry) => posts(entry.vendor))).toEqual(before)
  await shot('04-reloaded.png')
})

it('deletes a key after the confirmation', async () => {
  const rows = section('latitudesh').locator('tbody tr', { has: page.locator('form.delete') })
  const id = (await rows.last().getAttribute('data-key-id')) as string
  page.once('dialog', (dialog) => {
    expect(dialog.message()).toBe(`Delete Latitude.sh key ${id}?`)
    dialog.accept()
  })
  expect((await submit(rows.last().locator('form.delete button'), 'delete')).status()).toBe(200)
  expect(await page.locator('.flash.notice').textContent()).toBe(`Latitude.sh: deleted ${id}`)
  expect(emulatorOf('latitudesh')?.control.keyIds()).not.toContain(id)
})

it('refuses a forged cross-site POST that another page submits', async () => {
  const target = `${dashboard.origin}/actions/create`
  const forged = await startForgedSite(target, { vendor: 'openrouter', name: 'forged' })
  const before = dashboard.stores.map((entry) => posts(entry.vendor))
  try {
    const attacked = await context.newPage()
    const refused = attacked.waitForResponse(target)
    await attacked.goto(forged.url)
    const response = await refused
    expect(response.status()).toBe(403)
    await attacked.waitForLoadState('load')
    expect(attacked.url()).toBe(target)
    expect(await attacked.locator('h2').textContent()).toContain('403')
    await attacked.screenshot({
      path: join(ARTIFACTS, '05-forged-post-refused.png'),
      fullPage: true,
    })
    await attacked.close()
  } finally {
    await forged.close()
  }
  expect(dashboard.stores.map((entry) => posts(entry.vendor))).toEqual(before)
  expect(
    log.some((line) => line.startsWith('POST /actions/create 403 refused: cross-origin')),
  ).toBe(true)
})

it('never wrote a secret to its log', () => {
  expect(secrets).toHaveLength(2)
  const joined = log.join('\n')
  expect(joined).toContain('POST /actions/rotate 200')
  for (const secret of secrets) expect(joined).not.toContain(secret)
})
