// The built `keyway` at a real terminal (a tmux pane), as a person meets its questions: the
// confirmation of delete (one key, and every key a name glob matches), rotate (retiring by
// disable) and apply answered yes, no and Ctrl-C,
// and --dry-run, which asks nothing. The screen is read back with capture-pane, and the
// emulator tells what went over the wire: a "no" or a Ctrl-C sends no write, a "yes" changes
// exactly the key asked about, a dry run sends no write.
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Emulator, OpenRouterEmulatorControl } from '@keyway/testkit'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CLI, envFor, latitudeFleet, STATE_HOME, useSandbox } from './cli.test-support.js'

const run = promisify(execFile)
const { start, folder } = useSandbox()
const DAY = 86_400_000

/**
 * Each test's own tmux server, on a socket in this file's own folder (`-S`): nothing it starts
 * can reach another test's sessions or the user's, and one test's server shutting down never
 * meets the next one's starting.
 */
const SOCKETS = mkdtempSync(join(tmpdir(), 'keyway-tmux-'))
afterAll(() => rm(SOCKETS, { recursive: true, force: true }))
let socket = ''
let servers = 0
beforeEach(() => {
  servers += 1
  socket = join(SOCKETS, String(servers))
})
afterEach(async () => {
  // The server ends every session, and the shell and keyway in each.
  await tmux('kill-server').catch(() => {})
  await rm(socket, { force: true })
})

/** The tmux server starts with this environment only: no credential of the runner leaks in. */
const TMUX_ENV = { PATH: process.env.PATH ?? '', HOME: tmpdir(), TERM: 'xterm-256color' }

/** Runs tmux on this test's server; a failure says what tmux said, never the command's env. */
async function tmux(...args: string[]): Promise<{ stdout: string }> {
  try {
    return await run('tmux', ['-S', socket, ...args], { env: TMUX_ENV })
  } catch (error) {
    throw new Error(`tmux ${args[0]} failed: ${(error as { stderr?: string }).stderr ?? ''}`)
  }
}

const shellQuote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`

/** A terminal running `keyway <args>` in `folder()`, with only PATH, the state folder and `env`. */
async function terminal(args: string[], env: Record<string, string>) {
  const session = `run-${Math.random().toString(36).slice(2, 10)}`
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ')
  const vars = { PATH: process.env.PATH ?? '', XDG_STATE_HOME: STATE_HOME, ...env }
  await tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '220',
    '-y',
    '60',
    '-c',
    folder(),
    ...Object.entries(vars).flatMap(([name, value]) => ['-e', `${name}=${value}`]),
    // The exit code is shown, and the pane stays open to be read.
    'bash',
    '--norc',
    '--noprofile',
    '-c',
    `${command}; echo "[exit $?]"; exec sleep 600`,
  )
  const screen = async () =>
    (await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session)).stdout
  /** The screen once it shows `text`; fails with the screen after a generous deadline. */
  const waitFor = async (text: string | RegExp): Promise<string> => {
    const deadline = Date.now() + 30_000
    for (;;) {
      const shown = await screen()
      if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown
      if (Date.now() > deadline)
        throw new Error(`the terminal never showed ${String(text)}; it shows:\n${shown}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return {
    waitFor,
    /** Types keys as tmux names them: `y`, `Enter`, `C-c`. */
    keys: (...keys: string[]) => tmux('send-keys', '-t', session, ...keys),
    /** The exit code and the whole screen, once keyway ended. */
    async exit(): Promise<{ code: number; screen: string }> {
      const shown = await waitFor(/\[exit \d+\]/)
      return { code: Number(/\[exit (\d+)\]/.exec(shown)?.[1]), screen: shown }
    },
  }
}

const ANSWERS = [
  ['yes', ['y', 'Enter']],
  ['no', ['n', 'Enter']],
  ['Ctrl-C', ['C-c']],
] as const

/** Every request that could change something at the vendor. */
const writes = (emulator: Emulator) =>
  emulator.requests
    .filter((request) => request.method !== 'GET')
    .map((request) => `${request.method} ${request.path}`)

