// What an operator believes of `keyway history`: every change keyway made is there, also of a
// run killed part way (the killed change shows as "unknown outcome"), the filters pick what
// they say, and no secret is anywhere in the file.
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Emulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { CLI, envFor, keyway, latitudeFleet, STATE_HOME, useSandbox } from './cli.test-support.js'
import type { ShownChange } from './commands/history.js'

const { start, folder } = useSandbox()
const DAY = 86_400_000

/** Two Latitude.sh keys due for rotation, delivered to a dotenv; history in the sandbox. */
async function setUp(emulator: Emulator) {
  const old = ['backups', 'reports'].map((name) =>
    emulator.control.seedKey({ name, createdAt: new Date(Date.now() - 200 * DAY) }),
  )
  const config = latitudeFleet({ history: 'audit/history.jsonl' })
  await writeFile(join(folder(), 'c.json'), JSON.stringify(config))
  // The config names the history file: apply writes it, history reads it.
  const historyFile = join(folder(), 'audit', 'history.jsonl')
  const env: Record<string, string> = { ...envFor(emulator), KEYWAY_CONFIG: 'c.json' }
  return { old, before: emulator.control.keyIds(), env, historyFile }
}

/** `keyway history --json` with `filters`, parsed. */
async function shown(env: Record<string, string>, ...filters: string[]): Promise<ShownChange[]> {
  const run = await keyway(['history', '--json', ...filters], env, folder())
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout) as ShownChange[]
}

/** Every 12-character piece of `secret`: none may appear in history. */
function fragments(secret: string): string[] {
  return Array.from({ length: secret.length - 11 }, (_, at) => secret.slice(at, at + 12))
}

