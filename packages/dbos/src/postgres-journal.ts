import type { BatchRecord, RotationJournal, RotationRecord } from '@keyway/core'
import type { Pool } from 'pg'
import { KEYWAY_SCHEMA } from './keyway-tables.js'

/**
 * A `RotationJournal` in Postgres (the tables of `ensureKeywayTables`): every worker sees
 * every rotation's progress, so a rotation interrupted on one machine resumes on another.
 * Like every journal it holds ids and steps, never a secret. Each write is committed before
 * the rotation's next step begins.
 */
export function postgresJournal(pool: Pool): RotationJournal {
  return {
    async read(rotationId) {
      const result = await pool.query<{ record: RotationRecord }>(
        `SELECT record FROM ${KEYWAY_SCHEMA}.rotations WHERE rotation_id = $1`,
        [rotationId],
      )
      return result.rows[0]?.record
    },
    async write(record) {
      await pool.query(
        `INSERT INTO ${KEYWAY_SCHEMA}.rotations (rotation_id, record) VALUES ($1, $2)
         ON CONFLICT (rotation_id) DO UPDATE SET record = EXCLUDED.record, updated_at = now()`,
        [record.rotationId, JSON.stringify(record)],
      )
    },
    async list() {
      const result = await pool.query<{ record: RotationRecord }>(
        `SELECT record FROM ${KEYWAY_SCHEMA}.rotations ORDER BY rotation_id`,
      )
      return result.rows.map((row) => row.record)
    },
    async readBatch(batchId) {
      const result = await pool.query<{ record: BatchRecord }>(
        `SELECT record FROM ${KEYWAY_SCHEMA}.batches WHERE batch_id = $1`,
        [batchId],
      )
      return result.rows[0]?.record
    },
    async writeBatch(record) {
      await pool.query(
        `INSERT INTO ${KEYWAY_SCHEMA}.batches (batch_id, record) VALUES ($1, $2)
         ON CONFLICT (batch_id) DO UPDATE SET record = EXCLUDED.record`,
        [record.batchId, JSON.stringify(record)],
      )
    },
  }
}
