import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, type OpenRouterEmulatorControl, startEmulator } from '@keyway/testkit'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { run } from './main.js'

const MINUTE = 60_000
const DAY = 86_400_000
// A midnight (UTC) ahead of the real clock: the adapters refuse an expiry in the real past.
const START = (Math.floor(Date.now() / DAY) + 400) * DAY
/** `START` moved by `days` and `hours`. */
const from = (days: number, hours = 0) => new Date(START + days * DAY + hours * 3_600_000)

let folder: string
let emulators: Emulator[]
let openrouter: Emulator
let latitude: Emulator
/** The moment a run began at, and the real time it began: the clock moves at real speed from there. */
let tick = { at: START, real: Date.now() }
const clock = () => tick.at + (Date.now() - tick.real)
let env: Record<string, string>

/** Sets the clock to `at`, moving on at real speed while a run takes. */
function setClock(at: number): void {
  tick = { at, real: Date.now() }
}

/** `keyway <args>` in this process, at the test's clock. */
async function keyway(
  args: string[],
  config: string[] = ['--config', join(folder, 'keyway.config.json')],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io = {
    stdout: {
      write: (text: string, done?: (error?: Error) => void) => {
        stdout += text
        done?.()
        return true
      },
      isTTY: false,
    },
    stderr: {
      write: (text: string) => {
        stderr += text
        return true
      },
      isTTY: false,
    },
    stdin: { isTTY: false },
    env,
    now: () => new Date(clock()),
  }
  const code = await run([...args, ...config], io as never)
  return { code, stdout, stderr }
}

/** The changes each emulator was asked for (anything but a read). */
const writes = (emulator: Emulator) =>
  emulator.requests.filter((request) => request.method !== 'GET')

/** The name each create asked for, without the marker a create carries until it is settled. */
function createdNames(emulator: Emulator, from: number): string[] {
  return emulator.requests
    .slice(from)
    .filter((request) => request.method === 'POST')
    .map((request) => {
      const body = request.body as { name?: string; data?: { attributes?: { name?: string } } }
      return (body.name ?? body.data?.attributes?.name ?? '').replace(/~kw\d{22}$/, '')
    })
}

interface StatusStore {
  credential: Array<{ id: string; name: string | null }> | null
  account: { baseUrl: string; fingerprint: string } | null
  keys: Array<{
    id: string
    name: string | null
    schedule: unknown
    due: boolean
    lastRotated: string | null
    lastRotatedFrom: string | null
    dueAt: string | null
    nextRun: string | null
    lastFailure: unknown
  }>
}

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'keyway-schedule-'))
  setClock(START)
  openrouter = await startEmulator('openrouter', { seedKeys: 0, clock })
  latitude = await startEmulator('latitudesh', { seedKeys: 0, clock, rateLimit: false })
  emulators = [openrouter, latitude]
  env = {
    XDG_STATE_HOME: join(folder, 'state'),
    OPENROUTER_BASE_URL: openrouter.settings.baseUrl as string,
    OPENROUTER_MANAGEMENT_KEY: openrouter.settings.managementKey as string,
    LATITUDESH_BASE_URL: latitude.settings.baseUrl as string,
    LATITUDESH_BEARER: latitude.settings.token as string,
  }
})

afterEach(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()))
  await rm(folder, { recursive: true, force: true })
})

async function writeConfig(stores: unknown[]): Promise<void> {
  await writeFile(join(folder, 'keyway.config.json'), JSON.stringify({ stores }, null, 2))
}

const openrouterStore = (schedule: unknown) => ({
  label: 'openrouter-prod',
  vendor: 'openrouter',
  deliver: { to: '.secrets/openrouter.env', variable: 'OPENROUTER_{NAME}' },
  schedule,
})

