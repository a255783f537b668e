import type { BatchRecord, RotationJournal, RotationRecord } from '@keyway/core'
import type { Pool } from 'pg'
import { KEYWAY_SCHEMA } from './keyway-tables.js'

/**
 * A journal write refused because another holder of the rotation (a worker that picked it up
 * while this one stalled) moved it on since this one last read it: this holder must stop,
 * sending nothing more. Names the rotation only.
 */
export class RotationMovedOnError extends Error {
  /** The rotation whose record moved on. */
  readonly rotationId: string
  constructor(rotationId: string) {
    super(`rotation ${rotationId} moved on elsewhere since this worker read it; it stops here`)
    this.name = 'RotationMovedOnError'
    this.rotationId = rotationId
  }
}

/**
 * A `RotationJournal` in Postgres (the tables of `ensureKeywayTables`): every worker sees
 * every rotation's progress, so a rotation interrupted on one machine resumes on another.
 * Like every journal it holds ids and steps, never a secret. Each write is committed before
 * the rotation's next step begins, and only onto the record its writer last saw: a stale
 * holder's write throws `RotationMovedOnError` instead of overwriting another's progress.
 */
export function postgresJournal(pool: Pool): RotationJournal {
  return {
    read: (rotationId) => readRecord<RotationRecord>(pool, 'rotations', rotationId),
    async write(record) {
      // Each write moves on from the record this writer last saw: the same history (a note)
      // or that history and one state more. Anything else was written by another holder
      // of the rotation since, and wins.
      const written = await pool.query(
        `INSERT INTO ${KEYWAY_SCHEMA}.rotations AS r (rotation_id, record) VALUES ($1, $2)
         ON CONFLICT (rotation_id) DO UPDATE SET record = EXCLUDED.record, updated_at = now()
         WHERE r.record->'history' IN ($3::jsonb, $4::jsonb)`,
        [
          record.rotationId,
          JSON.stringify(record),
          JSON.stringify(record.history),
          JSON.stringify(record.history.slice(0, -1)),
        ],
      )
      if (written.rowCount !== 1) throw new RotationMovedOnError(record.rotationId)
    },
    async list() {
      const result = await pool.query<{ record: RotationRecord }>(
        `SELECT record FROM ${KEYWAY_SCHEMA}.rotations ORDER BY rotation_id`,
      )
      return result.rows.map((row) => row.record)
    },
    readBatch: (batchId) => readRecord<BatchRecord>(pool, 'batches', batchId),
    async writeBatch(record) {
      await pool.query(
        `INSERT INTO ${KEYWAY_SCHEMA}.batches (batch_id, record) VALUES ($1, $2)
         ON CONFLICT (batch_id) DO UPDATE SET record = EXCLUDED.record`,
        [record.batchId, JSON.stringify(record)],
      )
    },
  }
}

/** The record of one rotation (`rotations`, by rotation id) or batch (`batches`, by batch id). */
async function readRecord<Stored>(
  pool: Pool,
  table: 'rotations' | 'batches',
  id: string,
): Promise<Stored | undefined> {
  const key = table === 'rotations' ? 'rotation_id' : 'batch_id'
  const result = await pool.query<{ record: Stored }>(
    `SELECT record FROM ${KEYWAY_SCHEMA}.${table} WHERE ${key} = $1`,
    [id],
  )
  return result.rows[0]?.record
}
