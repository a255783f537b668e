import { randomBytes } from 'node:crypto'
import type { Pool, PoolClient } from 'pg'
import { inTransaction } from './transaction.js'
import { storeLabelOf } from './workflow-id.js'

/** The Postgres schema keyway's own tables live in, beside DBOS's. */
export const KEYWAY_SCHEMA = 'keyway'

/**
 * The version of keyway's tables this code writes, recorded in `keyway.settings`. Version 1
 * (recorded by none) keyed sealed secrets and key claims by vendor name and key id; version 2
 * keys a sealed secret by its rotation and a claim by store label, and records each store's
 * account.
 */
export const SCHEMA_VERSION = 2

/** A database written by a newer keyway than this one: it is left as it is. */
export class SchemaVersionError extends Error {
  /** The version the tables are at. */
  readonly found: number
  constructor(found: number) {
    super(
      `keyway's tables are at schema version ${found}, newer than this keyway knows (${SCHEMA_VERSION}): upgrade every worker`,
    )
    this.name = 'SchemaVersionError'
    this.found = found
  }
}

/**
 * Creates keyway's tables where they are missing, or brings those of an earlier version up to
 * this one: rotation and batch records (the journal), sealed secrets (encrypted, see
 * `sealSecret`), which rotation holds each key (one at a time), which account each store label
 * reached, and when each worker was last heard from. Safe to run from every worker at once:
 * one runs it, the others find it done.
 */
export async function ensureKeywayTables(pool: Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    // Workers that start together would race on CREATE ... IF NOT EXISTS and on the
    // migration; one at a time, each finding what the one before did.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('keyway-tables'))")
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${KEYWAY_SCHEMA}`)
    const version = await schemaVersion(client)
    if (version > SCHEMA_VERSION) throw new SchemaVersionError(version)
    if (version === 1) await migrateFromVersion1(client)
    await createTables(client)
    await client.query(
      `INSERT INTO ${KEYWAY_SCHEMA}.settings (name, value) VALUES ('schema_version', $1)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
      [String(SCHEMA_VERSION)],
    )
    // The key of the digests that stand for credentials in store fingerprints: made once,
    // the same for every worker, so a digest taken on one compares with one taken on another.
    await client.query(
      `INSERT INTO ${KEYWAY_SCHEMA}.settings (name, value) VALUES ('digest_key', $1)
       ON CONFLICT (name) DO NOTHING`,
      [randomBytes(32).toString('base64')],
    )
  })
}

/** The key of the credential digests in store fingerprints (see `ensureKeywayTables`). */
export async function readDigestKey(pool: Pool): Promise<string> {
  const result = await pool.query<{ value: string }>(
    `SELECT value FROM ${KEYWAY_SCHEMA}.settings WHERE name = 'digest_key'`,
  )
  const value = result.rows[0]?.value
  if (value === undefined) throw new Error("keyway's tables are not set up: call start() first")
  return value
}

/**
 * The recorded version; 1 for tables written before versions were recorded, and 0 for a
 * database without keyway's tables.
 */
