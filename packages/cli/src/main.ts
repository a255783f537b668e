import { parseArgs } from 'node:util'
import { KeyStoreError, type RotationError, ValidationError } from '@keyway/core'
import { apply } from './commands/apply.js'
import { audit } from './commands/audit.js'
import { demo } from './commands/demo.js'
import { emulate } from './commands/emulate.js'
import { create, get, list, remove, setStatus, update } from './commands/keys.js'
import { plan } from './commands/plan.js'
import { rotate } from './commands/rotate.js'
import type { Context } from './context.js'
import { OPTIONS, type Values } from './flags.js'
import { type Io, painter, printable } from './output.js'
import { isVendor, looksLikeSecret, PROVIDERS } from './providers.js'
import { UsageError } from './usage-error.js'

export const VERSION = '0.1.0'

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
}

export const HELP = `keyway: manage API keys at many vendors through one interface

Usage: keyway <command> [id] --provider <vendor> [options]

Commands
  list                     list keys (--include-disabled=false for active only)
  get <id>                 show one key
  create                   create a key; prints its secret once
  update <id>              change fields of a key
  enable <id>, disable <id>
  delete <id>              delete a key (asks first unless --yes)
  rotate <id> | --all | --name <glob>
                           create, deliver, verify, then retire the old key
  emulate [vendor|all]     run emulators and print the env exports for them
  demo                     rotate keys at all four vendors, emulated; no account needed
  audit                    every key of every store in keyway.config.json: age, last use,
                           expiry, spend, findings; exit 8 on findings of --fail-on kinds
  plan                     what apply would rotate and why, with each rotation's detail
  apply                    rotate what plan shows; --batch-id <id> resumes that batch

Vendors: openrouter, latitudesh, notedx, voiceable. Credentials come from
  OPENROUTER_MANAGEMENT_KEY, LATITUDESH_BEARER, NOTEDX_EMAIL + NOTEDX_PASSWORD
  (or NOTEDX_ID_TOKEN), VOICEABLE_API_KEY (or VOICEABLE_TOKEN).

Key fields (where the vendor has them)
  --name <name>  --metadata key=value  --expires-at <iso date>
  --limit <usd|none>  --limit-reset <daily|weekly|monthly|none>  --include-byok   (openrouter)
  --read-only  --allowed-ip <ip or cidr>                                          (latitudesh)
  --type <sandbox|live>                                                            (notedx)
  --key-type <private|public>  --allowed-origin <url>  --allowed-assistant <id>
  --transient-assistant                                                            (voiceable)

Rotation
  Each new key gets the old key's settings; key field flags override them.
  --deliver-to <file.env | exec:command>   where new secrets go; required for --all and
                       --name unless --retire keep (one key id: printed at once, before
                       its old key is touched)
  --dry-run            show what would be done (settings carried, what cannot be, whether
                       a key is the store's own credential); changes nothing
  --journal <file>     progress, for resuming (default ${'.keyway-rotations.json'})
  --batch-id <id>      resume that batch: exactly its unfinished keys
  --retire <delete|disable|keep>  --grace-ms <ms>  --strategy <create|regenerate>
  --allow-self         allow rotating the key keyway itself uses (it switches to the new one)
  --credential-key-id <id>  the id of the key VOICEABLE_API_KEY is (or VOICEABLE_API_KEY_ID)
  --concurrency <n>    rotations at once (default 2)
  --yes                do not ask

Fleet: audit, plan, apply (a flag beats its env var, which beats the config file)
  --config <file>      KEYWAY_CONFIG; default ./keyway.config.json
  --store <label>      only these stores (repeatable, or a,b; KEYWAY_STORE)
  --fail-on <kinds|any|none>  findings that make audit exit 8 (KEYWAY_FAIL_ON; default
                       too-old,unused,expiring-soon,no-limit-or-expiry,disabled)
  --max-age-days <n>  --unused-days <n>  --expiring-within-days <n>   the policy
                       (KEYWAY_MAX_AGE_DAYS, KEYWAY_UNUSED_DAYS, KEYWAY_EXPIRING_WITHIN_DAYS)
  --journal, --retire, --grace-ms, --concurrency apply to every store (KEYWAY_JOURNAL,
                       KEYWAY_RETIRE, KEYWAY_GRACE_MS, KEYWAY_CONCURRENCY)

Output
  --json               machine-readable output     --no-color   plain text
  --emulator           run against a fresh embedded emulator
  --debug              stack traces on errors      --version, --help
`

