import { resolve } from 'node:path'
import {
  type ApiKey,
  type AuditPolicy,
  type BaseStoreSettings,
  createFleet,
  type DeliveryTarget,
  type Fleet,
  type FleetStore,
  type HistoryContext,
  jsonLinesHistory,
  recordedStore,
  recordedTarget,
} from '@keyway/core'
import { type KeyStoreDescriptor, storeFingerprint } from '@keyway/core/adapter'
import { policyOf } from './config/fleet-settings.js'
import { openStores } from './config/fleet-stores.js'
import { CONFIG_FILE, loadConfig } from './config/load-config.js'
import { keyTargets } from './config/store-targets.js'
import { PROVIDERS } from './providers.js'
import { defaultHistory } from './state-dir.js'
import { readOrCreateKey } from './store-accounts.js'

/** One store of a fleet config, opened as `keyway plan` and `keyway apply` open it. */
export interface FleetConfigStore {
  /** The fleet's entry: label, store, selector and rotation settings from the file. */
  fleetStore: FleetStore
  /** The vendor's descriptor: title, env vars, its own key columns. */
  descriptor: KeyStoreDescriptor
  /**
   * The delivery targets of one key (`null`: a key gone after its rotation retired it): every
   * target entry of the store that takes it, each with its `description` as `keyway plan`
   * prints it. `[]`: no entry takes the key. Sends nothing.
   */
  targetsOf(keyId: string, key: ApiKey | null): DeliveryTarget[]
  /**
   * Each target entry of the store as a target with a sample variable, for a probe that writes
   * nothing (`probeTargets`), with its path in the file and where it writes.
   */
  probes: ReadonlyArray<{ path: string; where: string; target: DeliveryTarget }>
}

/** A fleet config, opened: its stores and their targets, the fleet over them, the audit policy. */
export interface OpenedFleetConfig {
  /** The config file, as messages name it. */
  file: string
  /** The folder the file is in: relative paths in it resolve from there. */
  folder: string
  fleet: Fleet
  stores: FleetConfigStore[]
  /** The file's audit policy. */
  policy: AuditPolicy
  /** The history file every change is recorded in, or `null` (see `OpenFleetConfigOptions.history`). */
  history: string | null
}

/** Options of `openFleetConfig`. */
export interface OpenFleetConfigOptions {
  /** The config file. Default: `KEYWAY_CONFIG` from `env`, else `keyway.config.json`. */
  path?: string
  /** The folder a relative `path` resolves from. Default: the working folder. */
  cwd?: string
  /** Where the env vars the file names are read. Default: `process.env`. */
  env?: Record<string, string | undefined>
  /** Added to every store's and target's settings (hooks, time limits). */
  settings?: BaseStoreSettings
  /**
   * Record every change the stores make, and each target's writes and redeploys, in the
   * history `keyway history` reads: `true` for the CLI's file (`KEYWAY_HISTORY`, else the
   * config's `history`, else `history.jsonl` in keyway's state folder), or a file's path.
   * Default `false`: nothing is recorded.
   */
  history?: boolean | string
}

/**
 * Reads a keyway fleet config (`keyway.config.json`) and opens its stores and delivery
 * targets with the credentials its env vars hold, exactly as `keyway audit`, `plan` and
 * `apply` do; sends nothing. A file that cannot be used, or an env var it names that is not
 * set, throws an error naming the file and the path in it (never a value).
 */
export async function openFleetConfig(
  options: OpenFleetConfigOptions = {},
): Promise<OpenedFleetConfig> {
  const env = options.env ?? process.env
  const loaded = await loadConfig(
    options.path ?? (env.KEYWAY_CONFIG || CONFIG_FILE),
    options.cwd ?? process.cwd(),
  )
  const opened = openStores(loaded, {
    env,
    ...(options.settings === undefined ? {} : { settings: options.settings }),
  })
  const history = historyFile(options, env, loaded.folder, loaded.config.history)
  const stores = opened.map((configured): FleetConfigStore => {
    const { label, store } = configured.fleetStore
    const recording: (HistoryContext & { provider: string }) | undefined =
      history === null
        ? undefined
        : {
            sink: jsonLinesHistory(history),
            account: async () => storeFingerprint(store, await readOrCreateKey(`${history}.key`)),
            label,
            provider: store.provider,
          }
    const targetsOf = (keyId: string, key: ApiKey | null) =>
      keyTargets(configured.targets, keyId, key).map((target) =>
        recording === undefined ? target : recordedTarget(target, recording),
      )
    return {
      fleetStore:
        recording === undefined
          ? configured.fleetStore
          : { ...configured.fleetStore, store: recordedStore(store, recording) },
      descriptor: PROVIDERS[configured.config.vendor],
      targetsOf,
      probes: configured.targets.map((target) => ({
        path: target.path,
        where: target.kind.where(target.config as never),
        target: target.probe,
      })),
    }
  })
  return {
    file: loaded.file,
    folder: loaded.folder,
    fleet: createFleet(stores.map((store) => store.fleetStore)),
    stores,
    policy: policyOf(loaded.config, {}, env),
    history,
  }
}

/** The history file as the CLI picks it, or `null` when nothing is to be recorded. */
function historyFile(
  options: OpenFleetConfigOptions,
  env: Record<string, string | undefined>,
  folder: string,
  configured: string | undefined,
): string | null {
  const { history } = options
  if (history === undefined || history === false) return null
  if (typeof history === 'string') return resolve(options.cwd ?? process.cwd(), history)
  if (env.KEYWAY_HISTORY) return resolve(env.KEYWAY_HISTORY)
  if (configured !== undefined) return resolve(folder, configured)
  return defaultHistory(env)
}