describe('a fleet config with schedules, run by cron every minute', () => {
  it('rotates each key exactly on its schedule over an hour, and a second run in the same minute sends no write', async () => {
    const seed = (emulator: Emulator, name: string, createdAt: Date) =>
      emulator.control.seedKey({ name, createdAt })
    seed(openrouter, 'svc-a', from(0))
    seed(openrouter, 'svc-b', from(0))
    // Due since the day before at noon: its window opens at 00:30.
    seed(openrouter, 'batch-x', from(-2, 12))
    const web = seed(openrouter, 'web', from(-400))
    seed(latitude, 'lat-a', from(0))
    await writeConfig([
      openrouterStore([
        { keys: { name: 'svc-a' }, every: '15m' },
        { keys: { name: 'svc-b' }, every: '20m' },
        { keys: { name: 'batch-*' }, every: '1d', at: '00:30Z', window: '10m', lifetime: '2d' },
      ]),
      {
        label: 'latitude',
        vendor: 'latitudesh',
        deliver: { to: '.secrets/latitude.env', variable: 'LATITUDE_{NAME}' },
        schedule: { keys: { name: 'lat-*' }, every: '25m' },
      },
    ])
    const rotations: Record<string, number[]> = {}
    const minutesWithWrites: number[] = []
    for (let minute = 0; minute < 60; minute++) {
      setClock(START + minute * MINUTE)
      const before = emulators.map((emulator) => emulator.requests.length)
      const writesBefore = emulators.map((emulator) => writes(emulator).length)
      const applied = await keyway(['apply', '--yes'])
      expect(applied.code, applied.stderr).toBe(0)
      const made = emulators.flatMap((emulator, index) =>
        createdNames(emulator, before[index] ?? 0),
      )
      for (const name of made) rotations[name] = [...(rotations[name] ?? []), minute]
      if (
        emulators.some((emulator, index) => writes(emulator).length > (writesBefore[index] ?? 0))
      ) {
        minutesWithWrites.push(minute)
        // A second run in the same window (cron fired twice, or two runners) changes nothing.
        const counts = emulators.map((emulator) => writes(emulator).length)
        const again = await keyway(['apply', '--yes'])
        expect(again.code, again.stderr).toBe(0)
        expect(again.stdout).toContain('nothing')
        expect(emulators.map((emulator) => writes(emulator).length)).toEqual(counts)
      }
    }
    expect(rotations).toEqual({
      'svc-a': [15, 30, 45],
      'svc-b': [20, 40],
      'batch-x': [30],
      'lat-a': [25, 50],
    })
    expect(minutesWithWrites).toEqual([15, 20, 25, 30, 40, 45, 50])
    // The unscheduled key was never touched; each old key was deleted once its successor landed.
    expect(openrouter.requests.some((request) => request.path.includes(web.id))).toBe(false)
    const deletes = emulators.flatMap((emulator) =>
      emulator.requests.filter((request) => request.method === 'DELETE'),
    )
    expect(deletes).toHaveLength(8)
    // The batch key's successor expires after its schedule's lifetime, counted from its rotation.
    const batchCreate = openrouter.requests.find(
      (request) =>
        request.method === 'POST' &&
        String((request.body as { name?: string }).name).startsWith('batch-x'),
    )
    const expiresAt = Date.parse(
      (batchCreate?.body as { expires_at?: string } | undefined)?.expires_at ?? '',
    )
    expect(expiresAt - (START + 30 * MINUTE)).toBeGreaterThanOrEqual(2 * DAY)
    expect(expiresAt - (START + 30 * MINUTE)).toBeLessThan(2 * DAY + MINUTE)
    const delivered = await readFile(join(folder, '.secrets/openrouter.env'), 'utf8')
    expect(delivered.split('\n').map((line) => line.split('=')[0])).toEqual([
      'OPENROUTER_SVC_A',
      'OPENROUTER_SVC_B',
      'OPENROUTER_BATCH_X',
      '',
    ])
    // Status tells the same from the vendor's dates alone.
    const shown = await keyway(['status', '--json'])
    expect(shown.code, shown.stderr).toBe(0)
    const stores = JSON.parse(shown.stdout).stores as StatusStore[]
    const svcA = stores[0]?.keys.find((key) => key.name === 'svc-a')
    expect(svcA).toMatchObject({ due: false, lastRotatedFrom: 'created', lastFailure: null })
    expect(Date.parse(svcA?.lastRotated ?? '') - (START + 45 * MINUTE)).toBeLessThan(MINUTE)
    expect(svcA?.nextRun).toBe(new Date(START + 60 * MINUTE).toISOString())
    expect(stores[0]?.keys.find((key) => key.name === 'web')?.schedule).toBeNull()
  }, 120_000)

  it('shows in status a key whose rotation failed, with the error’s code, and which account and key each credential is', async () => {
    const failing = openrouter.control.seedKey({ name: 'svc-a', createdAt: from(0, -1) })
    const latitudeKey = latitude.control.seedKey({ name: 'lat-a', createdAt: from(0) })
    await writeConfig([
      openrouterStore({ keys: { name: 'svc-*' }, every: '15m' }),
      {
        label: 'latitude',
        vendor: 'latitudesh',
        deliver: { to: '.secrets/latitude.env' },
        schedule: { keys: { name: 'lat-*' }, every: '1d', at: '03:00Z' },
      },
    ])
    openrouter.inject({ match: { method: 'POST', path: '/api/v1/keys' }, status: 403 })
    const applied = await keyway(['apply', '--yes'])
    expect(applied.code).toBe(1)
    const shown = await keyway(['status', '--json'])
    expect(shown.code, shown.stderr).toBe(0)
    const [orStore, latStore] = JSON.parse(shown.stdout).stores as StatusStore[]
    expect(orStore?.keys.find((key) => key.id === failing.id)).toMatchObject({
      due: true,
      schedule: { every: '15m' },
      lastFailure: { action: 'create', step: 'create', errorCode: 'permission_denied' },
    })
    // An OpenRouter management key is not one of its keys; Latitude.sh's token is.
    expect(orStore?.credential).toEqual([])
    expect(orStore?.account?.baseUrl).toBe(openrouter.settings.baseUrl)
    expect(orStore?.account?.fingerprint).toMatch(/^[A-Za-z0-9_-]{12}$/)
    const admin = latStore?.credential?.[0]
    expect(latStore?.credential).toHaveLength(1)
    expect(admin?.name).toBe('admin')
    expect(latStore?.keys.find((key) => key.id === latitudeKey.id)).toMatchObject({
      due: false,
      dueAt: from(1, 3).toISOString(),
      nextRun: from(1, 3).toISOString(),
    })
    const text = await keyway(['status'])
    expect(text.stdout).toContain('create (create): permission_denied')
    expect(text.stdout).toContain(`key ${admin?.id} (admin)`)
    for (const secret of [
      openrouter.settings.managementKey,
      latitude.settings.token,
      failing.secret,
      latitudeKey.secret,
    ] as string[]) {
      expect(shown.stdout + text.stdout + text.stderr).not.toContain(secret.slice(-12))
    }
  })

  it('rotates at once an expired key its schedule covers, outside its window and before its interval, the successor expiring after the schedule’s lifetime', async () => {
    // At the real time (the engine checks expiry by it), with the window twelve hours away.
    const now = Date.now()
    setClock(now)
    const at = `${String((new Date(now).getUTCHours() + 12) % 24).padStart(2, '0')}:00Z`
    const hoursAgo = (hours: number) => new Date(now - hours * 3_600_000)
    const control = openrouter.control as OpenRouterEmulatorControl
    const old = control.seedKey({
      name: 'exp-old',
      createdAt: hoursAgo(40 * 24),
      expiresAt: hoursAgo(1),
    })
    const young = control.seedKey({
      name: 'exp-young',
      createdAt: hoursAgo(5 * 24),
      expiresAt: hoursAgo(1),
    })
    const fresh = control.seedKey({ name: 'exp-fresh', createdAt: hoursAgo(5 * 24) })
    // A key an earlier rotation retired by disabling it, expired since: never replaced again.
    const retired = control.seedKey({
      name: 'exp-retired',
      createdAt: hoursAgo(80 * 24),
      expiresAt: hoursAgo(2),
      disabled: true,
    })
    await writeConfig([
      openrouterStore({ keys: { name: 'exp-*' }, every: '30d', at, lifetime: '45d' }),
    ])
    const shown = await keyway(['status', '--json'])
    const keys = (JSON.parse(shown.stdout).stores as StatusStore[])[0]?.keys ?? []
    expect(keys.find((key) => key.id === young.id)).toMatchObject({
      due: true,
      dueAt: hoursAgo(1).toISOString(),
    })
    expect(keys.find((key) => key.id === fresh.id)?.due).toBe(false)
    const applied = await keyway(['apply', '--yes'])
    expect(applied.code, applied.stderr).toBe(0)
    expect(createdNames(openrouter, 0).sort()).toEqual(['exp-old', 'exp-young'])
    for (const create of openrouter.requests.filter((request) => request.method === 'POST')) {
      const expiresAt = Date.parse((create.body as { expires_at?: string }).expires_at ?? '')
      expect(expiresAt - now).toBeGreaterThanOrEqual(45 * DAY)
      expect(expiresAt - now).toBeLessThan(45 * DAY + 10 * MINUTE)
    }
    const deleted = openrouter.requests
      .filter((request) => request.method === 'DELETE')
      .map((request) => request.path)
    expect(deleted.sort()).toEqual([old.id, young.id].map((id) => `/api/v1/keys/${id}`).sort())
    expect(writes(openrouter).some((request) => request.path.includes(retired.id))).toBe(false)
    // The key that has not expired waits for its schedule; a second run sends nothing.
    const writesBefore = writes(openrouter).length
    const again = await keyway(['apply', '--yes'])
    expect(again.code, again.stderr).toBe(0)
    expect(writes(openrouter).length).toBe(writesBefore)
  })

  it('counts a regenerate only at the account the label reaches now: a label pointed at another account with the same key ids rotates its key', async () => {
    // Two Latitude.sh accounts whose key ids collide.
    const other = await startEmulator('latitudesh', { seedKeys: 0, clock, rateLimit: false })
    emulators.push(other)
    const id = 'tok_collide123456'
    latitude.control.seedKey({ id, name: 'lat-a', createdAt: from(-40) })
    other.control.seedKey({ id, name: 'lat-a', createdAt: from(-40) })
    await writeConfig([
      {
        label: 'latitudesh',
        vendor: 'latitudesh',
        deliver: { to: '.secrets/latitude.env', variable: 'LATITUDE_{NAME}' },
        schedule: { keys: { name: 'lat-*' }, every: '30d' },
      },
    ])
    // Regenerated in place at the first account: history holds it under the label (a
    // one-key command reads the vendor's credential from the process's environment).
    vi.stubEnv('LATITUDESH_BASE_URL', env.LATITUDESH_BASE_URL)
    vi.stubEnv('LATITUDESH_BEARER', env.LATITUDESH_BEARER)
    const regenerated = await keyway(
      ['rotate', id, '-p', 'latitudesh', '--strategy', 'regenerate', '--yes'],
      [],
    )
    expect(regenerated.code, regenerated.stderr).toBe(0)
    vi.unstubAllEnvs()
    const keyOf = async () => {
      const shown = await keyway(['status', '--json'])
      expect(shown.code, shown.stderr).toBe(0)
      return (JSON.parse(shown.stdout).stores as StatusStore[])[0]?.keys.find(
        (key) => key.id === id,
      )
    }
    expect(await keyOf()).toMatchObject({ due: false, lastRotatedFrom: 'history' })
    // The same label now reaches the other account, whose key of that id was never rotated.
    env.LATITUDESH_BASE_URL = other.settings.baseUrl as string
    env.LATITUDESH_BEARER = other.settings.token as string
    expect(await keyOf()).toMatchObject({
      due: true,
      lastRotatedFrom: 'created',
      lastRotated: from(-40).toISOString(),
    })
    const before = latitude.requests.length
    const applied = await keyway(['apply', '--yes'])
    expect(applied.code, applied.stderr).toBe(0)
    expect(createdNames(other, 0)).toEqual(['lat-a'])
    expect(
      other.requests.some((request) => request.method === 'DELETE' && request.path.includes(id)),
    ).toBe(true)
    // The first account was not asked for anything.
    expect(latitude.requests.length).toBe(before)
  })

  it('refuses a schedule with a bad interval or time of day before any request, naming its path', async () => {
    const cases: Array<[unknown, string]> = [
      [{ every: '30x' }, 'stores[0].schedule.every: expected a whole number and a unit'],
      [{ every: '30d', at: '25:00Z' }, 'stores[0].schedule.at: expected a time of day'],
    ]
    for (const [schedule, message] of cases) {
      await writeConfig([openrouterStore(schedule)])
      for (const command of ['plan', 'apply', 'status']) {
        const result = await keyway(command === 'apply' ? [command, '--yes'] : [command])
        expect(result.code).toBe(1)
        expect(result.stderr).toContain(`keyway.config.json: ${message}`)
      }
    }
    // What only the store can tell: Latitude.sh keys cannot expire, and "keep" leaves a due key.
    await writeConfig([
      {
        label: 'latitude',
        vendor: 'latitudesh',
        deliver: { to: '.secrets/latitude.env' },
        schedule: [{ every: '1d' }, { every: '1d', lifetime: '2d' }],
      },
    ])
    const lifetime = await keyway(['apply', '--yes'])
    expect(lifetime.code).toBe(1)
    expect(lifetime.stderr).toContain(
      'keyway.config.json: stores[0].schedule[1].lifetime: latitudesh keys cannot expire',
    )
    const kept = await keyway(['apply', '--yes', '--retire', 'keep'])
    expect(kept.stderr).toContain('rotation.retire: cannot be "keep" with a schedule')
    expect(emulators.flatMap((emulator) => emulator.requests)).toEqual([])
  })
})
