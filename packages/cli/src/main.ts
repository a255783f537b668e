import { parseArgs } from 'node:util'
import { apply } from './commands/apply.js'
import { audit } from './commands/audit.js'
import { completion } from './commands/completion.js'
import { demo } from './commands/demo.js'
import { emulate } from './commands/emulate.js'
import { history } from './commands/history.js'
import { create, get, list, remove, setStatus, update } from './commands/keys.js'
import { plan } from './commands/plan.js'
import { revoke } from './commands/revoke.js'
import { rotate } from './commands/rotate.js'
import { status } from './commands/status.js'
import type { Context } from './context.js'
import { EXIT } from './exit-codes.js'
import { type ArgOption, OPTIONS, type Values } from './flags.js'
import { COMMAND_HELP, commandFlagNames, commandHelp, rootHelp } from './help.js'
import { splitJsonFields } from './json-fields.js'
import { type Io, isTerminal, painter } from './output.js'
import { looksLikeSecret } from './providers.js'
import { report } from './report.js'
import { didYouMean } from './suggest.js'
import { UsageError } from './usage-error.js'
import { VERSION } from './version.js'

export { VERSION }

/** A command resolves to its exit code, or to nothing for 0. */
type Command = (context: Context) => Promise<unknown>

const COMMANDS: Record<string, Command> = {
  list,
  get,
  create,
  update,
  enable: setStatus('active'),
  disable: setStatus('disabled'),
  delete: remove,
  rotate,
  emulate,
  demo,
  audit,
  plan,
  apply,
  status,
  revoke,
  history,
  completion,
}

/** Commands whose `--json` prints keys, so `--json=<fields>` can pick their fields. */
const FIELD_COMMANDS = Object.keys(COMMAND_HELP).filter((name) =>
  COMMAND_HELP[name]?.common.includes('json-fields'),
)

/** The root help page: what `keyway`, `keyway --help` and `keyway help` print. */
export const HELP = rootHelp(VERSION)

/**
 * Runs the CLI; resolves to the exit code, as gh: 0 success, 1 failure or usage error,
 * 2 cancelled, 4 authentication needed, 8 `audit` found keys with findings of the
 * `--fail-on` kinds.
 */
export async function run(
  argv: string[],
  io: Io,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  let values: Values = {}
  let name: string | undefined
  try {
    const { args, fields } = splitJsonFields(argv)
    const parsed = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      allowNegative: true,
      strict: false,
    })
    name = parsed.positionals[0]
    const strict = parseArgs({
      args,
      options: commandOptions(name),
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    })
    values = strict.values as Values
    // Refused before anything is printed or sent: the value is never echoed back.
    const pasted = strict.positionals.findIndex(looksLikeSecret)
    if (pasted !== -1) {
      throw new UsageError(
        `argument ${pasted + 1} looks like a secret key, not a key id; it was not sent or printed`,
        'pass the key id shown by keyway list, and replace that secret if it was shared',
      )
    }
    const positionals = strict.positionals.slice(1)
    if (values.version) {
      io.stdout.write(`${VERSION}\n`)
      return EXIT.ok
    }
    if (name === 'help' || name === undefined || values.help) {
      const topic = name === 'help' ? (positionals[0] ?? (values.help ? 'help' : undefined)) : name
      return help(topic, io)
    }
    const command = COMMANDS[name]
    if (command === undefined) throw unknownCommand(name)
    if (fields !== undefined && !FIELD_COMMANDS.includes(name))
      throw new UsageError(
        `${name} does not take --json=<fields>`,
        `plain --json; fields are for ${FIELD_COMMANDS.join(', ')}`,
      )
    const terminal = isTerminal(io.stdout, io.env)
    const paint = painter(io.stdout, io.env, values.color === false)
    const context: Context = {
      argv,
      values,
      positionals,
      io,
      paint,
      terminal,
      fields,
      signal,
      out: (text) => io.stdout.write(`${text}\n`),
      note: (text) => io.stderr.write(`${text}\n`),
    }
    const code = await command(context)
    return typeof code === 'number' ? code : EXIT.ok
  } catch (error) {
    return report(error, values, io, name !== undefined && name in COMMANDS ? name : undefined)
  }
}

/**
 * The parseArgs table of the flags `command` takes (each command's own, from its help page);
 * every flag for an unknown command, whose name is the error reported.
 */
function commandOptions(command: string | undefined): Readonly<Record<string, ArgOption>> {
  const names = commandFlagNames(command)
  if (names === undefined) return OPTIONS
  return Object.fromEntries(Object.entries(OPTIONS).filter(([flag]) => names.includes(flag)))
}

/** Prints the root help or one command's, to stdout (as gh). */
function help(topic: string | undefined, io: Io): number {
  if (topic === undefined) {
    io.stdout.write(HELP)
    return EXIT.ok
  }
  const text = commandHelp(topic)
  if (text !== undefined) {
    io.stdout.write(text)
    return EXIT.ok
  }
  if (topic in COMMANDS) {
    io.stdout.write(`keyway ${topic}: no help page yet; see keyway --help\n`)
    return EXIT.ok
  }
  throw unknownCommand(topic)
}

function unknownCommand(name: string): UsageError {
  return new UsageError(
    `unknown command "${name}"`,
    didYouMean(
      name,
      [...Object.keys(COMMANDS), 'help'],
      'run keyway help for the commands',
      (match) => `keyway ${match}`,
    ),
  )
}
