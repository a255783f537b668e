import type { BaseStoreSettings, KeyStore } from '@keyway/core'
import { startEmulator } from '@keyway/testkit'
import type { Values } from './flags.js'
import type { Io, Paint } from './output.js'
import { isVendor, PROVIDERS, type Provider } from './providers.js'
import { UsageError } from './usage-error.js'

/** What every command gets: parsed flags, positionals, output, and a way to open the store. */
export interface Context {
  values: Values
  positionals: string[]
  io: Io
  paint: Paint
  signal: AbortSignal
  /** Writes a line to stdout. */
  out(text: string): void
  /** Writes a line to stderr: progress and notes, never results. */
  note(text: string): void
}

export interface OpenStore {
  store: KeyStore
  provider: Provider
  close(): Promise<void>
}

/**
 * The store for `--provider`, from the env vars, or against a fresh emulator with
 * `--emulator`. `settings` are added to the store's own (hooks, a credential key id).
 */
export async function openStore(
  context: Context,
  settings: BaseStoreSettings & Record<string, unknown> = {},
): Promise<OpenStore> {
  const name = context.values.provider
  if (name === undefined) {
    throw new UsageError('--provider is required', `one of: ${Object.keys(PROVIDERS).join(', ')}`)
  }
  if (!isVendor(name))
    throw new UsageError(
      `unknown provider "${name}"`,
      `one of: ${Object.keys(PROVIDERS).join(', ')}`,
    )
  const provider = PROVIDERS[name]
  if (!context.values.emulator)
    return { store: provider.create({ ...settings }), provider, close: async () => {} }
  const emulator = await startEmulator(name)
  context.note(
    context.paint('dim', `(running against a fresh ${provider.title} emulator at ${emulator.url})`),
  )
  return {
    store: provider.create({ ...emulator.settings, ...settings }),
    provider,
    close: () => emulator.close(),
  }
}

/** The one positional id a command needs. */
export function requireId(context: Context, command: string): string {
  const [id, ...extra] = context.positionals
  if (id === undefined)
    throw new UsageError(`${command} needs a key id`, `keyway ${command} <id> --provider <vendor>`)
  if (extra.length > 0)
    throw new UsageError(`${command} takes one key id, got ${context.positionals.length}`)
  return id
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
