// What the crash tests share: a database and emulators per test, DBOS's own records read
// back through its client, and the worker processes a test starts.
import { createHash } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DBOSClient, type WorkflowStatus } from '@dbos-inc/dbos-sdk'
import type { RotationState } from '@keyway/core'
import { FORWARD_STATES } from '@keyway/core/adapter'
import pg from 'pg'
import { afterAll, beforeAll, expect } from 'vitest'
import {
  type DurableRotationSummary,
  ensureKeywayTables,
  ROTATION_WORKFLOW_PREFIX,
  type RotationCheckpoint,
} from '../src/index.js'
import type { TestPostgres } from './embedded-postgres.js'
import {
  activeIds,
  type Fleet,
  rotatableIds,
  startFleet,
  storeOf,
  testSealingKey,
  VENDORS,
} from './fleet.js'
import type { WorkerConfig } from './worker.js'
import { startWorker, type WorkerProcess } from './worker-process.js'

/**
 * A fresh database, the four emulators, DBOS's client, a pool for the tests' own reads, and
 * those reads.
 */
export interface Harness {
  url: string
  fleet: Fleet
  client: DBOSClient
  db: pg.Pool
  close(): Promise<void>
  /** The workflows under `prefix` once `count` of them ended (see `waitForEnded`). */
  ended(prefix: string, count: number): Promise<WorkflowStatus[]>
  /**
   * Every rotation of the database once the `count` of batch `batchId` ended: exactly
   * `count`, each of which succeeded.
   */
  succeeded(count: number, batchId?: string): Promise<WorkflowStatus[]>
  /** A rotation workflow's checkpoints as DBOS recorded them, as `ran` with `*` where it reopened. */
  trail(workflowId: string): Promise<Array<{ name: string; ran: string }>>
  /** What the tests' delivery target received for `oldKeyId`: each new key and its worker. */
  deliveriesFor(
    oldKeyId: string | undefined,
  ): Promise<Array<{ new_key_id: string; executor: string }>>
  /** How many secrets keyway's tables keep sealed (for a resume). */
  sealedCount(): Promise<number | undefined>
  /**
   * Digests of credentials the emulators saw (each new secret reaches its vendor when it is
   * verified) that also appear in DBOS's records (workflow inputs, outputs and errors, step
   * outputs and errors) or keyway's journal. The records are split into words and each word
   * hashed: a secret stored anywhere, whole, is found without the test holding any secret.
   */
  leakedCredentials(): Promise<string[]>
  /**
   * `run` succeeded and its new key is now the one active OpenRouter key (beside the store's
   * own credential); that key's id.
   */
  expectReplacedBy(run: WorkflowStatus | undefined): Promise<string | undefined>
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
  const ended = async (prefix: string, count: number) => {
    await waitForEnded(client, prefix, count)
    return client.listWorkflows({ workflow_id_prefix: prefix })
  }
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
    ended,
    async succeeded(count, batchId = 'nightly') {
      await waitForEnded(client, `${ROTATION_WORKFLOW_PREFIX}${batchId}/`, count)
      const runs = await client.listWorkflows({ workflow_id_prefix: ROTATION_WORKFLOW_PREFIX })
      expect(runs.map((run) => run.status)).toEqual(runs.map(() => 'SUCCESS'))
      expect(runs).toHaveLength(count)
      return runs
    },
    async trail(workflowId) {
      const steps = (await client.listWorkflowSteps(workflowId)) ?? []
      return steps.map((step) => {
        const output = step.output as RotationCheckpoint | null | undefined
        return {
          name: step.name,
          ran: output == null ? 'error' : `${output.ran}${output.reopened ? '*' : ''}`,
        }
      })
    },
    async deliveriesFor(oldKeyId) {
      const delivered = await db.query<{ new_key_id: string; executor: string }>(
        'SELECT new_key_id, executor FROM deliveries WHERE old_key_id = $1',
        [oldKeyId],
      )
      return delivered.rows
    },
    async sealedCount() {
      const sealed = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM keyway.sealed_secrets',
      )
      return sealed.rows[0]?.n
    },
    async leakedCredentials() {
      const digests = new Set<string>()
      for (const emulator of Object.values(fleet)) {
        for (const request of emulator.requests) {
          if (request.credentialDigest !== undefined) digests.add(request.credentialDigest)
        }
      }
      const rows = await db.query<{ text: string }>(
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
    },
    async expectReplacedBy(run) {
      expect(run?.status).toBe('SUCCESS')
      const newKeyId = summaryOf(run)?.newKeyId
      expect(await activeIds(storeOf(fleet, 'openrouter'))).toEqual([newKeyId])
      return newKeyId
    },
  }
}

