import { Secret } from '@keyway/core'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import {
  ensureKeywayTables,
  openSealedSecret,
  SCHEMA_VERSION,
  SchemaVersionError,
  sealSecret,
} from '../src/index.js'

import { usePostgres } from './embedded-postgres.js'
import { SCHEMA_VERSION_1_DDL } from './fixtures/schema-version-1.js'
import { rotatableIds, storeOf, testSealingKey, VENDORS, workerStores } from './fleet.js'
import { startHarness, summaryOf, withWorkers } from './harness.js'

const postgres = usePostgres()

/** A pool on a database (ended by the caller). */
function poolAt(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  // The cluster stops at the end while idle connections may still be closing.
  pool.on('error', () => {})
  return pool
}

async function writeVersion1(pool: pg.Pool): Promise<void> {
  for (const statement of SCHEMA_VERSION_1_DDL) await pool.query(statement)
}

async function tablesOf(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'keyway' ORDER BY 1`,
  )
  return result.rows.map((row) => row.table_name)
}

describe('keyway tables of schema version 1', () => {
  it('move to version 2 once, whichever of several workers starting together gets there first', async () => {
    const url = await postgres.url('migrate_rows')
    const setup = poolAt(url)
    const sealingKey = testSealingKey()
    const pools: pg.Pool[] = []
    try {
      await writeVersion1(setup)
      const sealed = (text: string) => sealSecret(new Secret(text), sealingKey)
      // Two Voiceable accounts repeat ids; version 1 kept one row per vendor and id.
      const held = 'keyway-rotate/nightly/voiceable-a/101'
      const journalled = 'keyway-rotate/nightly/voiceable-b/101'
      await setup.query(
        `INSERT INTO keyway.sealed_secrets (provider, key_id, sealed, rotation_id) VALUES
         ('voiceable', '102', $1, $2), ('voiceable', '103', $3, NULL), ('openrouter', 'x', $4, NULL)`,
        [sealed('test-secret-held'), held, sealed('test-secret-journalled'), sealed('test-orphan')],
      )
      // A secret sealed without its rotation's id is found through the journal: the one
      // unfinished rotation of that vendor whose new key it is.
      await setup.query(
        `INSERT INTO keyway.rotations (rotation_id, record) VALUES
         ($1, '{"provider":"voiceable","newKeyId":"103","state":"delivered"}'),
         ('keyway-rotate/old/voiceable-b/7', '{"provider":"voiceable","newKeyId":"103","state":"done"}')`,
        [journalled],
      )
      await setup.query(
        `INSERT INTO keyway.key_claims (provider, key_id, rotation_id) VALUES
         ('voiceable', '101', $1), ('openrouter', 'k', 'not-a-rotation')`,
        [held],
      )
      for (let index = 0; index < 4; index++) pools.push(poolAt(url))
      await Promise.all(pools.map((pool) => ensureKeywayTables(pool)))
      const secrets = await setup.query<{ rotation_id: string; key_id: string; sealed: string }>(
        'SELECT rotation_id, key_id, sealed FROM keyway.sealed_secrets ORDER BY rotation_id',
      )
      expect(
        secrets.rows.map((row) => [
          row.rotation_id,
          row.key_id,
          openSealedSecret(row.sealed, sealingKey).reveal(),
        ]),
      ).toEqual([
        [held, '102', 'test-secret-held'],
        [journalled, '103', 'test-secret-journalled'],
      ])
      const claims = await setup.query('SELECT label, key_id, rotation_id FROM keyway.key_claims')
      expect(claims.rows).toEqual([{ label: 'voiceable-a', key_id: '101', rotation_id: held }])
      const settings = await setup.query<{ name: string; value: string }>(
        'SELECT name, value FROM keyway.settings ORDER BY name',
      )
      expect(settings.rows.map((row) => row.name)).toEqual(['digest_key', 'schema_version'])
      expect(settings.rows[1]?.value).toBe(String(SCHEMA_VERSION))
      expect(await tablesOf(setup)).toEqual([
        'batches',
        'history',
        'key_claims',
        'rotation_accounts',
        'rotations',
        'sealed_secrets',
        'settings',
        'store_accounts',
        'workers',
      ])
      // Started again: nothing changes.
      await ensureKeywayTables(setup)
      const again = await setup.query('SELECT count(*)::int AS n FROM keyway.sealed_secrets')
      expect(again.rows[0].n).toBe(2)
    } finally {
      await Promise.all(pools.map((pool) => pool.end()))
      await setup.end()
    }
  })

  it('are left alone when a newer keyway wrote them', async () => {
    expect.assertions(2)
    const pool = poolAt(await postgres.url('newer_schema'))
    try {
      await ensureKeywayTables(pool)
      await pool.query("UPDATE keyway.settings SET value = '99' WHERE name = 'schema_version'")
      await expect(ensureKeywayTables(pool)).rejects.toThrow(SchemaVersionError)
      const version = await pool.query(
        "SELECT value FROM keyway.settings WHERE name = 'schema_version'",
      )
      expect(version.rows[0].value).toBe('99')
    } finally {
      await pool.end()
    }
  })

  it('hold rotations cut off mid-way, which the new code finishes with the secrets they delivered', async () => {
    const setup = await startHarness(postgres, 'migrate_in_flight', 3)
    const before: Record<string, string[]> = {}
    for (const vendor of VENDORS) before[vendor] = await rotatableIds(storeOf(setup.fleet, vendor))
    await withWorkers(
      setup,
      async (workers) => {
        // Worker A dies once its fifth rotation delivered: rotations stand part way, secrets sealed.
        const a = await workers.startDoomed('worker-a', { crashAt: { state: 'delivered', nth: 5 } })
        for (const vendor of VENDORS) {
          void a.send({
            type: 'enqueue',
            batchId: 'nightly',
            label: vendor,
            keyIds: before[vendor] as string[],
          })
        }
        const cutOff = await a.killed()
        // What the earlier keyway would have left: its tables, its rows (labels were vendors).
        const sealed = await setup.db.query<{
          rotation_id: string
          key_id: string
          sealed: string
        }>('SELECT rotation_id, key_id, sealed FROM keyway.sealed_secrets')
        const claims = await setup.db.query<{ label: string; key_id: string; rotation_id: string }>(
          'SELECT label, key_id, rotation_id FROM keyway.key_claims',
        )
        expect(sealed.rows.length).toBeGreaterThan(0)
        // The earlier keyway enqueued rotations without the account they were meant for.
        await setup.db.query(
          `UPDATE dbos.workflow_input
           SET inputs = jsonb_set(inputs::jsonb, '{json}', (inputs::jsonb -> 'json') - 3)::text
           WHERE workflow_uuid LIKE 'keyway-rotate/%'`,
        )
        await setup.db.query(`DROP TABLE keyway.sealed_secrets, keyway.key_claims, keyway.settings,
          keyway.store_accounts, keyway.rotation_accounts`)
        await writeVersion1(setup.db)
        for (const row of sealed.rows) {
          const provider = row.rotation_id.split('/')[2]
          await setup.db.query(
            'INSERT INTO keyway.sealed_secrets (provider, key_id, sealed, rotation_id) VALUES ($1, $2, $3, $4)',
            [provider, row.key_id, row.sealed, row.rotation_id],
          )
        }
        for (const row of claims.rows) {
          await setup.db.query(
            'INSERT INTO keyway.key_claims (provider, key_id, rotation_id) VALUES ($1, $2, $3)',
            [row.label, row.key_id, row.rotation_id],
          )
        }
        // Two workers of the new code start at once; one of them takes over worker A.
        const [b] = await Promise.all(
          ['worker-b', 'worker-c'].map((executorId) => workers.start(executorId)),
        )
        await b?.send({ type: 'recover', executorId: 'worker-a' })
        const runs = await setup.succeeded(VENDORS.length * 3)
        // The rotation cut off after its delivery verified the secret it had delivered, read
        // from the migrated sealed secret: nothing minted or delivered again.
        expect((await setup.trail(cutOff)).map((step) => step.ran)).toEqual([
          'open',
          'create',
          'resume*',
          'verify',
          'retire',
        ])
        const output = summaryOf(runs.find((run) => run.workflowID === cutOff))
        expect(await setup.deliveriesFor(output?.oldKeyId)).toEqual([
          { new_key_id: output?.newKeyId, executor: 'worker-a' },
        ])
        // Every old key replaced by the one key delivered for it, which is live.
        const deliveries = await setup.db.query<{
          label: string
          old_key_id: string
          new_key_id: string
        }>('SELECT DISTINCT label, old_key_id, new_key_id FROM deliveries')
        for (const vendor of VENDORS) {
          const mine = deliveries.rows.filter((row) => row.label === vendor)
          expect(mine.map((row) => row.old_key_id).sort()).toEqual(
            [...(before[vendor] as string[])].sort(),
          )
          const live = await rotatableIds(storeOf(setup.fleet, vendor))
          expect(live.filter((id) => before[vendor]?.includes(id))).toEqual([])
          expect(mine.map((row) => row.new_key_id).filter((id) => !live.includes(id))).toEqual([])
        }
        expect(await setup.sealedCount()).toBe(0)
        const version = await setup.db.query(
          "SELECT value FROM keyway.settings WHERE name = 'schema_version'",
        )
        expect(version.rows[0].value).toBe(String(SCHEMA_VERSION))
      },
      { stores: workerStores(setup.fleet) },
    )
  }, 240_000)
})
