import type { Pool } from 'pg'
import { inTransaction } from './transaction.js'

/** The Postgres schema keyway's own tables live in, beside DBOS's. */
export const KEYWAY_SCHEMA = 'keyway'

/**
 * Creates keyway's tables where they are missing: rotation and batch records (the journal),
 * sealed secrets (encrypted, see `sealSecret`), which rotation holds each key (one at a time)
 * and when each worker was last heard from. Safe to run from every worker at once.
 */
export async function ensureKeywayTables(pool: Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    // Workers that start together would race on CREATE ... IF NOT EXISTS; one at a time.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('keyway-tables'))")
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${KEYWAY_SCHEMA}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${KEYWAY_SCHEMA}.rotations (
      rotation_id text PRIMARY KEY,
      record jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${KEYWAY_SCHEMA}.batches (
      batch_id text PRIMARY KEY,
      record jsonb NOT NULL
    )`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${KEYWAY_SCHEMA}.sealed_secrets (
      provider text NOT NULL,
      key_id text NOT NULL,
      sealed text NOT NULL,
      rotation_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (provider, key_id)
    )`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${KEYWAY_SCHEMA}.key_claims (
      provider text NOT NULL,
      key_id text NOT NULL,
      rotation_id text NOT NULL,
      PRIMARY KEY (provider, key_id)
    )`)
    await client.query(`CREATE INDEX IF NOT EXISTS key_claims_rotation
      ON ${KEYWAY_SCHEMA}.key_claims (rotation_id)`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${KEYWAY_SCHEMA}.workers (
      executor_id text PRIMARY KEY,
      seen_at timestamptz NOT NULL
    )`)
  })
}
