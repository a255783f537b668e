import {
  type ApiKey,
  type BaseStoreSettings,
  type KeyStore,
  NotFoundError,
  ValidationError,
} from '@keyway/core'
import { startEmulator } from '@keyway/testkit'
import { CliError } from './cli-error.js'
import { retryLine } from './commands/rotate-output.js'
import { timeoutSettings } from './duration.js'
import type { Values } from './flags.js'
import { withHistory } from './history-file.js'
import type { Io, Paint } from './output.js'
import { PROVIDERS, type Provider, vendorFor } from './providers.js'
import { explainSettingError } from './setting-errors.js'
import { UsageError } from './usage-error.js'

/** What every command gets: parsed flags, positionals, output, and a way to open the store. */
export interface Context {
  /** The arguments as given, for a command that tells how to run it again (a resume). */
  argv: readonly string[]
  values: Values
  positionals: string[]
  io: Io
  paint: Paint
  /** Whether stdout goes to a person (tables aligned) or a script (tab-separated). */
  terminal: boolean
  /** The key fields `--json=<fields>` asked for; all when `undefined`. */
  fields?: string[] | undefined
  signal: AbortSignal
  /** Writes a line to stdout. */
  out(text: string): void
  /** Writes a line to stderr: progress and notes, never results. */
  note(text: string): void
  /** The batch the command runs, once known: history records its changes under it. */
  batchId?: string
}

export interface OpenStore {
  store: KeyStore
  provider: Provider
  /** Whether it runs against an embedded emulator (`--emulator`). */
  emulated: boolean
  close(): Promise<void>
}

/**
 * The store for `--provider`, from the env vars, or against a fresh emulator with
 * `--emulator`, each attempt limited by `--timeout`. `settings` are added to the store's own (hooks, a credential key id). Every
 * retry the store waits for is a line on stderr, so a vendor that does not answer is never
 * silence.
 */
export async function openStore(
  context: Context,
  settings: BaseStoreSettings & Record<string, unknown> = {},
): Promise<OpenStore> {
  const vendor = vendorFor(context.values.provider)
  const provider = PROVIDERS[vendor]
  const withHooks = {
    ...timeoutSettings(context.values, context.io.env),
    hooks: { retry: (event) => context.note(context.paint('dim', retryLine(event))) },
    ...settings,
  } satisfies BaseStoreSettings
  const build = (emulatorSettings: object) => {
    try {
      return provider.create({ ...emulatorSettings, ...withHooks })
    } catch (error) {
      throw explainSettingError(error, provider)
    }
  }
  // A real account's changes go to history; a throwaway emulator's do not.
  if (!context.values.emulator)
    return {
      store: withHistory(context, vendor, build({})),
      provider,
      emulated: false,
      close: async () => {},
    }
  const emulator = await startEmulator(vendor)
  context.note(
    context.paint('dim', `(running against a fresh ${provider.title} emulator at ${emulator.url})`),
  )
  return {
    store: build(emulator.settings),
    provider,
    emulated: true,
    close: () => emulator.close(),
  }
}

/** The one positional key a command needs: an id, a name, or a unique id prefix. */
export function requireKey(context: Context, command: string): string {
  const [key, ...extra] = context.positionals
  if (key === undefined)
    throw new UsageError(
      `${command} needs a key`,
      `keyway ${command} <id, name or id prefix> --provider <vendor>`,
    )
  if (extra.length > 0)
    throw new UsageError(`${command} takes one key, got ${context.positionals.length}`)
  return key
}

/**
 * The key `reference` names: the key with that id, else the one key with that name, else
 * the one key whose id starts with it. Several matches are an error that lists them.
 */
export async function findKey(
  store: KeyStore,
  reference: string,
  signal: AbortSignal,
): Promise<ApiKey> {
  try {
    return await store.get(reference, { signal })
  } catch (error) {
    // Not an id, or no key has that id: look for a name or an id prefix instead.
    const notAnId =
      error instanceof ValidationError && error.issues.some((issue) => issue.path === 'id')
    if (!(error instanceof NotFoundError) && !notAnId) throw error
  }
  const keys = await store.list({ signal })
  const named = keys.filter((key) => key.name === reference)
  const matches = named.length > 0 ? named : keys.filter((key) => key.id.startsWith(reference))
  if (matches.length === 1) return matches[0] as ApiKey
  if (matches.length === 0)
    throw new CliError(
      'NotFoundError',
      `no ${store.provider} key has the id, name or id prefix "${reference}"`,
      { hint: `see the keys with: keyway list --provider ${store.provider}` },
    )
  const listed = matches
    .slice(0, 5)
    .map((key) => `${key.id} (${key.name ?? 'no name'})`)
    .join(', ')
  throw new CliError(
    'AmbiguousKey',
    `"${reference}" matches ${matches.length} ${store.provider} keys: ${listed}${matches.length > 5 ? ', …' : ''}`,
    { hint: 'pass more of the id, or the whole id' },
  )
}

/** Asks yes or no on a terminal; refuses to guess without one. */
export async function confirm(context: Context, question: string): Promise<boolean> {
  if (context.values.yes) return true
  if (!context.io.stdin.isTTY)
    throw new UsageError(
      `${question.replace(/\?$/, '')}: refusing without a terminal`,
      'pass --yes to go ahead',
    )
  const { createInterface } = await import('node:readline/promises')
  const prompt = createInterface({ input: context.io.stdin, output: context.io.stderr })
  try {
    const answer = await prompt.question(`${question} [y/N] `, { signal: context.signal })
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    prompt.close()
  }
}
