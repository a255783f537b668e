// Kill-and-resume machinery for the CLI's target tests: runs `keyway apply` in a child
// process, holds one request at an emulator, SIGKILLs the run while it is held, then lets the
// held request through (it lands, its answer is lost), and scans the files a run leaves.
import { spawn } from 'node:child_process'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type RecordedRequest, startEmulator } from '@keyway/testkit'
import { expect } from 'vitest'
import { CLI, type Run, STATE_HOME } from './cli.test-support.js'

/**
 * A config of the target tests: each key older than 90 days is due, the journal is beside the
 * config, and each store rotates its keys named `app-*` with no grace period, delivering to
 * its targets. The first store is Latitude.sh's, labelled `lat`, at the emulator of
 * `startLatitude`; `others` follow it.
 */
export function latitudeConfig<Targets>(
  targets: Targets,
  ...others: Array<{ store: StoreHead; targets: Targets }>
) {
  const lat = { label: 'lat', vendor: 'latitudesh', credentials: { token: 'LATITUDESH_BEARER' } }
  return {
    policy: { maxAgeDays: 90 },
    journal: 'journal.json',
    stores: [{ store: lat as StoreHead, targets }, ...others].map((entry) => ({
      ...entry.store,
      select: { name: 'app-*' },
      rotation: { graceMs: 0 },
      targets: entry.targets,
    })),
  }
}

/** What a config's store says before its selection, rotation and targets. */
interface StoreHead {
  label: string
  vendor: string
  credentials: Record<string, string>
  baseUrlEnv?: string
}

/**
 * A Latitude.sh emulator with no keys and no rate limit, as the target tests rotate at, and
 * the env vars that point `latitudeConfig`'s store at it.
 */
export async function startLatitude() {
  const emulator = await startEmulator('latitudesh', { seedKeys: 0, rateLimit: false })
  const env = {
    LATITUDESH_BASE_URL: emulator.settings.baseUrl as string,
    LATITUDESH_BEARER: emulator.settings.token as string,
  }
  return { emulator, env }
}

/** What `keyway plan --json` printed (it must have exited 0): each key's name and its targets' `field`. */
export function plannedTargets(plan: Run, field: 'name' | 'kind' = 'name') {
  expect(plan.code, plan.stderr).toBe(0)
  const { entries } = JSON.parse(plan.stdout) as {
    entries: Array<{ name: string; plan: { targets: Array<{ name: string; kind: string }> } }>
  }
  return entries.map((entry) => [entry.name, entry.plan.targets.map((target) => target[field])])
}

/** An emulator as the kill needs it: its faults and its request log. */
export interface HeldEmulator {
  inject(fault: {
    match: { method: string; path: RegExp }
    until: Promise<unknown>
    times?: number
  }): void
  readonly requests: readonly RecordedRequest[]
  idle(): Promise<void>
}

/** Where the run is killed: while the first request matching `match` is held. */
export interface KillPoint {
  name: string
  emulator: HeldEmulator
  match: { method: string; path: RegExp }
}

/** The run's stderr up to the kill (never shown unless a wait fails). */
export interface Killed {
  stderr: string
}

/**
 * Runs `keyway apply --yes --batch-id <batchId>` (or `args`) in `folder` and kills it (SIGKILL) while the
 * point's request is held; then releases the request and waits until the emulator is idle.
 */
export async function applyKilledAt(
  point: KillPoint,
  options: {
    folder: string
    env: Record<string, string>
    batchId: string
    /** The command run; default `apply --yes --batch-id <batchId>`. */
    args?: readonly string[]
  },
): Promise<Killed> {
  let release = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  // Every matching request waits at the gate (both keys' when they run at once).
  point.emulator.inject({ match: point.match, until: gate, times: 100 })
  const before = matching(point).length
  const args = options.args ?? ['apply', '--yes', '--batch-id', options.batchId]
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.folder,
    env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: STATE_HOME, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await until(
    () => matching(point).length > before,
    () => `${point.name}: ${stderr}`,
  )
  child.kill('SIGKILL')
  await exited
  release()
  await point.emulator.idle()
  return { stderr }
}

function matching(point: KillPoint): RecordedRequest[] {
  return point.emulator.requests.filter(
    (request) => request.method === point.match.method && point.match.path.test(request.path),
  )
}

/** Waits (polling, no fixed sleep) until `condition` holds; fails with `why()` after ~20 s. */
export async function until(condition: () => boolean, why: () => string = () => ''): Promise<void> {
  for (let tries = 0; tries < 2000 && !condition(); tries++)
    await new Promise((resolve) => setTimeout(resolve, 10))
  expect(condition(), why()).toBe(true)
}

/** Non-GET requests to `path` at an emulator: the writes it was sent. */
export const writesTo = (
  emulator: { requests: readonly { method: string; path: string }[] },
  path: RegExp,
) =>
  emulator.requests.filter((request) => request.method !== 'GET' && path.test(request.path)).length

/**
 * Every file under `folders` (recursively) and the text it holds: for scanning what a run
 * left on disk. The sealed-secrets file may hold a sealed form only; no other file may hold a
 * secret in any form.
 */
export async function filesUnder(
  folders: readonly string[],
): Promise<Array<{ path: string; text: string; mode: number }>> {
  const files: Array<{ path: string; text: string; mode: number }> = []
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile())
        files.push({
          path,
          text: await readFile(path, 'utf8'),
          mode: (await stat(path)).mode & 0o777,
        })
    }
  }
  for (const folder of folders) await walk(folder)
  return files
}

/** No file under `folders` holds any of `secrets`, as text or base64. */
export async function expectNoSecretOnDisk(
  folders: readonly string[],
  secrets: readonly string[],
): Promise<void> {
  for (const file of await filesUnder(folders))
    for (const secret of secrets) {
      expect(file.text, file.path).not.toContain(secret)
      expect(file.text, file.path).not.toContain(Buffer.from(secret).toString('base64'))
    }
}
