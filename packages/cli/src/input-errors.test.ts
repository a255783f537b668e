// Bad input is refused before anything is sent, in words an operator can act on, and never
// echoes more than it must.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Emulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { envFor, keyway, STATE_HOME, useSandbox } from './cli.test-support.js'

const { start, folder } = useSandbox()

const writes = (emulator: Emulator) =>
  emulator.requests.filter((request) => request.method !== 'GET').length

describe('input errors', () => {
  it.each([
    [
      'a 5,000-character name, shortened',
      'openrouter',
      ['--name', 'a'.repeat(5000)],
      `--name ${'a'.repeat(40)}… (5000 characters): must be at most 256 characters, not 5000`,
    ],
    ['an empty name', 'openrouter', ['--name', ''], '--name "": must not be empty'],
    [
      'a metadata entry with a refused word, named without its value',
      'notedx',
      ['--metadata', 'api_token=hunter2'],
      '--metadata entry "api_token": the name holds "token", a word NoteDx refuses in metadata',
    ],
    [
      'a negative limit after a space',
      'openrouter',
      ['--limit', '-5'],
      '--limit is followed by a value that starts with "-" (hint: write it as --limit=<value>',
    ],
    [
      'a negative limit',
      'openrouter',
      ['--limit=-5'],
      '--limit takes a number of USD (0 or more) or "none", not "-5"',
    ],
    [
      'an allowed origin that is not one',
      'voiceable',
      ['--allowed-origin', 'not a url'],
      '--allowed-origin not a url: expected an origin such as https://app.example.com',
    ],
  ] as const)('refuses %s, sending nothing', async (_name, vendor, flags, message) => {
    const emulator = await start(vendor)
    const before = writes(emulator)
    const run = await keyway(['create', '-p', vendor, ...flags], envFor(emulator))
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(message)
    expect(run.stderr).not.toContain('\\u000a')
    expect(run.stderr).not.toContain('hunter2')
    expect(run.stderr.length).toBeLessThan(400)
    expect(writes(emulator)).toBe(before)
  })

  it('plan lines leave out empty values', async () => {
    const emulator = await start('notedx')
    const run = await keyway(['rotate', '--all', '-p', 'notedx', '--dry-run'], envFor(emulator))
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('carried over:   type=sandbox\n')
    expect(run.stdout).not.toMatch(/=(,|\n)/)
  })

  it('rotate of one key leaves nothing in the current folder: the journal is in the state folder', async () => {
    const emulator = await start('openrouter')
    emulator.control.seedKey({ name: 'ci' })
    const run = await keyway(
      ['rotate', 'ci', '-p', 'openrouter', '--yes'],
      envFor(emulator),
      folder(),
    )
    expect(run.code).toBe(0)
    expect(await readdir(folder())).toEqual([])
    expect(await readdir(join(STATE_HOME, 'keyway'))).toContain('rotations.json')
  })
})
