import { randomBytes } from 'node:crypto'
import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type ApiKey, type DeliveryTarget, type KeyStore, recordedTarget } from '@keyway/core'
import { fingerprintChange, storeFingerprint } from '@keyway/core/adapter'
import { configPath, storeLabels } from '../config/fleet-settings.js'
import { openStores } from '../config/fleet-stores.js'
import { loadConfig } from '../config/load-config.js'
import { keyTargets } from '../config/store-targets.js'
import type { Context } from '../context.js'
import { historyContext } from '../history-file.js'
import { UsageError } from '../usage-error.js'

/** The targets a config gives one key, and the store entry they come from. */
export interface ConfiguredTargets {
  label: string
  targets: DeliveryTarget[]
}

/**
 * The delivery targets `keyway rotate <key>` uses when `--deliver-to` is not given and a fleet
 * config is present (`--config`, `KEYWAY_CONFIG`, or `keyway.config.json` here): those of the
 * config's store of this vendor (`--store` names one when there are several) whose entries
 * take the key. `undefined` when there is no config, no store of the vendor, or no entry
 * takes the key (the secret is then printed, as without a config). The config's store must
 * reach the account `store` reaches: a key is never delivered where another account's keys go.
 */
export async function configuredTargets(
  context: Context,
  store: KeyStore,
  vendor: string,
  key: ApiKey,
): Promise<ConfiguredTargets | undefined> {
  const { values, io } = context
  const path = configPath(values, io.env)
  const named = values.config !== undefined || Boolean(io.env.KEYWAY_CONFIG)
  if (!named && !(await exists(resolve(process.cwd(), path)))) return undefined
  const loaded = await loadConfig(path, process.cwd())
  const wanted = storeLabels(values, io.env)
  const stores = loaded.config.stores.filter(
    (candidate) =>
      candidate.vendor === vendor && (wanted === undefined || wanted.includes(candidate.label)),
  )
  if (stores.length === 0) return undefined
  if (stores.length > 1)
    throw new UsageError(
      `${loaded.file} has ${stores.length} stores of ${vendor} (${stores.map((candidate) => candidate.label).join(', ')}): which one's targets should this key go to?`,
      'name one with --store <label>, or pass --deliver-to',
    )
  const label = (stores[0] as { label: string }).label
  const [opened] = openStores(loaded, { env: io.env, labels: [label] })
  if (opened === undefined) return undefined
  const digestKey = randomBytes(32)
  const change = fingerprintChange(
    storeFingerprint(opened.fleetStore.store, digestKey),
    storeFingerprint(store, digestKey),
  )
  if (change !== undefined)
    throw new UsageError(
      `the store "${label}" of ${loaded.file} reaches another account than ${vendor}'s env vars (${change}): its targets are not this key's`,
      'point the env vars at the same account, or pass --deliver-to',
    )
  const recording = { ...historyContext(context, label, store), provider: store.provider }
  const targets = keyTargets(opened.targets, key.id, key).map((target) =>
    recordedTarget(target, recording),
  )
  return targets.length === 0 ? undefined : { label, targets }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
