import type { BaseStoreSettings, FleetStore, KeyStore } from '@keyway/core'
import { globsCannotOverlap } from '@keyway/core/adapter'
import { variablePattern } from '../deliver.js'
import { EXIT } from '../exit-codes.js'
import { lifetimeDays } from '../lifetime.js'
import { PROVIDERS } from '../providers.js'
import { UsageError } from '../usage-error.js'
import { ConfigError } from './config-error.js'
import { CREDENTIAL_SETS, type StoreConfig, VENDOR_CREDENTIALS } from './config-schema.js'
import type { LoadedConfig } from './load-config.js'
import { type OpenedTarget, openTargets, type TargetRun, targetRun } from './store-targets.js'

type Env = Record<string, string | undefined>

/** A store of the config, opened: the fleet's entry, and where its new secrets go. */
export interface ConfiguredStore {
  fleetStore: FleetStore
  config: StoreConfig
  /** Its index in the file, for error paths. */
  index: number
  /** Where its keys' new secrets go: its `targets`, and its `deliver` as one more. */
  targets: OpenedTarget[]
}

/** What `openStores` needs besides the config. */
export interface OpenStoresOptions {
  env: Env
  /** Only these labels (`--store`); default every store. */
  labels?: readonly string[]
  /** Overrides of every store's rotation settings (flags, env vars). */
  rotation?: FleetStore['rotation']
  /** Added to every store's settings (hooks). */
  settings?: BaseStoreSettings
}

/** What `openStore` gets besides `openStores`' options: what the run's targets share. */
type OpenOneOptions = OpenStoresOptions & { run: TargetRun }

/**
 * Opens the stores of a config with the credentials its env vars hold. A missing env var is a
 * `ConfigError` naming the path in the file and the variable, before any request is sent.
 */
export function openStores(loaded: LoadedConfig, options: OpenStoresOptions): ConfiguredStore[] {
  const { config } = loaded
  const known = config.stores.map((store) => store.label)
  for (const label of options.labels ?? []) {
    if (!known.includes(label))
      throw new UsageError(
        `no store labelled "${label}" in ${loaded.file}`,
        `labels: ${known.join(', ')}`,
      )
  }
  const run = targetRun()
  const opened = config.stores.flatMap((store, index) =>
    options.labels === undefined || options.labels.includes(store.label)
      ? [openStore(loaded, store, index, { ...options, run })]
      : [],
  )
  checkSharedTargets(loaded, opened)
  return opened
}

/**
 * Two stores that deliver to one place (a dotenv file, a repository's secrets, a Vercel
 * project) must not be able to make one variable name: the second secret would overwrite the
 * first (two accounts of one vendor under the default `{PROVIDER}_{NAME}`). Checked before any
 * request, over every store of the config (an overwrite needs no `--store` to happen on
 * another night).
 */
function checkSharedTargets(loaded: LoadedConfig, opened: readonly ConfiguredStore[]): void {
  const byPlace = new Map<string, Array<{ store: ConfiguredStore; target: OpenedTarget }>>()
  for (const store of opened)
    for (const target of store.targets) {
      if (target.place === undefined) continue
      byPlace.set(target.place, [...(byPlace.get(target.place) ?? []), { store, target }])
    }
  for (const users of byPlace.values()) {
    for (const [index, first] of users.entries()) {
      for (const second of users.slice(index + 1)) {
        if (first.store === second.store) continue
        const patterns = [first, second].map(({ store, target }) =>
          variablePattern(target.template, store.config.vendor, store.config.label),
        ) as [string, string]
        if (globsCannotOverlap(...patterns)) continue
        throw new ConfigError(
          loaded.file,
          `${second.target.path}.variable`,
          `"${first.store.config.label}" and "${second.store.config.label}" both deliver to ${second.target.kind.where(second.target.config as never)}, and their variables can be the same (${first.target.template} and ${second.target.template}); nothing was sent`,
          'put {LABEL} at the start of each store\'s "variable", e.g. "{LABEL}_{NAME}", or deliver them to different places',
        )
      }
    }
  }
}

