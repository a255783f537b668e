import {
  type AuditPolicy,
  createFleet,
  type Fleet,
  type FleetStore,
  type FleetStoreError,
  recordedTarget,
  ValidationError,
} from '@keyway/core'
import { ConfigError } from '../config/config-error.js'
import { configPath, OVERRIDES, override, policyOf, storeLabels } from '../config/fleet-settings.js'
import { type ConfiguredStore, openStores } from '../config/fleet-stores.js'
import { type LoadedConfig, loadConfig } from '../config/load-config.js'
import type { Context } from '../context.js'
import { timeoutSettings } from '../duration.js'
import { EXIT, type ExitCode } from '../exit-codes.js'
import { historyContext, historyPath, withHistory } from '../history-file.js'
import { UsageError } from '../usage-error.js'
import { retryLine } from './rotate-output.js'

/** A config's fleet, opened for `audit`, `plan` or `apply`. */
export interface OpenFleet {
  fleet: Fleet
  stores: ConfiguredStore[]
  loaded: LoadedConfig
  policy: AuditPolicy
  /** The history file its changes are recorded in. */
  history: string
}

/**
 * Reads the config (`--config`, `KEYWAY_CONFIG` or `keyway.config.json`), opens the stores
 * `--store` names (default all) with the credentials their env vars hold, and builds the fleet.
 * Flags beat env vars beat the file.
 */
export async function openFleet(context: Context): Promise<OpenFleet> {
  const { values, io } = context
  if (context.positionals.length > 0)
    throw new UsageError(`unexpected argument "${context.positionals[0]}"`, 'run keyway --help')
  const timeout = timeoutSettings(values, io.env)
  const loaded = await loadConfig(configPath(values, io.env), process.cwd())
  const rotation = definedOnly({
    retire: override(OVERRIDES.retire, values, io.env),
    graceMs: override(OVERRIDES.graceMs, values, io.env),
    concurrency: override(OVERRIDES.concurrency, values, io.env),
    expiresInDays: override(OVERRIDES.expiresInDays, values, io.env),
  })
  const opened = openStores(loaded, {
    env: io.env,
    ...labels(context),
    rotation,
    settings: {
      ...timeout,
      hooks: { retry: (event) => context.note(context.paint('dim', retryLine(event))) },
    },
  })
  const history = historyPath(context, { folder: loaded.folder, path: loaded.config.history })
  const stores = opened.map((store) => recordingChanges(context, store, history))
  return {
    fleet: fleetOf(loaded, stores),
    stores,
    loaded,
    policy: policyOf(loaded.config, values, io.env),
    history,
  }
}

/**
 * The fleet of the opened stores. What core refuses in a store's settings (a schedule beside
 * retire "keep", a lifetime where keys cannot expire) is a config error at its path in the file.
 */
function fleetOf(loaded: LoadedConfig, stores: readonly ConfiguredStore[]): Fleet {
  try {
    return createFleet(stores.map((store) => store.fleetStore as FleetStore))
  } catch (error) {
    const issue = error instanceof ValidationError ? error.issues[0] : undefined
    const match = issue === undefined ? null : /^(\d+)\.(.+)$/.exec(issue.path)
    const store = match === null ? undefined : stores[Number(match[1])]
    if (issue === undefined || match === null || store === undefined) throw error
    const path = (match[2] as string).replace(/\.(\d+)(?=\.|$)/g, '[$1]')
    throw new ConfigError(loaded.file, `stores[${store.index}].${path}`, issue.message)
  }
}

/** The clock of this run: the caller's (`Io.now`), else the system's. */
export function nowOf(context: Context): Date {
  return context.io.now?.() ?? new Date()
}

function labels(context: Context): { labels?: string[] } {
  const given = storeLabels(context.values, context.io.env)
  return given === undefined ? {} : { labels: given }
}

/** The fields that are set: an override of `undefined` must not hide the file's value. */
function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<T>
}

/** Store errors that mean the credential is missing, malformed or refused. */
const AUTHENTICATION_CODES = new Set(['authentication_failed', 'permission_denied'])

/**
 * The exit code when stores could not be read: 4 (authentication needed) when every store of
 * the command failed on its credential, so the whole command failed for it; otherwise 1 (the
 * result is incomplete: the stores that were read are shown).
 */
export function unreadableCode(errors: readonly FleetStoreError[], storeCount: number): ExitCode {
  if (errors.length === 0) return EXIT.ok
  const everyStore = new Set(errors.map((error) => error.label)).size >= storeCount
  return everyStore && errors.every((error) => AUTHENTICATION_CODES.has(error.error.code))
    ? EXIT.authentication
    : EXIT.failure
}

/** The store with every change it makes, and each delivery, recorded in history. */
function recordingChanges(
  context: Context,
  configured: ConfiguredStore,
  history: string,
): ConfiguredStore {
  const { label, store } = configured.fleetStore
  const recording = { ...historyContext(context, label, store, history), provider: store.provider }
  return {
    ...configured,
    fleetStore: { ...configured.fleetStore, store: withHistory(context, label, store, history) },
    // Each target's writes and redeploys, beside the vendor's changes.
    targets: configured.targets.map((opened) => ({
      ...opened,
      targetFor: (keyId, key) => recordedTarget(opened.targetFor(keyId, key), recording),
    })),
  }
}