async function schemaVersion(client: PoolClient): Promise<number> {
  const tables = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`,
    [KEYWAY_SCHEMA],
  )
  const names = new Set(tables.rows.map((row) => row.table_name))
  if (names.has('settings')) {
    const recorded = await client.query<{ value: string }>(
      `SELECT value FROM ${KEYWAY_SCHEMA}.settings WHERE name = 'schema_version'`,
    )
    const value = recorded.rows[0]?.value
    if (value !== undefined) return Number(value)
  }
  return names.has('sealed_secrets') || names.has('key_claims') ? 1 : 0
}

/** Keyway's tables, each made where it is missing: its name and its columns. */
const TABLES: ReadonlyArray<readonly [name: string, columns: string]> = [
  ['settings', 'name text PRIMARY KEY, value text NOT NULL'],
  [
    'rotations',
    'rotation_id text PRIMARY KEY, record jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()',
  ],
  ['batches', 'batch_id text PRIMARY KEY, record jsonb NOT NULL'],
  // A secret belongs to the rotation that minted it: two accounts of one vendor repeat key
  // ids (Voiceable's are small integers per account), and a rotation only ever reads its own.
  [
    'sealed_secrets',
    `rotation_id text NOT NULL, key_id text NOT NULL, sealed text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (rotation_id, key_id)`,
  ],
  // A key is its store (the label) and its id there.
  [
    'key_claims',
    'label text NOT NULL, key_id text NOT NULL, rotation_id text NOT NULL, PRIMARY KEY (label, key_id)',
  ],
  // Which account each label reached, and which one each rotation began at (see
  // `StoreFingerprint`): no secret, a keyed digest of the credential at most.
  [
    'store_accounts',
    'label text PRIMARY KEY, fingerprint jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now()',
  ],
  [
    'rotation_accounts',
    'rotation_id text PRIMARY KEY, label text NOT NULL, fingerprint jsonb NOT NULL',
  ],
  ['workers', 'executor_id text PRIMARY KEY, seen_at timestamptz NOT NULL'],
  // Every change a worker made at a vendor or a target (see `HistoryEntry`): an attempt
  // before, its outcome after. Appended only; never updated, never pruned with the journal.
  [
    'history',
    `seq bigserial PRIMARY KEY, change text NOT NULL, phase text NOT NULL, at timestamptz NOT NULL,
     action text NOT NULL, provider text NOT NULL, label text NOT NULL, account jsonb,
     key_id text, target text, batch_id text, rotation_id text, step text, outcome text,
     error_code text, actor jsonb NOT NULL`,
  ],
]

/** Indexes beside the tables' keys: name, table and columns. */
const INDEXES: ReadonlyArray<readonly [name: string, table: string, columns: string]> = [
  ['key_claims_rotation', 'key_claims', 'rotation_id'],
  ['history_change', 'history', 'change'],
]

async function createTables(client: PoolClient): Promise<void> {
  for (const [name, columns] of TABLES) {
    await client.query(`CREATE TABLE IF NOT EXISTS ${KEYWAY_SCHEMA}.${name} (${columns})`)
  }
  for (const [name, table, columns] of INDEXES) {
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${name} ON ${KEYWAY_SCHEMA}.${table} (${columns})`,
    )
  }
  await client.query(`CREATE OR REPLACE FUNCTION ${KEYWAY_SCHEMA}.history_is_append_only()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'keyway.history is append-only'; END $$`)
  await client.query(`DROP TRIGGER IF EXISTS history_append_only ON ${KEYWAY_SCHEMA}.history`)
  await client.query(`CREATE TRIGGER history_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON ${KEYWAY_SCHEMA}.history
    FOR EACH STATEMENT EXECUTE FUNCTION ${KEYWAY_SCHEMA}.history_is_append_only()`)
}

/**
 * Version 1 to 2. A sealed secret keyed by vendor and key id moves to its rotation (the
 * rotation id it was sealed under, or else the one unfinished rotation of that vendor whose
 * journal names the key as its new key); a claim moves to the store label its rotation's
 * workflow id names. A sealed secret that belongs to no rotation is one nothing reads: it is
 * dropped.
 */
async function migrateFromVersion1(client: PoolClient): Promise<void> {
  await client.query(`ALTER TABLE ${KEYWAY_SCHEMA}.sealed_secrets RENAME TO sealed_secrets_v1`)
  await client.query(`ALTER TABLE ${KEYWAY_SCHEMA}.key_claims RENAME TO key_claims_v1`)
  await client.query(`ALTER INDEX IF EXISTS ${KEYWAY_SCHEMA}.key_claims_rotation
    RENAME TO key_claims_v1_rotation`)
  await createTables(client)
  await client.query(`INSERT INTO ${KEYWAY_SCHEMA}.sealed_secrets
      (rotation_id, key_id, sealed, created_at)
    SELECT coalesce(s.rotation_id, (
        SELECT min(r.rotation_id) FROM ${KEYWAY_SCHEMA}.rotations r
        WHERE r.record->>'provider' = s.provider AND r.record->>'newKeyId' = s.key_id
          AND r.record->>'state' NOT IN ('done', 'rolled-back', 'failed')
        HAVING count(*) = 1
      )), s.key_id, s.sealed, s.created_at
    FROM ${KEYWAY_SCHEMA}.sealed_secrets_v1 s
    WHERE s.rotation_id IS NOT NULL OR EXISTS (
      SELECT 1 FROM ${KEYWAY_SCHEMA}.rotations r
      WHERE r.record->>'provider' = s.provider AND r.record->>'newKeyId' = s.key_id
        AND r.record->>'state' NOT IN ('done', 'rolled-back', 'failed')
      HAVING count(*) = 1
    )`)
  const claims = await client.query<{ key_id: string; rotation_id: string }>(
    `SELECT key_id, rotation_id FROM ${KEYWAY_SCHEMA}.key_claims_v1`,
  )
  for (const claim of claims.rows) {
    const label = storeLabelOf(claim.rotation_id)
    // A claim whose rotation names no store is no rotation keyway started: nothing holds it.
    if (label === undefined) continue
    await client.query(
      `INSERT INTO ${KEYWAY_SCHEMA}.key_claims (label, key_id, rotation_id) VALUES ($1, $2, $3)
       ON CONFLICT (label, key_id) DO NOTHING`,
      [label, claim.key_id, claim.rotation_id],
    )
  }
  await client.query(`DROP TABLE ${KEYWAY_SCHEMA}.sealed_secrets_v1`)
  await client.query(`DROP TABLE ${KEYWAY_SCHEMA}.key_claims_v1`)
}
