import { resolve } from 'node:path'
import {
  type HistoryContext,
  jsonLinesHistory,
  type KeyStore,
  recordedDeliver,
  recordedStore,
} from '@keyway/core'
import { storeFingerprint } from '@keyway/core/adapter'
import type { Context } from './context.js'
import { defaultHistory } from './state-dir.js'
import { readOrCreateKey } from './store-accounts.js'

/**
 * The history file: `--history`, else `KEYWAY_HISTORY`, else the config's `history` (from
 * the config's folder), else `history.jsonl` in keyway's state folder. Apart from the resume
 * journal: a journal is pruned as batches finish, history never is.
 */
export function historyPath(context: Context, configured?: { folder: string; path?: string }) {
  const given = context.values.history ?? context.io.env.KEYWAY_HISTORY
  if (given !== undefined && given !== '') return resolve(given)
  if (configured?.path !== undefined) return resolve(configured.folder, configured.path)
  return defaultHistory(context.io.env)
}

/**
 * Where the changes of one store are recorded, and as whose: this host and user. Its account
 * is a fingerprint made with a digest key kept beside the history file (`<history>.key`), so
 * fingerprints in one history compare equal for one account.
 */
export function historyContext(
  context: Context,
  label: string,
  store: KeyStore,
  path: string = historyPath(context),
): HistoryContext {
  return {
    sink: jsonLinesHistory(path),
    account: async () => storeFingerprint(store, await readOrCreateKey(`${path}.key`)),
    label,
    batchId: () => context.batchId,
    ...(context.io.now === undefined ? {} : { now: context.io.now }),
  }
}

/** The store with its changes recorded in history. */
export function withHistory<S extends KeyStore>(
  context: Context,
  label: string,
  store: S,
  path?: string,
): S {
  return recordedStore(store, historyContext(context, label, store, path))
}

/** A `deliver` whose writes to `target` are recorded in history. */
export function deliverWithHistory(
  context: Context,
  label: string,
  store: KeyStore,
  deliver: Parameters<typeof recordedDeliver>[0],
  target: string,
  path?: string,
) {
  return recordedDeliver(deliver, target, {
    ...historyContext(context, label, store, path),
    provider: store.provider,
  })
}