/** The dotenv's value for `variable`, unquoted. */
async function delivered(variable: string): Promise<string | undefined> {
  const text = await readFile(join(folder(), 'secrets.env'), 'utf8').catch(() => '')
  return new RegExp(`^${variable}=(.*)$`, 'm').exec(text)?.[1]?.replace(/^"|"$/g, '')
}

/**
 * Answers the question `shell` asks with `keys`; nothing is written while it is open. Checks
 * the exit code and what the screen says after each answer, whatever the command (`declined`
 * after a "no"), and that a "no" or a Ctrl-C writes nothing: the keys stay as `before`.
 * Returns the screen.
 */
async function answer(
  shell: Awaited<ReturnType<typeof terminal>>,
  emulator: Emulator,
  before: readonly string[],
  [given, keys]: readonly [string, readonly string[]],
  declined: string,
): Promise<string> {
  expect(writes(emulator)).toEqual([])
  await shell.keys(...keys)
  const { code, screen } = await shell.exit()
  if (given === 'yes') {
    expect(code).toBe(0)
    return screen
  }
  expect(code).toBe(2)
  expect(screen).toContain(given === 'no' ? declined : 'Interrupted: stopped before finishing')
  expect(writes(emulator)).toEqual([])
  expect(emulator.control.keyIds()).toEqual(before)
  return screen
}

