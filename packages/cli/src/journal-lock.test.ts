// Two keyway runs on one journal: each write of the journal and of its .accounts.json reads the
// file, changes it and writes it back, so two runs at once would lose each other's records. The
// second run is refused before it sends anything, naming the lock; the first finishes intact.
import { spawn } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI, envFor, keyway, latitudeFleet, STATE_HOME, useSandbox } from './cli.test-support.js'

const { start, folder } = useSandbox()
const DAY = 86_400_000

/** A config with one Latitude.sh store whose keys older than 90 days are due. */
async function writeConfig(): Promise<void> {
  const config = latitudeFleet()
  await writeFile(join(folder(), 'c.json'), JSON.stringify(config))
}

/** Starts the CLI as its own process; resolves with its exit code and output once it ends. */
function background(args: string[], env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: STATE_HOME, ...env },
    cwd,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  )
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  )

describe('the journal lock', () => {
  it('refuses a second apply (and a rotate) on the journal while one runs; the first finishes with every record', async () => {
    const emulator = await start('latitudesh')
    const old = emulator.control.seedKey({
      name: 'backups',
      createdAt: new Date(Date.now() - 200 * DAY),
    })
    await writeConfig()
    const env = envFor(emulator)
    const journal = join(folder(), 'journal.json')
    const lock = `${journal}.lock`
    // The first run's create waits at the vendor until released: it holds the journal meanwhile.
    let release = () => {}
    emulator.inject({
      match: { method: 'POST' },
      until: new Promise<void>((resolve) => {
        release = resolve
      }),
    })
    const first = background(['apply', '--config', 'c.json', '--yes', '--json'], env, folder())
    while (!emulator.requests.some((request) => request.method === 'POST'))
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await exists(lock)).toBe(true)

    const seen = emulator.requests.length
    const second = await keyway(['apply', '--config', 'c.json', '--yes'], env, folder())
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(
      `JournalLocked: the journal ${journal} is in use by another keyway run (process `,
    )
    expect(second.stderr).toContain(`: it holds the lock ${lock}; nothing was sent`)
    expect(second.stderr).toContain('wait for that run to finish, then run this again')
    const rotate = await keyway(
      ['rotate', 'backups', '-p', 'latitudesh', '--yes', '--journal', journal],
      env,
      folder(),
    )
    expect(rotate.code).toBe(1)
    expect(rotate.stderr).toContain(`JournalLocked: the journal ${journal} is in use`)
    // Neither sent a request: the lock is taken before the vendor is asked anything.
    expect(emulator.requests.length).toBe(seen)
    // A dry run writes nothing, so the lock does not stop it (the open batch it reads does).
    const dry = await keyway(['apply', '--config', 'c.json', '--dry-run'], env, folder())
    expect(dry.stderr).not.toContain('JournalLocked')
    expect(dry.stderr).toContain('UnfinishedBatch')
    expect(emulator.requests.slice(seen).every((request) => request.method === 'GET')).toBe(true)

    release()
    const finished = await first
    expect(finished.stderr).not.toContain('error')
    expect(finished.code).toBe(0)
    expect(JSON.parse(finished.stdout)).toMatchObject({ rotated: 1, failed: 0 })
    expect(await exists(lock)).toBe(false)
    // Its batch and its account record are whole: one batch, the old key rotated once.
    const records = JSON.parse(await readFile(journal, 'utf8'))
    const batches = Object.values(records.batches) as Array<{ keyIds: string[] }>
    expect(batches.map((batch) => batch.keyIds)).toEqual([[old.id]])
    const accounts = JSON.parse(await readFile(`${journal}.accounts.json`, 'utf8'))
    expect(Object.keys(accounts.batches)).toEqual(Object.keys(records.batches))
    expect(emulator.control.keyIds()).not.toContain(old.id)
    expect(
      emulator.requests.filter((request) => request.method === 'POST').map((r) => r.path),
    ).toEqual(['/auth/api_keys'])
  })

  it('refuses while a live process holds the lock; takes over one whose process was killed', async () => {
    const emulator = await start('latitudesh')
    emulator.control.seedKey({ name: 'backups', createdAt: new Date(Date.now() - 200 * DAY) })
    await writeConfig()
    const env = envFor(emulator)
    const lock = join(folder(), 'journal.json.lock')
    const owner = (pid: number, host = hostname()) =>
      writeFile(lock, JSON.stringify({ pid, host, since: '2026-12-01T00:00:00.000Z' }))

    // This test's own process is alive: its lock holds.
    await owner(process.pid)
    const held = await keyway(['apply', '--config', 'c.json', '--yes'], env, folder())
    expect(held.code).toBe(1)
    expect(held.stderr).toContain(
      `in use by another keyway run (process ${process.pid} on ${hostname()}, since 2026-12-01T00:00:00.000Z): it holds the lock ${lock}`,
    )
    // Another host's process cannot be checked from here: never taken over.
    await owner(1, 'build-server-2')
    const remote = await keyway(['apply', '--config', 'c.json', '--yes'], env, folder())
    expect(remote.code).toBe(1)
    expect(remote.stderr).toContain('(process 1 on build-server-2,')
    expect(emulator.requests).toEqual([])

    // A process that was killed leaves its lock; its pid names no process any more.
    const killed = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'])
    const pid = killed.pid as number
    await new Promise((resolve) => {
      killed.on('exit', resolve)
      killed.kill('SIGKILL')
    })
    await owner(pid)
    const taken = await keyway(['apply', '--config', 'c.json', '--yes', '--json'], env, folder())
    expect(taken.stderr).not.toContain('JournalLocked')
    expect(taken.code).toBe(0)
    expect(JSON.parse(taken.stdout)).toMatchObject({ rotated: 1 })
    expect(await exists(lock)).toBe(false)
  })
})
