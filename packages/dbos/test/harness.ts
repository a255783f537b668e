// What the crash tests share: a database and emulators per test, and DBOS's own records read
// back through its client.
import { createHash } from 'node:crypto'
import { DBOSClient } from '@dbos-inc/dbos-sdk'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { ensureKeywayTables, type RotationCheckpoint } from '../src/index.js'
import type { TestPostgres } from './embedded-postgres.js'
import { type Fleet, rotatableIds, startFleet, storeOf, VENDORS } from './fleet.js'
import type { WorkerConfig } from './worker.js'

/** A fresh database, the four emulators, DBOS's client and a pool for the tests' own reads. */
export interface Harness {
  url: string
  fleet: Fleet
  client: DBOSClient
  db: pg.Pool
  close(): Promise<void>
}

export async function startHarness(
  postgres: Pick<TestPostgres, 'url'>,
  database: string,
  seedKeys: number,
): Promise<Harness> {
  const url = await postgres.url(database)
  const fleet = await startFleet({ seedKeys, rateLimit: false })
  const client = await DBOSClient.create({ systemDatabaseUrl: url })
  const db = new pg.Pool({ connectionString: url, max: 2 })
  // The cluster stops at the end while idle connections may still be closing.
  db.on('error', () => {})
  return {
    url,
    fleet,
    client,
    db,
    async close() {
      await client.destroy()
      await db.end()
      await Promise.all(VENDORS.map((vendor) => fleet[vendor].close()))
    },
  }
}

/** Polls DBOS's own record until `count` workflows under `prefix` ended; bounded by the test's timeout. */
export async function waitForEnded(
  client: DBOSClient,
  prefix: string,
  count: number,
): Promise<void> {
  for (;;) {
    const finished = await client.listWorkflows({
      workflow_id_prefix: prefix,
      status: ['SUCCESS', 'ERROR'],
    })
    if (finished.length >= count) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** A rotation workflow's checkpoints as DBOS recorded them, as `ran` with `*` where it reopened. */
export async function checkpointTrail(
  client: DBOSClient,
  workflowId: string,
): Promise<Array<{ name: string; ran: string }>> {
  const steps = (await client.listWorkflowSteps(workflowId)) ?? []
  return steps.map((step) => {
    const output = step.output as RotationCheckpoint | null | undefined
    return {
      name: step.name,
      ran: output == null ? 'error' : `${output.ran}${output.reopened ? '*' : ''}`,
    }
  })
}

/**
 * Digests of credentials the emulators saw (each new secret reaches its vendor when it is
 * verified) that also appear in DBOS's records (workflow inputs, outputs and errors, step
 * outputs and errors) or keyway's journal. The records are split into words and each word
 * hashed: a secret stored anywhere, whole, is found without the test holding any secret.
 */
export async function leakedCredentials(setup: Harness): Promise<string[]> {
  const digests = new Set<string>()
  for (const emulator of Object.values(setup.fleet)) {
    for (const request of emulator.requests) {
      if (request.credentialDigest !== undefined) digests.add(request.credentialDigest)
    }
  }
  const rows = await setup.db.query<{ text: string }>(
    `SELECT row_to_json(t)::text AS text FROM dbos.workflow_status t
     UNION ALL SELECT row_to_json(t)::text FROM dbos.operation_outputs t
     UNION ALL SELECT row_to_json(t)::text FROM keyway.rotations t
     UNION ALL SELECT row_to_json(t)::text FROM keyway.history t`,
  )
  const leaked = new Set<string>()
  // Secrets are words of letters, digits and a few signs; split where each kind may end.
  const splits = [/[^A-Za-z0-9_-]+/, /[^A-Za-z0-9_.~+/=-]+/, /[\s"\\,]+/]
  for (const { text } of rows.rows) {
    for (const split of splits) {
      for (const word of text.split(split)) {
        const digest = createHash('sha256').update(word).digest('hex')
        if (digests.has(digest)) leaked.add(digest)
      }
    }
  }
  return [...leaked]
}

/** A database with keyway's tables for a test file, and a pool on it (ended after its tests). */
export function useKeywayPool(
  postgres: Pick<TestPostgres, 'url'>,
  database: string,
  max = 4,
): () => pg.Pool {
  let pool: pg.Pool | undefined
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await postgres.url(database), max })
    // The cluster stops at the end while idle connections may still be closing.
    pool.on('error', () => {})
    await ensureKeywayTables(pool)
  })
  afterAll(async () => {
    await pool?.end()
  })
  return () => {
    if (pool === undefined) throw new Error('the test database is not ready yet')
    return pool
  }
}

/** A harness whose only rotatable key is one OpenRouter key, and the worker stores for it. */
export async function startOneKeyHarness(
  postgres: Pick<TestPostgres, 'url'>,
  database: string,
): Promise<{ setup: Harness; stores: WorkerConfig['stores']; keyId: string }> {
  const setup = await startHarness(postgres, database, 1)
  const keyIds = await rotatableIds(storeOf(setup.fleet, 'openrouter'))
  if (keyIds.length !== 1) throw new Error(`expected one key to rotate, found ${keyIds.length}`)
  return {
    setup,
    stores: { openrouter: { vendor: 'openrouter', settings: setup.fleet.openrouter.settings } },
    keyId: keyIds[0] as string,
  }
}
