// Runs the built CLI as a user would: a child process with only PATH and the given env.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Emulator, startEmulator, type Vendor } from '@keyway/testkit'
import { afterAll, afterEach, beforeEach, expect } from 'vitest'
import { PROVIDERS, providerEnv } from './providers.js'

/**
 * keyway's state folder for every run of this test file: journals never land in the home of
 * whoever runs the tests.
 */
export const STATE_HOME = mkdtempSync(join(tmpdir(), 'keyway-cli-state-'))
afterAll(() => rm(STATE_HOME, { recursive: true, force: true }))

/** The built CLI. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the built CLI with only PATH and the given env: no credential leaks in from outside. */
export function keyway(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: STATE_HOME, ...env },
        cwd,
        timeout: 55_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

const shellQuote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`

/**
 * Runs the built CLI on a pseudo-terminal (util-linux `script`), as a person at a terminal
 * would: answers `input` once the CLI asks. Output is stdout and stderr as the terminal shows them.
 */
export function keywayOnTerminal(
  args: string[],
  env: Record<string, string>,
  input: string,
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ')
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', TERM: 'dumb', XDG_STATE_HOME: STATE_HOME, ...env },
  })
  let output = ''
  let answered = false
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    if (!answered && output.includes('[y/N]')) {
      answered = true
      child.stdin.write(input)
    }
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })))
}

/** The env vars that point the CLI at an emulator. */
export function envFor(emulator: Emulator): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [field, name] of Object.entries(providerEnv(PROVIDERS[emulator.vendor])))
    if (typeof emulator.settings[field] === 'string') env[name] = emulator.settings[field]
  return env
}

/** Per test: a fresh temporary folder and the emulators it starts, all removed afterwards. */
export function useSandbox() {
  let emulators: Emulator[] = []
  let folder = ''
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'keyway-cli-'))
  })
  afterEach(async () => {
    await Promise.all(emulators.map((emulator) => emulator.close()))
    emulators = []
    await rm(folder, { recursive: true, force: true })
  })
  return {
    start: async (vendor: Vendor): Promise<Emulator> => {
      const emulator = await startEmulator(vendor)
      emulators.push(emulator)
      return emulator
    },
    folder: (): string => folder,
    emulators: (): readonly Emulator[] => emulators,
  }
}

/**
 * A fleet config with one Latitude.sh store, labelled `latitude`, whose keys older than 90 days
 * are due and delivered to `secrets.env`; `fields` (say `history`) are added on top.
 */
export function latitudeFleet(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    journal: 'journal.json',
    ...fields,
    policy: { maxAgeDays: 90 },
    stores: [
      {
        label: 'latitude',
        vendor: 'latitudesh',
        deliver: { to: 'secrets.env', variable: 'LATITUDE_{NAME}' },
      },
    ],
  }
}

/**
 * Runs `keyway emulate <service> --background --json` and checks what it printed: one emulator
 * of that service, whose env holds exactly `names`, the first of them its URL. Stops it after.
 */
export async function expectEmulateEnv(service: string, names: readonly string[]): Promise<void> {
  const started = await keyway(['emulate', service, '--background', '--json'])
  expect(started.code, started.stderr).toBe(0)
  const { pid, emulators } = JSON.parse(started.stdout) as {
    pid: number
    emulators: Array<{ vendor: string; url: string; env: Record<string, string> }>
  }
  try {
    expect(emulators.map((emulator) => emulator.vendor)).toEqual([service])
    expect(Object.keys(emulators[0]?.env ?? {}).sort()).toEqual([...names].sort())
    expect(emulators[0]?.env[names[0] as string]).toBe(emulators[0]?.url)
  } finally {
    process.kill(pid, 'SIGTERM')
  }
}

/**
 * Shell lines for a delivery script that SIGKILLs keyway once, the first time `condition` (a
 * shell test, or none) holds: keyway is the script's parent, or the parent of the shell that
 * runs it. A `crashed` file in the working folder marks that it has happened.
 */
export function killKeywayOnce(condition?: string): string[] {
  return [
    `if [ ! -f crashed ]${condition === undefined ? '' : ` && ${condition}`}; then`,
    '  touch crashed',
    `  for pid in "$PPID" "$(cut -d' ' -f4 /proc/$PPID/stat)"; do`,
    "    if tr '\\0' ' ' < /proc/$pid/cmdline | grep -q 'dist/cli.js'; then kill -9 \"$pid\"; break; fi",
    '  done',
    'fi',
  ]
}

/**
 * Runs `keyway apply --yes --batch-id <batchId>` in `folder`, expecting its delivery script to
 * kill it part way (before any summary), then runs it again with `--json`: the resume must
 * finish the batch, no key failing.
 */
export async function applyKilledThenResumed(
  batchId: string,
  env: Record<string, string>,
  folder: string,
): Promise<void> {
  const crashed = await keyway(['apply', '--yes', '--batch-id', batchId], env, folder)
  expect(crashed.code).not.toBe(0)
  expect(crashed.stdout).not.toContain('rotated,')
  const resumed = await keyway(['apply', '--yes', '--batch-id', batchId, '--json'], env, folder)
  expect(resumed.stderr).toContain(`resuming batch ${batchId}`)
  expect(resumed.code).toBe(0)
  expect(JSON.parse(resumed.stdout)).toMatchObject({ batchId, failed: 0 })
}