function openStore(
  loaded: LoadedConfig,
  config: StoreConfig,
  index: number,
  options: OpenOneOptions,
): ConfiguredStore {
  const provider = PROVIDERS[config.vendor]
  const settings: Record<string, unknown> = {
    ...credentialSettings(loaded.file, config, index, options.env),
    ...options.settings,
  }
  const baseUrl = options.env[config.baseUrlEnv ?? provider.baseUrlEnv]
  if (baseUrl) settings.baseUrl = baseUrl
  else if (config.baseUrlEnv !== undefined)
    // Unset, the factory would read the vendor's default variable: another account's URL.
    throw new ConfigError(
      loaded.file,
      `stores[${index}].baseUrlEnv`,
      `env var ${config.baseUrlEnv} is not set`,
      `set ${config.baseUrlEnv} to the ${provider.title} API's base URL, or leave "baseUrlEnv" out for the vendor's default`,
    )
  const { timeoutMs, retry, hooks } = options.settings ?? {}
  const targets = openTargets(config, {
    file: loaded.file,
    folder: loaded.folder,
    index,
    env: options.env,
    settings: {
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(retry === undefined ? {} : { retry }),
      ...(hooks === undefined ? {} : { hooks }),
    },
    run: options.run,
  })
  const store = provider.create(settings as BaseStoreSettings & Record<string, unknown>)
  const retire = options.rotation?.retire ?? config.rotation?.retire
  if (retire === 'disable' && !store.capabilities.disable)
    throw new ConfigError(
      loaded.file,
      `stores[${index}].rotation.retire`,
      `${provider.title} cannot disable keys`,
      'use "delete" or "keep"',
    )
  return {
    fleetStore: {
      label: config.label,
      store,
      ...(config.select === undefined ? {} : { select: config.select }),
      rotation: fleetRotation(loaded.file, config, index, store, options.rotation),
      ...(config.schedule === undefined ? {} : { schedule: config.schedule }),
    },
    config,
    index,
    targets,
  }
}

/**
 * The store's rotation settings as the fleet takes them: the file's, then the flags' and env
 * vars'. A successor field the vendor cannot set (a limit) is refused naming its path.
 */
function fleetRotation(
  file: string,
  config: StoreConfig,
  index: number,
  store: KeyStore,
  overrides: OpenStoresOptions['rotation'],
): FleetStore['rotation'] {
  const { expiresIn, limit, ...rest } = config.rotation ?? {}
  if (limit !== undefined && !(store.capabilities.create || []).includes('limit'))
    throw new ConfigError(
      file,
      `stores[${index}].rotation.limit`,
      `${PROVIDERS[config.vendor].title} keys have no spending limit`,
      'leave it out for this store',
    )
  const lifetime = expiresIn === undefined ? {} : { expiresInDays: lifetimeDays(expiresIn) }
  const rotation = {
    ...rest,
    ...lifetime,
    ...(limit === undefined ? {} : { input: { limit } }),
    ...overrides,
  }
  if (
    rotation.expiresInDays !== undefined &&
    !(store.capabilities.create || []).includes('expiresAt')
  )
    throw new ConfigError(
      file,
      `stores[${index}].rotation.expiresIn`,
      `${PROVIDERS[config.vendor].title} keys cannot be given an expiry`,
      'leave it out for this store (or leave the store out with --store)',
    )
  return rotation
}

/** The store's credential settings from the env vars the config names (or the vendor's defaults). */
function credentialSettings(
  file: string,
  config: StoreConfig,
  index: number,
  env: Env,
): Record<string, string> {
  const named = config.credentials as Record<string, string> | undefined
  const names: Record<string, string> = named ?? { ...VENDOR_CREDENTIALS[config.vendor] }
  const settings: Record<string, string> = {}
  for (const [setting, variable] of Object.entries(names)) {
    const value = env[variable]
    if (value !== undefined && value !== '') settings[setting] = value
    else if (named !== undefined)
      throw new ConfigError(
        file,
        `stores[${index}].credentials.${setting}`,
        `env var ${variable} is not set`,
        `set ${variable} to the ${PROVIDERS[config.vendor].title} credential`,
        EXIT.authentication,
      )
  }
  if (named !== undefined) {
    // The factory reads a credential setting left out from the vendor's default variable, and
    // an earlier way to give one wins: a default variable set here (for another account) would
    // be used instead of the credential the config names.
    for (const [setting, variable] of Object.entries(VENDOR_CREDENTIALS[config.vendor])) {
      if (settings[setting] !== undefined || !env[variable]) continue
      throw new ConfigError(
        file,
        `stores[${index}].credentials`,
        `${variable} is set, and the store would read its \`${setting}\` from it beside the env vars named here`,
        `name ${variable} (or another variable) under "credentials", or unset ${variable}`,
        EXIT.authentication,
      )
    }
  }
  const sets = CREDENTIAL_SETS[config.vendor]
  if (!sets.some((set) => set.every((setting) => settings[setting] !== undefined))) {
    const wanted = sets.map((set) => set.map((setting) => names[setting]).join(' and '))
    throw new ConfigError(
      file,
      `stores[${index}]`,
      `no credentials: set ${wanted.join(', or ')}`,
      'or name the env vars that hold them in "credentials"',
      EXIT.authentication,
    )
  }
  return settings
}
