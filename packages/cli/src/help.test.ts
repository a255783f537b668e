import { describe, expect, it } from 'vitest'
import { keyway } from './cli.test-support.js'
import { COMMAND_HELP } from './help.js'

describe('help', () => {
  it('prints the root page for keyway, keyway --help and keyway help, exit 0', async () => {
    const bare = await keyway([])
    expect(bare.code).toBe(0)
    expect(bare.stderr).toBe('')
    expect((await keyway(['--help'])).stdout).toBe(bare.stdout)
    expect((await keyway(['help'])).stdout).toBe(bare.stdout)
    await expect(bare.stdout).toMatchFileSnapshot('__snapshots__/help/keyway.txt')
    expect(bare.stdout).toContain('-p, --provider <vendor>')
    expect(bare.stdout).toContain('4 authentication needed')
    expect(bare.stdout).not.toContain('=false')
  })

  it.each(Object.keys(COMMAND_HELP))(
    'keyway help %s prints the page --help prints, with examples',
    async (command) => {
      const viaHelp = await keyway(['help', command])
      const viaFlag = await keyway([command, '--help'])
      expect(viaHelp.code).toBe(0)
      expect(viaFlag).toEqual(viaHelp)
      expect(viaHelp.stdout).toContain(`Usage\n  keyway ${command}`)
      expect(viaHelp.stdout).toMatch(/Examples\n {2}\$ .*keyway /)
      expect(viaHelp.stdout).not.toContain('=false')
      await expect(viaHelp.stdout).toMatchFileSnapshot(`__snapshots__/help/${command}.txt`)
    },
  )

  it.each([
    // command, a common flag its page must not show, how the command refuses that flag
    ['audit', '--json[=<fields>]', ['audit', '--json=id'], 'audit does not take --json=<fields>'],
    [
      'plan',
      '--emulator',
      ['plan', '--emulator'],
      'unknown flag: --emulator (keyway plan does not take it) (hint: the stores come from the config file',
    ],
    [
      'apply',
      '--provider',
      ['apply', '-p', 'openrouter'],
      'unknown flag: -p (keyway apply does not take it)',
    ],
    [
      'audit',
      '--emulator',
      ['audit', '--emulator'],
      'unknown flag: --emulator (keyway audit does not take it)',
    ],
    [
      'list',
      '--dry-run',
      ['list', '--dry-run'],
      'unknown flag: --dry-run (keyway list does not take it)',
    ],
    [
      'create',
      '--json[=<fields>]',
      ['create', '--json=id'],
      'create does not take --json=<fields>',
    ],
  ])('the %s page leaves out %s, which it refuses', async (command, flag, args, refusal) => {
    const page = (await keyway([command, '--help'])).stdout
    expect(page).not.toContain(flag)
    const run = await keyway(args)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`error UsageError: ${refusal}`)
  })

  it('shows --timeout on the page of every command that talks to a vendor, and only there', async () => {
    const talking = ['list', 'get', 'create', 'update', 'enable', 'disable', 'delete', 'rotate']
    for (const command of Object.keys(COMMAND_HELP)) {
      const page = (await keyway([command, '--help'])).stdout
      const expected = [...talking, 'audit', 'plan', 'apply', 'status', 'revoke'].includes(command)
      expect(page.includes('--timeout <duration>'), command).toBe(expected)
      expect(page.includes('--emulator'), command).toBe(talking.includes(command))
    }
  })

  it('suggests the command meant by a typo', async () => {
    const run = await keyway(['help', 'delte'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('did you mean keyway delete?')
  })
})