describe('keyway at a terminal', () => {
  it.each(ANSWERS)('delete, answered %s at its question', async (...given) => {
    const emulator = await start('openrouter')
    const victim = emulator.control.seedKey({ name: 'victim' })
    const before = emulator.control.keyIds()
    const shell = await terminal(['delete', 'victim', '-p', 'openrouter'], envFor(emulator))
    await shell.waitFor(`Delete OpenRouter key "victim" (${victim.id})? [y/N]`)
    const screen = await answer(shell, emulator, before, given, 'Cancelled: nothing deleted')
    if (given[0] === 'yes') {
      expect(screen).toContain(`${victim.id} deleted`)
      expect(writes(emulator)).toEqual([`DELETE /api/v1/keys/${victim.id}`])
      expect(emulator.control.keyIds()).toEqual(before.filter((id) => id !== victim.id))
    } else expect(screen).not.toContain(`${victim.id} deleted`)
  })

  it.each(ANSWERS)(
    'delete --name <glob>, answered %s: the question lists every key',
    async (...given) => {
      const emulator = await start('openrouter')
      const matching = ['ci-a', 'ci-b'].map((name) => emulator.control.seedKey({ name }))
      const other = emulator.control.seedKey({ name: 'prod' })
      const before = emulator.control.keyIds()
      const shell = await terminal(
        ['delete', '--name', 'ci-*', '-p', 'openrouter'],
        envFor(emulator),
      )
      const asked = await shell.waitFor('Delete these 2 OpenRouter keys? [y/N]')
      for (const [index, key] of matching.entries())
        expect(asked).toContain(`"ci-${'ab'[index]}" (${key.id}) active`)
      expect(asked).not.toContain(other.id)
      await answer(shell, emulator, before, given, 'Cancelled: nothing deleted')
      if (given[0] === 'yes') {
        expect(writes(emulator).sort()).toEqual(
          matching.map((key) => `DELETE /api/v1/keys/${key.id}`).sort(),
        )
        expect(emulator.control.keyIds().sort()).toEqual(
          before.filter((id) => !matching.some((key) => key.id === id)).sort(),
        )
      }
    },
  )

  it.each(ANSWERS)('rotate retiring by disable, answered %s', async (...given) => {
    const emulator = await start('openrouter')
    const old = (emulator.control as OpenRouterEmulatorControl).seedKey({ name: 'ci', limit: 5 })
    const before = emulator.control.keyIds()
    const args = ['rotate', 'ci', '-p', 'openrouter', '--retire', 'disable']
    const target = ['--deliver-to', 'secrets.env', '--var-name', 'CI_KEY']
    const shell = await terminal([...args, ...target], envFor(emulator))
    // The plan is shown above the question.
    const asked = await shell.waitFor('Rotate 1 openrouter key(s) as shown? [y/N]')
    expect(asked).toContain(`${old.id} ci, 0 days old: rotate`)
    expect(asked).toContain('  old key:        disable')
    await answer(shell, emulator, before, given, 'nothing rotated')
    if (given[0] === 'yes') {
      const secret = (await delivered('CI_KEY')) as string
      expect(emulator.control.works(secret)).toBe(true)
      expect(emulator.control.keyAttributes(secret)).toMatchObject({ name: 'ci', limit: 5 })
      // The old key is disabled, not deleted; one key was added; nothing else was touched.
      expect(emulator.control.works(old.secret)).toBe(false)
      const added = emulator.control.keyIds().filter((id) => !before.includes(id))
      expect(added).toHaveLength(1)
      expect(emulator.control.keyIds()).toContain(old.id)
      expect(writes(emulator).filter((write) => write.startsWith('DELETE'))).toEqual([])
      const toOld = emulator.requests.filter(
        (request) => request.method === 'PATCH' && request.path === `/api/v1/keys/${old.id}`,
      )
      expect(toOld.map((request) => request.body)).toEqual([{ disabled: true }])
    } else expect(await delivered('CI_KEY')).toBeUndefined()
  })

  it.each(ANSWERS)('apply, answered %s', async (...given) => {
    const emulator = await start('latitudesh')
    const old = emulator.control.seedKey({
      name: 'backups',
      createdAt: new Date(Date.now() - 200 * DAY),
    })
    await writeConfig()
    const before = emulator.control.keyIds()
    const shell = await terminal(['apply', '--config', 'c.json'], envFor(emulator))
    const asked = await shell.waitFor('Rotate 1 key at 1 store as shown? [y/N]')
    expect(asked).toContain(`${old.id} backups, 200 days old: rotate`)
    await answer(shell, emulator, before, given, 'nothing rotated')
    if (given[0] === 'yes') {
      const secret = (await delivered('LATITUDE_BACKUPS')) as string
      expect(emulator.control.works(secret)).toBe(true)
      expect(emulator.control.keyIds()).not.toContain(old.id)
      expect(emulator.control.keyIds().filter((id) => !before.includes(id))).toHaveLength(1)
      expect(writes(emulator).filter((write) => write.startsWith('DELETE'))).toEqual([
        `DELETE /auth/api_keys/${old.id}`,
      ])
    }
  })

  it('--dry-run asks nothing, shows what it would do, and sends no write', async () => {
    const openrouter = await start('openrouter')
    const victim = openrouter.control.seedKey({ name: 'victim' })
    const latitude = await start('latitudesh')
    const old = latitude.control.seedKey({
      name: 'backups',
      createdAt: new Date(Date.now() - 200 * DAY),
    })
    await writeConfig()
    const runs: Array<[Emulator, string[], string[]]> = [
      [
        openrouter,
        ['delete', 'victim', '-p', 'openrouter', '--dry-run'],
        [`would delete OpenRouter key "victim" (${victim.id}); dry run, nothing sent`],
      ],
      [
        openrouter,
        ['disable', 'victim', '-p', 'openrouter', '--dry-run'],
        [`would disable "victim" (${victim.id}); dry run, nothing sent`],
      ],
      [
        openrouter,
        ['rotate', 'victim', '-p', 'openrouter', '--dry-run'],
        [`${victim.id} victim, 0 days old: rotate`, '  old key:        delete'],
      ],
      [
        latitude,
        ['apply', '--config', 'c.json', '--dry-run'],
        [`${old.id} backups, 200 days old: rotate`, 'dry run: nothing rotated, nothing written'],
      ],
    ]
    for (const [emulator, args, lines] of runs) {
      const shell = await terminal(args, envFor(emulator))
      const { code, screen } = await shell.exit()
      expect(code, screen).toBe(0)
      for (const line of lines) expect(screen).toContain(line)
      expect(screen).not.toContain('[y/N]')
    }
    expect(writes(openrouter)).toEqual([])
    expect(writes(latitude)).toEqual([])
    expect(openrouter.control.keyIds()).toContain(victim.id)
    expect(latitude.control.keyIds()).toContain(old.id)
  })
})

/** A config with one Latitude.sh store whose keys older than 90 days are due. */
async function writeConfig(): Promise<void> {
  const config = latitudeFleet()
  await writeFile(join(folder(), 'c.json'), JSON.stringify(config))
}
