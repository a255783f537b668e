// Ctrl-C in the middle of `keyway apply`: the run ends with the command that finishes its
// batch, a new batch is refused while that one is open, and finishing it leaves exactly one
// successor per key, whose secret is the one delivered.
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Emulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { CLI, envFor, keyway, latitudeFleet, STATE_HOME, useSandbox } from './cli.test-support.js'

const { start, folder } = useSandbox()
const DAY = 86_400_000

/** Starts the CLI without a terminal; `interrupt` sends SIGINT once `when` holds. */
function running(args: string[], env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: STATE_HOME, ...env },
    cwd,
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    stderr: () => stderr,
    async interruptWhen(when: () => boolean) {
      while (!when()) await new Promise((resolve) => setTimeout(resolve, 20))
      child.kill('SIGINT')
      return { code: await exit, stderr }
    },
  }
}

/** A config with one Latitude.sh store whose keys older than 90 days are due. */
async function latitudeConfig(emulator: Emulator): Promise<Record<string, string>> {
  const config = latitudeFleet()
  await writeFile(join(folder(), 'c.json'), JSON.stringify(config))
  return envFor(emulator)
}

/** The dotenv's value for `variable`. */
async function delivered(variable: string): Promise<string | undefined> {
  const text = await readFile(join(folder(), 'secrets.env'), 'utf8').catch(() => '')
  return new RegExp(`^${variable}=(.*)$`, 'm').exec(text)?.[1]?.replace(/^"|"$/g, '')
}

/** One successor of `old` since `before`: one key added, the old one gone, its secret dead. */
function expectOneSuccessor(
  emulator: Emulator,
  before: readonly string[],
  old: { id: string; secret: string },
): void {
  const after = emulator.control.keyIds()
  expect(after).not.toContain(old.id)
  expect(after.filter((id) => !before.includes(id))).toHaveLength(1)
  expect(emulator.control.works(old.secret)).toBe(false)
}

/**
 * Rotates the key named `name` at a fresh OpenRouter emulator (with `target`'s flags), and
 * stops it with Ctrl-C while it waits out a long grace period: exit 2.
 */
async function interruptedRotate(name: string, target: string[] = []) {
  const emulator = await start('openrouter')
  const old = emulator.control.seedKey({ name })
  const before = emulator.control.keyIds()
  const env = envFor(emulator)
  const args = ['rotate', name, '-p', 'openrouter', '--yes', '--grace-ms', '3000']
  const child = running([...args, ...target], env, folder())
  const stopped = await child.interruptWhen(() => child.stderr().includes('waiting'))
  expect(stopped.code).toBe(2)
  const last = stopped.stderr.trim().split('\n').at(-1) as string
  return { emulator, old, before, env, args, stopped, last }
}

/** Runs the printed command (plain words only: the test's paths need no quoting). */
function runPrinted(command: string, env: Record<string, string>) {
  const [program, ...args] = command.split(' ')
  expect(program).toBe('keyway')
  return keyway(args, env, folder())
}

describe('an interrupted apply', () => {
  it.each([
    ['waiting out the grace period', 'grace'],
    ['while the new key is being created', 'create'],
  ])(
    'stopped %s, ends with the command that finishes it: one successor, delivered',
    async (_when, phase) => {
      const emulator = await start('latitudesh')
      const old = emulator.control.seedKey({
        name: 'backups',
        createdAt: new Date(Date.now() - 200 * DAY),
      })
      const env = await latitudeConfig(emulator)
      const before = emulator.control.keyIds()
      let release = () => {}
      if (phase === 'create')
        emulator.inject({
          match: { method: 'POST' },
          until: new Promise<void>((resolve) => {
            release = resolve
          }),
        })
      const args = ['apply', '--config', 'c.json', '--yes', '--grace-ms', '3000']
      const child = running(args, env, folder())
      const stopped = await child.interruptWhen(() =>
        phase === 'grace'
          ? child.stderr().includes('waiting')
          : emulator.requests.some((request) => request.method === 'POST'),
      )
      release()
      await emulator.idle()
      expect(stopped.code).toBe(2)
      const lines = stopped.stderr.trim().split('\n')
      const batchId = /batch (\S+), journal/.exec(stopped.stderr)?.[1] as string
      expect(batchId).toMatch(/^[0-9a-f]{8}$/)
      expect(lines.at(-2)).toContain(`Interrupted: stopped before finishing batch ${batchId}`)
      expect(lines.at(-1)).toBe(`keyway ${args.join(' ')} --batch-id ${batchId}`)

      // The same command again would rotate the old key a second time: refused, naming the fix.
      const writes = () => emulator.requests.filter((request) => request.method !== 'GET').length
      const writesBefore = writes()
      const again = await keyway(args, env, folder())
      expect(again.code).toBe(1)
      expect(again.stderr).toContain(`UnfinishedBatch: batch ${batchId} in`)
      expect(again.stderr.trim().split('\n').at(-1)).toBe(lines.at(-1))
      expect(writes()).toBe(writesBefore)

      const finished = await runPrinted(lines.at(-1) as string, env)
      expect(finished.stderr).not.toContain('error')
      expect(finished.code).toBe(0)
      // Exactly one successor: the old key gone, one new key, and its secret is in the dotenv.
      expectOneSuccessor(emulator, before, old)
      const secret = (await delivered('LATITUDE_BACKUPS')) as string
      expect(emulator.control.works(secret)).toBe(true)
      expect(emulator.control.keyAttributes(secret)).toMatchObject({ name: 'backups' })
    },
  )
})

describe('an interrupted rotate', () => {
  it('ends with the command that finishes its batch, journal included; a new batch is refused', async () => {
    const target = ['--deliver-to', 'secrets.env', '--var-name', 'CI_KEY']
    const { emulator, old, before, env, args, stopped, last } = await interruptedRotate(
      'ci',
      target,
    )
    const batchId = /batch (\S+), journal/.exec(stopped.stderr)?.[1] as string
    const journal = join(STATE_HOME, 'keyway', 'rotations.json')
    // Without the key name: by now it names the new key too; the batch knows its keys.
    const resumeArgs = [...args.filter((word) => word !== 'ci'), ...target]
    expect(last).toBe(`keyway ${resumeArgs.join(' ')} --journal ${journal} --batch-id ${batchId}`)
    // Another key of the same vendor: a new batch while this one is open is refused.
    const refused = await keyway(['rotate', 'ci', '-p', 'openrouter', '--yes'], env, folder())
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`batch ${batchId} in ${journal} left 1 openrouter key(s)`)
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(
      `keyway rotate -p openrouter --yes --journal ${journal} --batch-id ${batchId}`,
    )
    const finished = await runPrinted(last, env)
    expect(finished.code).toBe(0)
    expectOneSuccessor(emulator, before, old)
    expect(emulator.control.works((await delivered('CI_KEY')) as string)).toBe(true)
  })

  it('of one key whose secret was printed, finishes with the printed command: one successor', async () => {
    const { emulator, old, before, env, last } = await interruptedRotate('solo')
    expect(last).not.toContain('solo')
    const finished = await runPrinted(last, env)
    expect(finished.stderr).not.toContain('UsageError')
    expect(finished.code).toBe(0)
    expectOneSuccessor(emulator, before, old)
  })
})
