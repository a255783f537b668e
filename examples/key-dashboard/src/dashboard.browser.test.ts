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
import type { DemoFleet } from './demo-fleet.js'
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
const demo = () => dashboard.demo as DemoFleet
const emulatorOf = (label: string) => demo().emulators.get(label)
/** Methods of the requests that change something at the vendor (NoteDx's login aside). */
const writes = (label: string) =>
  (emulatorOf(label)?.requests ?? [])
    .filter((request) => request.method !== 'GET' && !request.path.endsWith('/auth/login'))
    .map((request) => request.method)
const posts = (label: string) => writes(label).length
const section = (label: string) => page.locator(`div.store[data-store="${label}"]`)
/** Rows of keys (each key's delivery targets are in a row of their own beneath it). */
const keyRows = (label: string) => section(label).locator('tbody tr.key')
const labels = () => dashboard.stores.map((entry) => entry.label)

/** Every secret the demo knows of: seeded keys, fake credentials and tokens. */
function knownSecrets(): string[] {
  return [
    ...[...demo().seeded.values()].flat().map((key) => key.secret),
    ...Object.entries(demo().env)
      .filter(
        ([name, value]) =>
          !value.startsWith('http') && !/(REGION|TEAM_ID|PROJECT|KEY_ID)$/.test(name),
      )
      .map(([, value]) => value),
  ]
}

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

it('opens with the start token, which leaves the address bar, and lists every store of all six vendors with its targets', async () => {
  await page.goto(dashboard.loginUrl)
  expect(page.url()).toBe(`${dashboard.origin}/`)
  const cookies = await context.cookies(dashboard.origin)
  expect(cookies.map((cookie) => [cookie.name, cookie.httpOnly, cookie.sameSite])).toEqual([
    ['keyway_dashboard', true, 'Strict'],
  ])
  expect(await page.locator('section.vendor h2').allTextContents()).toEqual([
    'OpenRouter 2 stores',
    'Latitude.sh 2 stores',
    'NoteDx 2 stores',
    'Voiceable 2 stores',
    'Anthropic 2 stores',
    'OpenAI 2 stores',
  ])
  for (const entry of dashboard.stores) {
    const keys = await entry.store.list()
    const shown = await keyRows(entry.label).evaluateAll((rows) =>
      rows.map((row) => row.getAttribute('data-key-id')),
    )
    expect(shown.sort()).toEqual(keys.map((key) => key.id).sort())
    for (const key of keys) {
      // Each target of the config that takes the key is named under it.
      const configured = entry.targetsOf(key.id, key).map((target) => target.name)
      const named = await section(entry.label)
        .locator(`tr[data-targets-of="${key.id}"] li[data-target]`)
        .evaluateAll((items) => items.map((item) => item.getAttribute('data-target')))
      for (const name of configured) expect(named).toContain(name)
    }
  }
  expect(await section('openrouter-prod').locator('li[data-target]').count()).toBe(4)
  expect(
    await section('latitudesh-prod').locator('li[data-target^="kubernetes-secret:"]').count(),
  ).toBe(1)
  await expect
    .poll(() => section('openrouter-prod').locator('h3').textContent())
    .toContain('emulator')
  const html = await page.content()
  for (const secret of knownSecrets()) expect(html).not.toContain(secret)
  await shot('01-list.png')
})

it('offers only what each vendor can do', async () => {
  for (const label of ['anthropic-prod', 'anthropic-research']) {
    for (const action of ['create', 'rotate', 'delete'])
      expect(await section(label).locator(`form.${action}`).count()).toBe(0)
    expect(await section(label).locator('form.disable').count()).toBeGreaterThan(0)
    expect(await section(label).locator('p.note').textContent()).toBe(
      "Anthropic's API cannot create, rotate or delete keys: those buttons are left out here.",
    )
  }
  for (const label of ['latitudesh-prod', 'voiceable-prod', 'openai-admin', 'openai-project']) {
    expect(await section(label).locator('form.disable').count()).toBe(0)
    expect(await section(label).locator('form.rotate').count()).toBeGreaterThan(0)
  }
  const user = section('openai-project').locator('tr.key', { hasText: 'owner-laptop' })
  expect(await user.locator('form.rotate').count()).toBe(0)
})

it('creates a key and shows its secret once, with a working copy button', async () => {
  const before = posts('openrouter-prod')
  const create = section('openrouter-prod').locator('form.create')
  await create.locator('input[name="name"]').fill('fake-browser-key')
  expect((await submit(create.locator('button'), 'create')).status()).toBe(200)
  const secret = await page.locator('#new-secret').inputValue()
  expect(secret).toMatch(/^sk-or-v1-[0-9a-f]{64}$/)
  expect(emulatorOf('openrouter-prod')?.control.works(secret)).toBe(true)
  // One create (and the rename that settles its marker).
  expect(writes('openrouter-prod').slice(before)).toEqual(['POST', 'PATCH'])
  await expect.poll(() => section('openrouter-prod').textContent()).toContain('fake-browser-key')
  await page.locator('button[data-copy="new-secret"]').click()
  await expect.poll(() => page.locator('button[data-copy]').textContent()).toBe('Copied')
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)
  secrets.push(secret)
  await shot('02-created.png')
})