/**
 * The states a durable rotation journals on its way to `'done'`, in order: every forward
 * state but `'switched'` (a store rotating its own credential is refused).
 */
export const JOURNALLED_STATES: readonly RotationState[] = FORWARD_STATES.filter(
  (state) => state !== 'switched',
)

/** What a rotation workflow returned (undefined while it runs or where it failed). */
export function summaryOf(run: WorkflowStatus | undefined): DurableRotationSummary | undefined {
  return run?.output as DurableRotationSummary | undefined
}

/** What every worker of a test shares, beside its executor id: set once for the test. */
export type WorkerBase = Partial<Omit<WorkerConfig, 'executorId' | 'databaseUrl'>>

/** The workers of one test, on its harness's database, each with the test's sealing key. */
export interface TestWorkers {
  readonly sealingKey: string
  /** Starts a worker (see `startWorker`) with the test's settings and `config` on top. */
  start(executorId: string, config?: WorkerBase): Promise<WorkerProcess>
  /**
   * Starts a worker that SIGKILLs itself where `config` says (`crashAt`, `crashAtTarget`);
   * `killed` waits for the kill and reads the id of the rotation it cut off.
   */
  startDoomed(
    executorId: string,
    config: WorkerBase,
  ): Promise<WorkerProcess & { killed(): Promise<string> }>
}

/**
 * Runs `test` with the workers it starts on `setup`'s database; afterwards every worker
 * still running is told to stop, and the harness is closed. `base` and `output` (where the
 * workers' logs are collected) apply to every worker.
 */
export async function withWorkers(
  setup: Pick<Harness, 'url' | 'close'>,
  test: (workers: TestWorkers) => Promise<void>,
  base: WorkerBase = {},
  output?: string[],
): Promise<void> {
  const started: WorkerProcess[] = []
  const sealingKey = base.sealingKey ?? testSealingKey()
  const start = async (executorId: string, config: WorkerBase = {}) => {
    const worker = await startWorker(
      { ...base, ...config, executorId, databaseUrl: setup.url, sealingKey } as WorkerConfig,
      output,
    )
    started.push(worker)
    return worker
  }
  const workers: TestWorkers = {
    sealingKey,
    start,
    async startDoomed(executorId, config) {
      const crashNote = join(await mkdtemp(join(tmpdir(), 'keyway-crash-')), 'rotation-id')
      const worker = await start(executorId, { ...config, crashNote })
      return {
        ...worker,
        async killed() {
          expect(await worker.exited).toBe('SIGKILL')
          return readFile(crashNote, 'utf8')
        },
      }
    },
  }
  try {
    await test(workers)
  } finally {
    const running = started.filter(
      (worker) => worker.child.exitCode === null && worker.child.signalCode === null,
    )
    await Promise.all(running.map((worker) => worker.send({ type: 'stop' }).catch(() => {})))
    await setup.close()
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

/** A test of one OpenRouter key: its harness, the worker stores for it and the test's workers. */
export interface OneKeyTest {
  setup: Harness
  stores: WorkerConfig['stores']
  keyId: string
  workers: TestWorkers
  /** Enqueues the key in batch `batchId` through `worker`; its rotation, once it ended. */
  rotate(worker: WorkerProcess, batchId: string): Promise<WorkflowStatus | undefined>
}

/**
 * Runs `test` on a harness whose only rotatable key is one OpenRouter key (see `withWorkers`:
 * its workers are stopped and the harness closed after it).
 */
export async function withOneKey(
  postgres: Pick<TestPostgres, 'url'>,
  database: string,
  test: (oneKey: OneKeyTest) => Promise<void>,
): Promise<void> {
  const setup = await startHarness(postgres, database, 1)
  await withWorkers(setup, async (workers) => {
    const keyIds = await rotatableIds(storeOf(setup.fleet, 'openrouter'))
    if (keyIds.length !== 1) throw new Error(`expected one key to rotate, found ${keyIds.length}`)
    const keyId = keyIds[0] as string
    await test({
      setup,
      stores: { openrouter: { vendor: 'openrouter', settings: setup.fleet.openrouter.settings } },
      keyId,
      workers,
      async rotate(worker, batchId) {
        await worker.send({ type: 'enqueue', batchId, label: 'openrouter', keyIds: [keyId] })
        const [run] = await setup.ended(`${ROTATION_WORKFLOW_PREFIX}${batchId}/`, 1)
        return run
      },
    })
  })
}