/**
 * Runs the CLI; resolves to the exit code: 0 success, 1 failed operation, 2 usage error,
 * 8 `audit` found keys with findings of the `--fail-on` kinds.
 */
export async function run(
  argv: string[],
  io: Io,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  let values: Values = {}
  const fail = (error: unknown) => report(error, values, io)
  try {
    const parsed = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    })
    values = parsed.values as Values
    // Refused before anything is printed or sent: the value is never echoed back.
    const pasted = parsed.positionals.findIndex(looksLikeSecret)
    if (pasted !== -1) {
      throw new UsageError(
        `argument ${pasted + 1} looks like a secret key, not a key id; it was not sent or printed`,
        'pass the key id shown by keyway list, and replace that secret if it was shared',
      )
    }
    const [name, ...positionals] = parsed.positionals
    if (values.version) {
      io.stdout.write(`${VERSION}\n`)
      return 0
    }
    if (values.help || name === undefined || name === 'help') {
      io.stdout.write(HELP)
      return name === undefined && !values.help ? 2 : 0
    }
    const command = COMMANDS[name]
    if (command === undefined)
      throw new UsageError(`unknown command "${name}"`, 'run keyway --help for the commands')
    const paint = painter(io.stdout, io.env, values.color === false)
    const context: Context = {
      values,
      positionals,
      io,
      paint,
      signal,
      out: (text) => io.stdout.write(`${text}\n`),
      note: (text) => io.stderr.write(`${text}\n`),
    }
    const code = await command(context)
    return typeof code === 'number' ? code : 0
  } catch (error) {
    return fail(error)
  }
}

/** Prints one line: the error's class, its message and a hint; the stack only with --debug. */
function report(error: unknown, values: Values, io: Io): number {
  const paint = painter(io.stderr, io.env, values.color === false)
  const line = (name: string, message: string, hint: string | undefined) =>
    io.stderr.write(
      `${paint('red', 'error')} ${name}: ${printable(message)}${hint ? ` (hint: ${printable(hint)})` : ''}\n`,
    )
  if (error instanceof UsageError || isParseError(error)) {
    line(
      'UsageError',
      (error as Error).message,
      error instanceof UsageError ? error.hint : 'run keyway --help',
    )
    return 2
  }
  if (error instanceof Error && error.name === 'AbortError') {
    line(
      'Interrupted',
      'stopped before finishing',
      'run the same command again; a rotation batch resumes with --batch-id',
    )
    return 130
  }
  if (KeyStoreError.is(error)) {
    line(error.name, error.message, hintFor(error, values))
    if (values.debug) io.stderr.write(`${printableLines(error.stack ?? '')}\n`)
    // A missing or malformed setting is a usage problem, not a failed operation.
    return error instanceof ValidationError && error.operation === 'configure' ? 2 : 1
  }
  line(
    'Error',
    error instanceof Error ? error.message : String(error),
    'run again with --debug for details',
  )
  if (values.debug && error instanceof Error)
    io.stderr.write(`${printableLines(error.stack ?? '')}\n`)
  return 1
}

/** A multi-line text (a stack) made safe line by line. */
function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n')
}

function hintFor(error: KeyStoreError, values: Values): string | undefined {
  const provider =
    values.provider !== undefined && isVendor(values.provider)
      ? PROVIDERS[values.provider]
      : undefined
  switch (error.code) {
    case 'validation_failed':
      return error.operation === 'configure' && provider
        ? `set ${provider.credentialEnv}`
        : undefined
    case 'authentication_failed':
      return provider ? `check ${provider.credentialEnv}` : undefined
    case 'permission_denied':
      return error.provider === 'openrouter'
        ? 'OpenRouter needs a management key'
        : 'the credential may not manage keys'
    case 'not_found':
      return `see the ids with: keyway list --provider ${error.provider}`
    case 'rate_limited':
      return 'the vendor asked to slow down; try again later'
    case 'network_error':
    case 'timeout':
      return provider ? `check the network, or ${provider.baseUrlEnv} if set` : 'check the network'
    case 'unsupported_operation':
      return `${error.provider} does not have this; see keyway --help`
    case 'rotation_failed':
      return (error as RotationError).rolledBack
        ? 'nothing changed; fix the cause and run again'
        : 'run the same command again to finish'
    default:
      return undefined
  }
}

function isParseError(error: unknown): boolean {
  return (
    typeof (error as { code?: unknown })?.code === 'string' &&
    String((error as { code: string }).code).startsWith('ERR_PARSE_ARGS')
  )
}