it('rotates a key from the page to GitHub and Vercel (with a redeploy): the new key is listed, its secret only at the targets', async () => {
  const row = keyRows('openrouter-prod').filter({ hasText: 'app-backend' })
  const oldId = (await row.getAttribute('data-key-id')) as string
  const { github, vercel } = demo().targets
  const deployments = vercel.control.deployments('web').length
  expect((await submit(row.locator('form.rotate button'), 'rotate')).status()).toBe(200)
  expect(await page.locator('#new-secret').count()).toBe(0)
  const notice = (await page.locator('.flash.notice').textContent()) as string
  expect(notice).toContain(`rotated ${oldId} to`)
  expect(notice).toContain('github:acme/app@production (confirmed), vercel:web (confirmed)')
  const newId = new RegExp(`rotated ${oldId} to (\\S+) `).exec(notice)?.[1] as string
  const atGitHub = github.control.secret(
    { repository: 'acme/app', environment: 'production' },
    'OPENROUTER_APP_BACKEND',
  )?.value as string
  const atVercel = vercel.control.env('web').find((one) => one.key === 'OPENROUTER_APP_BACKEND')
    ?.value as string
  expect(atGitHub).toBe(atVercel)
  expect(emulatorOf('openrouter-prod')?.control.works(atGitHub)).toBe(true)
  expect(vercel.control.deployments('web')).toHaveLength(deployments + 1)
  expect(vercel.control.deployments('web')[0]?.readyState).toBe('READY')
  // The page lists the new key, with the same targets, and not the old one.
  const rotated = section('openrouter-prod').locator(`tr.key[data-key-id="${newId}"]`)
  expect(await rotated.locator('td').first().textContent()).toBe('app-backend')
  expect(
    await section('openrouter-prod')
      .locator(`tr[data-targets-of="${newId}"] li[data-target]`)
      .evaluateAll((items) => items.map((item) => item.getAttribute('data-target'))),
  ).toEqual(['github:acme/app@production', 'vercel:web'])
  expect(await section('openrouter-prod').locator(`tr[data-key-id="${oldId}"]`).count()).toBe(0)
  expect(emulatorOf('openrouter-prod')?.control.keyIds()).not.toContain(oldId)
  expect(await page.content()).not.toContain(atGitHub)
  secrets.push(atGitHub)
  await shot('03-rotated.png')
})

it('rotates a key whose target is a Kubernetes Secret with a rollout restart', async () => {
  const row = keyRows('latitudesh-prod').filter({ hasText: 'app-api' })
  const oldId = (await row.getAttribute('data-key-id')) as string
  expect((await submit(row.locator('form.rotate button'), 'rotate')).status()).toBe(200)
  expect(await page.locator('.flash.notice').textContent()).toContain(
    'kubernetes-secret:prod/app-keys#LATITUDE_API (confirmed)',
  )
  const { kubernetes } = demo().targets
  const value = kubernetes.control.secret('prod', 'app-keys')?.LATITUDE_API as string
  expect(emulatorOf('latitudesh-prod')?.control.works(value)).toBe(true)
  expect(kubernetes.control.secret('prod', 'app-keys')?.DATABASE_URL).toBe('postgres://app')
  expect(await section('latitudesh-prod').locator(`tr[data-key-id="${oldId}"]`).count()).toBe(0)
  expect(await page.content()).not.toContain(value)
  secrets.push(value)
})

it('shows no secret after a reload, and the reload sends no form again', async () => {
  const before = labels().map(posts)
  await page.reload()
  expect(await page.locator('#new-secret').count()).toBe(0)
  const html = await page.content()
  for (const secret of [...secrets, ...knownSecrets()]) expect(html).not.toContain(secret)
  expect(labels().map(posts)).toEqual(before)
  await shot('04-reloaded.png')
})

it('deletes a key after the confirmation', async () => {
  const rows = keyRows('latitudesh-prod').filter({ has: page.locator('form.delete') })
  const id = (await rows.last().getAttribute('data-key-id')) as string
  page.once('dialog', (dialog) => {
    expect(dialog.message()).toBe(`Delete latitudesh-prod key ${id}?`)
    dialog.accept()
  })
  expect((await submit(rows.last().locator('form.delete button'), 'delete')).status()).toBe(200)
  expect(await page.locator('.flash.notice').textContent()).toBe(`latitudesh-prod: deleted ${id}`)
  expect(emulatorOf('latitudesh-prod')?.control.keyIds()).not.toContain(id)
})

it('refuses a forged cross-site POST that another page submits', async () => {
  const target = `${dashboard.origin}/actions/create`
  const forged = await startForgedSite(target, { store: 'openrouter-prod', name: 'forged' })
  const before = labels().map(posts)
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
  expect(labels().map(posts)).toEqual(before)
  expect(
    log.some((line) => line.startsWith('POST /actions/create 403 refused: cross-origin')),
  ).toBe(true)
})

it('never wrote a secret to its log', () => {
  expect(secrets).toHaveLength(3)
  const joined = log.join('\n')
  expect(joined).toContain('POST /actions/rotate 200')
  for (const secret of secrets) expect(joined).not.toContain(secret)
})
