import { type FleetConfigStore, type OpenedFleetConfig, openFleetConfig } from '@keyway/cli'
import type { KeyStore, ResponseEvent } from '@keyway/core'
import type { Emulator } from '@keyway/testkit'
import { type DemoFleet, startDemoFleet } from './demo-fleet.js'

/** One store of the fleet as the dashboard shows it. */
export interface DashboardStore extends FleetConfigStore {
  /** The store's label in the config: unique, names it in forms and the log. */
  label: string
  store: KeyStore
  /** The emulator behind the store, when the dashboard runs its own demo fleet. */
  emulator?: Emulator
}

/** The fleet the dashboard shows. */
export interface OpenedStores {
  stores: DashboardStore[]
  /** `'config'`: an operator's config file (real accounts); `'emulators'`: the demo fleet. */
  source: 'config' | 'emulators'
  /** The config file, as messages name it. */
  file: string
  /** The demo fleet's emulators, when `source` is `'emulators'`. */
  demo?: DemoFleet
  close(): Promise<void>
}

/** Options of `openStores`. */
export interface OpenStoresOptions {
  /**
   * A fleet config (`keyway.config.json`), opened as `keyway plan` opens it, with the env vars
   * it names read from `env`. Default: `KEYWAY_CONFIG`; without either, the demo fleet.
   */
  config?: string
  /** Where the config's env vars are read. Default: `process.env`. */
  env?: Record<string, string | undefined>
  /** Logs each vendor and target request (plain data with redacted URLs, never a secret). */
  log?: (line: string) => void
  /**
   * With a config: where its stores' changes and targets' writes are recorded, as `keyway
   * history` reads them (`true`: the CLI's own history file; a path; `false`: nowhere).
   * Default `true`. The demo fleet records nothing.
   */
  history?: boolean | string
}

/**
 * The stores of a fleet config and their delivery targets, exactly as the CLI opens them; or,
 * without a config, a demo fleet: two stores of every vendor and every kind of target, on
 * emulators in this process, opened through the same config reader. `close()` stops the
 * demo's emulators.
 */
export async function openStores(options: OpenStoresOptions = {}): Promise<OpenedStores> {
  const log = options.log
  const settings = log && {
    hooks: {
      response: (event: ResponseEvent) =>
        log(
          `  ${event.provider} ${event.operation}: ${event.method} ${event.url} ${event.status ?? event.error}`,
        ),
    },
  }
  const env = options.env ?? process.env
  const path = options.config ?? (env.KEYWAY_CONFIG || undefined)
  if (path !== undefined) {
    const opened = await openFleetConfig({
      path,
      env,
      history: options.history ?? true,
      ...(settings ? { settings } : {}),
    })
    return { stores: storesOf(opened), source: 'config', file: opened.file, close: async () => {} }
  }
  const demo = await startDemoFleet()
  try {
    const opened = await openFleetConfig({
      path: demo.configPath,
      env: demo.env,
      ...(settings ? { settings } : {}),
    })
    return {
      stores: storesOf(opened, demo),
      source: 'emulators',
      file: opened.file,
      demo,
      close: demo.close,
    }
  } catch (error) {
    await demo.close()
    throw error
  }
}

function storesOf(opened: OpenedFleetConfig, demo?: DemoFleet): DashboardStore[] {
  return opened.stores.map((configured) => {
    const { label, store } = configured.fleetStore
    const emulator = demo?.emulators.get(label)
    return { ...configured, label, store, ...(emulator === undefined ? {} : { emulator }) }
  })
}
