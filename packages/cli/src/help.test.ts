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

  it('suggests the command meant by a typo', async () => {
    const run = await keyway(['help', 'delte'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('did you mean keyway delete?')
  })
})
