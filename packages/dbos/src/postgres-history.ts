import { DBOS } from '@dbos-inc/dbos-sdk'
import {
  type HistoryAction,
  type HistoryEntry,
  type HistorySink,
  type KeyStore,
  recordedStore,
} from '@keyway/core'
import { storeFingerprint } from '@keyway/core/adapter'
import pg, { type Pool } from 'pg'
import { KEYWAY_SCHEMA, readDigestKey } from './keyway-tables.js'
import { ROTATION_WORKFLOW_PREFIX } from './workflow-id.js'

/**
 * `store` with every change it makes recorded in the history table, as made by this worker
 * (its DBOS executor id), under the batch its rotation's workflow id names. The account is
 * the store's fingerprint with the digest key every worker shares.
 */
export function workerHistory<S extends KeyStore>(
  pool: Pool,
  label: string,
  store: S,
  /** The store as the adapter built it, whose account the fingerprint reads. */
  built: KeyStore = store,
): S {
  const table = postgresHistory(pool)
  return recordedStore(store, {
    label,
    sink: { append: (entry) => table.append({ ...entry, actor: { worker: DBOS.executorID } }) },
    account: async () => storeFingerprint(built, await readDigestKey(pool)),
    actor: { worker: DBOS.executorID },
    batchId: () => batchOf(DBOS.workflowID),
  })
}

/** The batch a rotation's workflow id names. */
function batchOf(workflowId: string | undefined): string | null {
  if (workflowId === undefined || !workflowId.startsWith(ROTATION_WORKFLOW_PREFIX)) return null
  const first = workflowId.slice(ROTATION_WORKFLOW_PREFIX.length).split('/')[0]
  try {
    return first === undefined ? null : decodeURIComponent(first)
  } catch {
    return null
  }
}

/** History in keyway's `history` table: one row an entry, appended only. */
export function postgresHistory(pool: Pool): HistorySink {
  return {
    async append(entry) {
      await pool.query(
        `INSERT INTO ${KEYWAY_SCHEMA}.history (change, phase, at, action, provider, label,
           account, key_id, target, batch_id, rotation_id, step, outcome, error_code, actor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
          entry.change,
          entry.phase,
          entry.at,
          entry.action,
          entry.provider,
          entry.store,
          entry.account === null ? null : JSON.stringify(entry.account),
          entry.keyId,
          entry.target,
          entry.batchId,
          entry.rotationId,
          entry.step,
          entry.outcome ?? null,
          entry.errorCode ?? null,
          JSON.stringify(entry.actor),
        ],
      )
    },
  }
}

/**
 * Every entry of the `history` table, oldest first, as `HistoryEntry` values; only these
 * `actions` where given. Takes a pool, or a connection URL (then it opens and closes its own).
 */
export async function readPostgresHistory(
  pool: Pick<Pool, 'query'> | string,
  options: { actions?: readonly HistoryAction[] } = {},
): Promise<HistoryEntry[]> {
  if (typeof pool === 'string') {
    const owned = new pg.Pool({ connectionString: pool, max: 1 })
    owned.on('error', () => {})
    try {
      return await readPostgresHistory(owned, options)
    } finally {
      await owned.end()
    }
  }
  const result =
    options.actions === undefined
      ? await pool.query<Record<string, unknown>>(
          `SELECT * FROM ${KEYWAY_SCHEMA}.history ORDER BY seq`,
        )
      : await pool.query<Record<string, unknown>>(
          `SELECT * FROM ${KEYWAY_SCHEMA}.history WHERE action = ANY($1) ORDER BY seq`,
          [[...options.actions]],
        )
  return result.rows.map((row) => ({
    change: row.change as string,
    phase: row.phase as HistoryEntry['phase'],
    at: (row.at as Date).toISOString(),
    action: row.action as HistoryEntry['action'],
    provider: row.provider as string,
    store: row.label as string,
    account: (row.account as HistoryEntry['account']) ?? null,
    keyId: (row.key_id as string | null) ?? null,
    target: (row.target as string | null) ?? null,
    batchId: (row.batch_id as string | null) ?? null,
    rotationId: (row.rotation_id as string | null) ?? null,
    step: (row.step as string | null) ?? null,
    ...(row.outcome === null ? {} : { outcome: row.outcome as 'succeeded' | 'failed' }),
    ...(row.error_code === null ? {} : { errorCode: row.error_code as string }),
    actor: row.actor as HistoryEntry['actor'],
  }))
}
