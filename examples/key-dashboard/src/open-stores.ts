import { createAnthropicKeyStore } from '@keyway/anthropic'
import type { BaseStoreSettings, CreatedKey, KeyStore, ResponseEvent } from '@keyway/core'
import { createLatitudeKeyStore } from '@keyway/latitudesh'
import { createNoteDxKeyStore } from '@keyway/notedx'
import { createOpenAIKeyStore } from '@keyway/openai'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { type Emulator, startEmulator, VENDORS, type Vendor } from '@keyway/testkit'
import { createVoiceableKeyStore } from '@keyway/voiceable'

/** Settings every vendor's factory takes, plus its own (credentials, from an emulator). */
type Settings = BaseStoreSettings & Record<string, unknown>

interface VendorEntry {
  title: string
  /** Builds the store; credentials not in `settings` come from the vendor's env vars. */
  create: (settings: Settings) => KeyStore
  /** Any one of these sets means a real account: the vendor's credential env vars. */
  credentialEnv: readonly string[]
}

const ENTRIES: Record<Vendor, VendorEntry> = {
  openrouter: {
    title: 'OpenRouter',
    create: (settings) => createOpenRouterKeyStore(settings) as unknown as KeyStore,
    credentialEnv: ['OPENROUTER_MANAGEMENT_KEY'],
  },
  latitudesh: {
    title: 'Latitude.sh',
    create: (settings) => createLatitudeKeyStore(settings) as unknown as KeyStore,
    credentialEnv: ['LATITUDESH_BEARER'],
  },
  notedx: {
    title: 'NoteDx',
    create: (settings) => createNoteDxKeyStore(settings) as unknown as KeyStore,
    credentialEnv: ['NOTEDX_ID_TOKEN', 'NOTEDX_EMAIL'],
  },
  voiceable: {
    title: 'Voiceable',
    create: (settings) => createVoiceableKeyStore(settings) as unknown as KeyStore,
    credentialEnv: ['VOICEABLE_API_KEY', 'VOICEABLE_TOKEN'],
  },
  anthropic: {
    title: 'Anthropic',
    create: (settings) => createAnthropicKeyStore(settings) as unknown as KeyStore,
    credentialEnv: ['ANTHROPIC_ADMIN_KEY'],
  },
  openai: {
    title: 'OpenAI',
    create: (settings) => createOpenAIKeyStore(settings) as unknown as KeyStore,
    credentialEnv: ['OPENAI_ADMIN_KEY'],
  },
}

/** One vendor's store as the dashboard shows it. */
export interface VendorStore {
  vendor: Vendor
  title: string
  store: KeyStore
  /** `'account'`: the vendor's real API, from the env vars; `'emulator'`: an in-process emulator. */
  source: 'account' | 'emulator'
  /** The emulator behind the store, when `source` is `'emulator'`. */
  emulator?: Emulator
  /**
   * How a rotation checks a new secret where the store has no `verify`: the emulator stands
   * in for an application trying the key. Absent: the store's own check, or none.
   */
  verify?: (created: CreatedKey) => boolean
}

/** Options of `openStores`. */
export interface OpenStoresOptions {
  /** Logs each vendor request (plain data with redacted URLs, never a secret). */
  log?: (line: string) => void
}

/**
 * A store for every vendor: the real account where one of its credential env vars is set
 * (the adapter reads them, and `<VENDOR>_BASE_URL` where set), else a
 * fresh emulator started in this process. `close()` stops the emulators.
 */
export async function openStores(
  options: OpenStoresOptions = {},
): Promise<{ stores: VendorStore[]; close: () => Promise<void> }> {
  const log = options.log
  const hooks = log && {
    response: (event: ResponseEvent) =>
      log(
        `  ${event.provider} ${event.operation}: ${event.method} ${event.url} ${event.status ?? event.error}`,
      ),
  }
  const stores: VendorStore[] = []
  const close = () => Promise.all(stores.map((entry) => entry.emulator?.close())).then(() => {})
  try {
    for (const vendor of VENDORS) {
      const entry = ENTRIES[vendor]
      const real = entry.credentialEnv.some((name) => (process.env[name] ?? '') !== '')
      if (real) {
        stores.push({
          vendor,
          title: entry.title,
          source: 'account',
          store: entry.create({ hooks }),
        })
        continue
      }
      const emulator = await startEmulator(vendor)
      const store = entry.create({ ...emulator.settings, hooks })
      stores.push({
        vendor,
        title: entry.title,
        source: 'emulator',
        store,
        emulator,
        ...(store.capabilities.verify
          ? {}
          : { verify: (created: CreatedKey) => emulator.control.works(created.secret.reveal()) }),
      })
    }
  } catch (error) {
    await close()
    throw error
  }
  return { stores, close }
}
