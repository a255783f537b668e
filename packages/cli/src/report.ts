import { KeyStoreError } from '@keyway/core'
import { CliError } from './cli-error.js'
import { EXIT } from './exit-codes.js'
import { OPTIONS, type Values } from './flags.js'
import { commandFlagNames } from './help.js'
import { type Io, painter, printable } from './output.js'
import { explainStoreError } from './store-errors.js'
import { didYouMean } from './suggest.js'

/**
 * Prints one line for an error: its kind, its message and a hint in operator terms (env
 * vars and flags); the stack and the cause chain only with `--debug`. Returns the exit code.
 */
export function report(error: unknown, values: Values, io: Io, command?: string): number {
  const paint = painter(io.stderr, io.env, values.color === false)
  const line = (name: string, message: string, hint: string | undefined) =>
    io.stderr.write(
      `${paint('red', 'error')} ${name}: ${printable(message)}${hint ? ` (hint: ${printable(hint)})` : ''}\n`,
    )
  const debug = () => {
    if (values.debug && error instanceof Error) io.stderr.write(`${debugText(error)}\n`)
  }
  const parse = parseError(error, command)
  if (parse !== undefined) {
    line('UsageError', parse.message, parse.hint)
    return EXIT.failure
  }
  if (error instanceof Error && error.name === 'AbortError') {
    // A batch that began ends with its own resume command (see resume-command.ts); this is
    // a stop before anything was written.
    line('Interrupted', 'stopped before finishing', 'run the same command again')
    return EXIT.cancelled
  }
  if (error instanceof CliError) {
    line(error.name, error.message, error.hint)
    debug()
    if (error.next !== undefined) io.stderr.write(`${printable(error.next)}\n`)
    return error.exitCode
  }
  if (KeyStoreError.is(error)) {
    const explained = explainStoreError(error, values, io.env)
    line(explained.name ?? error.name, explained.message, explained.hint)
    debug()
    return explained.exitCode
  }
  line(
    'Error',
    error instanceof Error ? error.message : String(error),
    'run again with --debug for details',
  )
  debug()
  return EXIT.failure
}

/** The stack, then each cause with its code: what `--debug` adds. Made safe line by line. */
function debugText(error: Error): string {
  const lines = (error.stack ?? `${error.name}: ${error.message}`).split('\n')
  let cause: unknown = error.cause
  for (let depth = 0; depth < 5 && cause instanceof Error; depth++) {
    const code = (cause as { code?: unknown }).code
    lines.push(
      `cause: ${cause.name}: ${cause.message}${typeof code === 'string' ? ` (${code})` : ''}`,
    )
    cause = cause.cause
  }
  return lines.map(printable).join('\n')
}

const FLEET_COMMANDS = ['audit', 'plan', 'apply']

/** Why `audit`, `plan` and `apply` take no vendor flags, and what to use instead. */
const FROM_CONFIG: Readonly<Record<string, string>> = {
  provider: 'the stores come from the config file; use --store <label> to work on one store',
  emulator:
    'the stores come from the config file; point them at emulators with eval "$(keyway emulate all --background)"',
}

/** node:util parseArgs errors, told with the flag and a suggestion. */
function parseError(
  error: unknown,
  command: string | undefined,
): { message: string; hint: string } | undefined {
  const code = (error as { code?: unknown })?.code
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return undefined
  const message = (error as Error).message
  const help = `run keyway ${command ? `${command} ` : ''}--help for the flags`
  const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec(message)
  if (unknown !== null) {
    const dashes = unknown[1] ?? '--'
    const name = unknown[2] ?? ''
    const known = commandFlagNames(command) ?? Object.keys(OPTIONS)
    const flags = known.filter((flag) => flag in OPTIONS)
    const where = command === undefined ? 'keyway' : `keyway ${command}`
    const fleetHint = FLEET_COMMANDS.includes(command ?? '') ? FROM_CONFIG[name] : undefined
    return {
      message: `unknown flag: ${dashes}${name} (${where} does not take it)`,
      hint: fleetHint ?? didYouMean(name.replace(/^no-/, ''), flags, help, (match) => `--${match}`),
    }
  }
  const noValue = /^Option '--([^' ]+)' does not take an argument/.exec(message)
  if (noValue !== null) {
    const name = noValue[1] as string
    return {
      message: `--${name} takes no value`,
      hint: `write --${name} for yes, --no-${name} for no`,
    }
  }
  const ambiguous = /^Option '(-\w, )?--([^' ]+)' argument is ambiguous/.exec(message)
  if (ambiguous !== null) {
    const name = ambiguous[2] as string
    return {
      message: `--${name} is followed by a value that starts with "-"`,
      hint: `write it as --${name}=<value> if that is its value`,
    }
  }
  const missing = /^Option '(-\w, )?--([^' ]+) <value>' argument missing/.exec(message)
  if (missing !== null) return { message: `--${missing[2]} needs a value`, hint: help }
  return { message: message.split(/\.\s/)[0] ?? message, hint: help }
}
