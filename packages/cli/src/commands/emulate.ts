import { type Emulator, startEmulator, VENDORS, type Vendor } from '@keyway/testkit'
import type { Context } from '../context.js'
import { PROVIDERS } from '../providers.js'
import { UsageError } from '../usage-error.js'

/**
 * `keyway emulate [vendor|all]`: runs emulators until interrupted and prints the exports
 * that point the CLI and the adapters at them.
 */
export async function emulate(context: Context): Promise<number> {
  const [which = 'all', ...extra] = context.positionals
  if (extra.length > 0) throw new UsageError('emulate takes at most one vendor')
  const vendors: Vendor[] = which === 'all' ? [...VENDORS] : [which as Vendor]
  if (!vendors.every((vendor) => Object.hasOwn(PROVIDERS, vendor))) {
    throw new UsageError(`unknown vendor "${which}"`, `one of: ${VENDORS.join(', ')}, all`)
  }
  const emulators: Emulator[] = []
  try {
    for (const vendor of vendors) emulators.push(await startEmulator(vendor))
    for (const emulator of emulators) {
      context.out(
        `# ${PROVIDERS[emulator.vendor].title} emulator (fake credentials, loopback only)`,
      )
      for (const [field, name] of Object.entries(PROVIDERS[emulator.vendor].env)) {
        context.out(`export ${name}=${shellQuote(emulator.settings[field] as string)}`)
      }
    }
    context.note(
      context.paint(
        'dim',
        'emulators running; paste the exports above into another shell. Ctrl-C stops them.',
      ),
    )
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve()
      context.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    return 0
  } finally {
    await Promise.all(emulators.map((emulator) => emulator.close()))
  }
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`
}