describe('keyway history', () => {
  it('holds every change, also of a run killed mid-batch: the killed create is an unknown outcome', async () => {
    const emulator = await start('latitudesh')
    const { old, before, env, historyFile } = await setUp(emulator)
    let release = () => {}
    // The creates hang at the vendor; the process is killed while they do.
    emulator.inject({
      match: { method: 'POST' },
      until: new Promise<void>((resolve) => {
        release = resolve
      }),
    })
    const args = ['apply', '--config', 'c.json', '--yes', '--batch-id', 'nightly-1']
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: STATE_HOME, ...env },
      cwd: folder(),
    })
    const exited = new Promise<string | null>((resolve) =>
      child.on('close', (_code, signal) => resolve(signal)),
    )
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    while (!emulator.requests.some((request) => request.method === 'POST')) {
      // A run that ended before any create would wait forever: say why.
      expect(stderr).not.toContain('error')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    release()
    await emulator.idle()

    const killed = await shown(env)
    expect(killed.length).toBeGreaterThanOrEqual(1)
    expect(killed.every((change) => change.action === 'create')).toBe(true)
    expect(killed.map((change) => change.outcome)).toContain('unknown')
    expect(killed[0]).toMatchObject({
      store: 'latitude',
      provider: 'latitudesh',
      batchId: 'nightly-1',
      keyId: null,
      step: 'create',
    })

    const resumed = await keyway(args, env, folder())
    expect(resumed.stderr).not.toContain('error')
    expect(resumed.code).toBe(0)
    const changes = await shown(env)
    // The killed run's lines are kept as they were: history is appended, never rewritten.
    expect(changes.slice(0, killed.length)).toEqual(killed)
    const secrets = ['BACKUPS', 'REPORTS'].map(async (name) => {
      const text = await readFile(join(folder(), 'secrets.env'), 'utf8')
      return new RegExp(`^LATITUDE_${name}=(.*)$`, 'm').exec(text)?.[1]?.replace(/^"|"$/g, '')
    })
    const delivered = (await Promise.all(secrets)) as string[]
    for (const secret of delivered) expect(emulator.control.works(secret)).toBe(true)
    const now = emulator.control.keyIds()
    const newKeyIds: string[] = []
    for (const key of old) {
      const mine = changes.filter((change) => change.rotationId === `nightly-1:latitude/${key.id}`)
      const made = mine.find(
        (change) => change.action === 'create' && change.outcome === 'succeeded',
      )
      const newKeyId = made?.keyId as string
      newKeyIds.push(newKeyId)
      expect(now).not.toContain(key.id)
      // The killed create, then the rotation the resume finished.
      const rotation = mine.filter((change) => change.step !== 'resume')
      expect(
        rotation.map((change) => [change.action, change.keyId, change.step, change.outcome]),
      ).toEqual([
        ['create', null, 'create', 'unknown'],
        ['create', newKeyId, 'create', 'succeeded'],
        ['write', newKeyId, 'deliver', 'succeeded'],
        ['delete', key.id, 'retire', 'succeeded'],
      ])
      // A key the killed create made (if the vendor made it) was deleted on resume, recorded.
      for (const cleanup of mine.filter((change) => change.step === 'resume')) {
        expect([cleanup.action, cleanup.outcome]).toEqual(['delete', 'succeeded'])
        expect(now).not.toContain(cleanup.keyId)
      }
      expect(mine.every((change) => change.batchId === 'nightly-1')).toBe(true)
      expect(mine.find((change) => change.action === 'write')?.target).toContain('secrets.env')
    }
    // Every key the vendor holds beyond the ones before is a successor history names.
    expect(now.filter((id) => !before.includes(id)).sort()).toEqual(newKeyIds.sort())
    const cleanups = changes.filter((change) => change.step === 'resume').length
    expect(changes).toHaveLength(8 + cleanups)
    // Every change names who made it and which account, by fingerprint.
    for (const change of changes) {
      expect(change.actor).toEqual({ host: expect.any(String), user: expect.any(String) })
      expect(change.account).toMatchObject({
        baseUrl: emulator.url,
        credential: expect.any(String),
      })
    }
    expect(new Set(changes.map((change) => change.account?.credential)).size).toBe(1)

    // No secret anywhere in the file: not the new ones, not the old ones, not the credential.
    const text = await readFile(historyFile, 'utf8')
    const credential = env.LATITUDESH_BEARER as string
    const known = [...delivered, ...old.map((key) => key.secret), credential]
    expect(known.every((secret) => secret.length >= 12)).toBe(true)
    for (const secret of known)
      for (const fragment of fragments(secret)) expect(text).not.toContain(fragment)

    // Filters.
    const unknown = await shown(env, '--outcome', 'unknown')
    expect(unknown.length).toBeGreaterThanOrEqual(1)
    expect(unknown.every((change) => change.outcome === 'unknown')).toBe(true)
    const deletes = await shown(env, '--action', 'delete', '--key', old[0]?.id as string)
    expect(deletes.map((change) => [change.action, change.keyId, change.step])).toEqual([
      ['delete', old[0]?.id, 'retire'],
    ])
    expect(await shown(env, '--store', 'latitude', '--batch-id', 'nightly-1')).toEqual(changes)
    expect(await shown(env, '--store', 'other')).toEqual([])
    expect(await shown(env, '--batch-id', 'nightly-2')).toEqual([])
    expect(await shown(env, '--since', '1h')).toEqual(changes)
    expect(await shown(env, '--since', '2999-01-01')).toEqual([])
    expect(await shown(env, '-p', 'latitudesh', '--action', 'write,propagate')).toHaveLength(2)

    // The table marks the killed change.
    const table = await keyway(['history', '--outcome', 'unknown'], env, folder())
    expect(table.code).toBe(0)
    expect(table.stdout).toContain('unknown outcome')
    expect(table.stdout).toContain('nightly-1')
  })

  it('records a key’s create, disable and delete by default in keyway’s state folder', async () => {
    const emulator = await start('openrouter')
    const env = envFor(emulator)
    const created = await keyway(['create', '-p', 'openrouter', '--name', 'ci', '--json'], env)
    expect(created.code).toBe(0)
    const { key, secret } = JSON.parse(created.stdout) as { key: { id: string }; secret: string }
    expect((await keyway(['disable', key.id, '-p', 'openrouter'], env)).code).toBe(0)
    expect((await keyway(['delete', key.id, '-p', 'openrouter', '--yes'], env)).code).toBe(0)
    const history = await keyway(['history', '--json', '--key', key.id], env)
    const changes = JSON.parse(history.stdout) as ShownChange[]
    expect(changes.map((change) => [change.action, change.store, change.outcome])).toEqual([
      ['create', 'openrouter', 'succeeded'],
      ['disable', 'openrouter', 'succeeded'],
      ['delete', 'openrouter', 'succeeded'],
    ])
    const text = await readFile(join(STATE_HOME, 'keyway', 'history.jsonl'), 'utf8')
    for (const fragment of fragments(secret)) expect(text).not.toContain(fragment)
    // A key already gone is refused before any change is sent: nothing recorded.
    const again = await keyway(['delete', key.id, '-p', 'openrouter', '--yes'], env)
    expect(again.code).toBe(1)
    const failed = JSON.parse(
      (await keyway(['history', '--json', '--outcome', 'failed'], env)).stdout,
    ) as ShownChange[]
    expect(failed).toEqual([])
  })

  it('reads KEYWAY_HISTORY over the default; a file not yet written is no change', async () => {
    const run = await keyway(['history', '--json'], {
      KEYWAY_HISTORY: join(folder(), 'none.jsonl'),
    })
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual([])
  })

  it('refuses a filter it does not know before reading anything', async () => {
    const bad = await keyway(['history', '--action', 'explode'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--action takes create, update')
    const since = await keyway(['history', '--since', '3 parsecs'])
    expect(since.code).toBe(1)
    expect(since.stderr).toContain('--since')
  })
})
