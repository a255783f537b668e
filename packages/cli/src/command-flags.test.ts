import { describe, expect, it } from 'vitest'
import { OPTIONS } from './flags.js'
import { COMMAND_HELP, commandFlagNames } from './help.js'
import { run } from './main.js'

/** Runs the CLI in this process with no env: only parsing and usage errors can happen. */
async function stderrOf(args: string[]): Promise<string> {
  let stderr = ''
  const sink = (text: string) => {
    stderr += text
    return true
  }
  const io = {
    stdout: { write: () => true, isTTY: false },
    stderr: { write: sink, isTTY: false },
    stdin: { isTTY: false },
    env: {},
  }
  await run(args, io as never)
  return stderr
}

/** Commands that run on (emulators, the demo) once their flags parse. */
const RUNS_ON = ['help', 'emulate', 'demo']

const CHANGING = ['create', 'update', 'enable', 'disable', 'delete', 'rotate', 'apply', 'revoke']

describe('per-command flags, from the help pages', () => {
  it('every flag a page shows is one the parser knows', () => {
    for (const command of Object.keys(COMMAND_HELP))
      for (const flag of commandFlagNames(command) ?? [])
        expect(OPTIONS, command).toHaveProperty(flag)
  })

  it('every command that changes something takes --dry-run, and no other command does', () => {
    for (const command of Object.keys(COMMAND_HELP))
      expect(commandFlagNames(command)?.includes('dry-run'), command).toBe(
        CHANGING.includes(command),
      )
  })

  it('refuses every flag a command does not show, naming the command', async () => {
    for (const command of Object.keys(COMMAND_HELP).filter((name) => name !== 'help')) {
      const takes = commandFlagNames(command) ?? []
      for (const flag of Object.keys(OPTIONS).filter((name) => !takes.includes(name))) {
        const args = [command, `--${flag}`, ...(OPTIONS[flag]?.type === 'string' ? ['x'] : [])]
        expect(await stderrOf(args), args.join(' ')).toContain(
          `unknown flag: --${flag} (keyway ${command} does not take it)`,
        )
      }
    }
  })

  it('accepts every flag a command shows (whatever else it then says)', async () => {
    for (const command of Object.keys(COMMAND_HELP).filter((name) => !RUNS_ON.includes(name))) {
      for (const flag of commandFlagNames(command) ?? []) {
        if (flag === 'help') continue
        const args = [command, `--${flag}`, ...(OPTIONS[flag]?.type === 'string' ? ['x'] : [])]
        expect(await stderrOf(args), args.join(' ')).not.toContain('unknown flag')
      }
    }
  })
})
