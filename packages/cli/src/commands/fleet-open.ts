import { type AuditPolicy, createFleet, type Fleet } from '@keyway/core'
import { configPath, OVERRIDES, override, policyOf, storeLabels } from '../config/fleet-settings.js'
import { type ConfiguredStore, openStores } from '../config/fleet-stores.js'
import { type LoadedConfig, loadConfig } from '../config/load-config.js'
import type { Context } from '../context.js'
import { UsageError } from '../usage-error.js'
import { retryLine } from './rotate-output.js'

/** A config's fleet, opened for `audit`, `plan` or `apply`. */
export interface OpenFleet {
  fleet: Fleet
  stores: ConfiguredStore[]
  loaded: LoadedConfig
  policy: AuditPolicy
}

/**
 * Reads the config (`--config`, `KEYWAY_CONFIG` or `keyway.config.json`), opens the stores
 * `--store` names (default all) with the credentials their env vars hold, and builds the fleet.
 * Flags beat env vars beat the file.
 */
export async function openFleet(context: Context): Promise<OpenFleet> {
  const { values, io } = context
  if (values.provider !== undefined)
    throw new UsageError(
      '--provider does not apply here: the stores come from the config file',
      'use --store <label> to work on one store',
    )
  if (context.positionals.length > 0)
    throw new UsageError(`unexpected argument "${context.positionals[0]}"`, 'run keyway --help')
  const loaded = await loadConfig(configPath(values, io.env), process.cwd())
  const rotation = definedOnly({
    retire: override(OVERRIDES.retire, values, io.env),
    graceMs: override(OVERRIDES.graceMs, values, io.env),
    concurrency: override(OVERRIDES.concurrency, values, io.env),
  })
  const stores = openStores(loaded, {
    env: io.env,
    ...labels(context),
    rotation,
    settings: { hooks: { retry: (event) => context.note(context.paint('dim', retryLine(event))) } },
  })
  return {
    fleet: createFleet(stores.map((store) => store.fleetStore)),
    stores,
    loaded,
    policy: policyOf(loaded.config, values, io.env),
  }
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
