import type { Pool } from 'pg'
import { KEYWAY_SCHEMA } from './keyway-tables.js'

/**
 * Claims a key (its store's label and its id there: two accounts of one vendor repeat ids)
 * for one rotation, before the rotation reads it: two rotations of one key at
 * once (two batches, or a policy and a batch) would each make and deliver a successor, and
 * leave both live. A claim passes to the next rotation once its holder's workflow has ended
 * (`ended`). Returns `undefined` once `rotationId` holds the claim, or the rotation that
 * holds it and is still under way.
 *
 * DBOS's own queue deduplication (`deduplicationID`) refuses a second rotation of a key at
 * enqueue time, but it does not last: DBOS clears a workflow's deduplication id whenever it
 * resumes the workflow (`resumeWorkflows` in its system database), which is how a takeover
 * and `recoverExecutor` hand a dead worker's rotations on. A batch enqueued after a takeover
 * would then start a second rotation of a key still under way. The claim is held from the
 * rotation's first checkpoint until its workflow ends, whoever runs it.
 */
export async function claimKey(
  pool: Pool,
  key: { label: string; keyId: string; rotationId: string },
  ended: (rotationId: string) => Promise<boolean>,
): Promise<string | undefined> {
  const { label, keyId, rotationId } = key
  for (;;) {
    const inserted = await pool.query(
      `INSERT INTO ${KEYWAY_SCHEMA}.key_claims (label, key_id, rotation_id) VALUES ($1, $2, $3)
       ON CONFLICT (label, key_id) DO NOTHING`,
      [label, keyId, rotationId],
    )
    if (inserted.rowCount === 1) return undefined
    const held = await pool.query<{ rotation_id: string }>(
      `SELECT rotation_id FROM ${KEYWAY_SCHEMA}.key_claims WHERE label = $1 AND key_id = $2`,
      [label, keyId],
    )
    const holder = held.rows[0]?.rotation_id
    // Released between the two statements: claim it afresh.
    if (holder === undefined) continue
    if (holder === rotationId) return undefined
    if (!(await ended(holder))) return holder
    // Only from the holder that was seen to end: another rotation may have taken it since.
    const taken = await pool.query(
      `UPDATE ${KEYWAY_SCHEMA}.key_claims SET rotation_id = $3
       WHERE label = $1 AND key_id = $2 AND rotation_id = $4`,
      [label, keyId, rotationId, holder],
    )
    if (taken.rowCount === 1) return undefined
  }
}

/** Releases a rotation's claim on its key once the rotation has ended. */
export async function releaseKey(pool: Pool, rotationId: string): Promise<void> {
  await pool.query(`DELETE FROM ${KEYWAY_SCHEMA}.key_claims WHERE rotation_id = $1`, [rotationId])
}
