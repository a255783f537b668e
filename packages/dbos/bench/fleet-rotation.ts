// Benchmark: a batch of keys over the four emulators, rotated by one DBOS worker and then by
// two, on an embedded Postgres. Latitude's documented limits (60 reads and 20 writes a
// minute) hold at its emulator, time-scaled; the others document none. Reports the wall time
// against the rate-limit floor (the least time Latitude's limits allow for the requests the
// batch sent there) and checks that no key was rotated twice. Results: bench/results.json.
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { DBOSClient } from '@dbos-inc/dbos-sdk'
import pg from 'pg'
import { ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { startTestPostgres } from '../test/embedded-postgres.js'
import {
  rotatableIds,
  startFleet,
  storeOf,
  testSealingKey,
  VENDORS,
  writesOverall,
} from '../test/fleet.js'
import { startWorker, type WorkerProcess } from '../test/worker-process.js'

const KEYS = Number(process.env.KEYWAY_BENCH_KEYS ?? 1000)
/** One vendor minute lasts 0.6 s. */
const TIME_SCALE = 0.01
const WINDOW_MS = 60_000 * TIME_SCALE
const LATITUDE = { reads: 60, writes: 20 }

interface RunResult {
  workers: number
  keys: number
  wallMs: number
  floorMs: number
  ratio: number
  latitude: { reads: number; writes: number }
  /** Create and delete requests sent (a request refused with 429 and sent again counts twice). */
  createRequests: number
  deleteRequests: number
  /** Keys the vendors hold after the batch beyond those before it: 0 when nothing was left over. */
  leftOver: number
  deliveries: number
  duplicates: number
  failed: number
}

async function run(workers: number, postgres: Awaited<ReturnType<typeof startTestPostgres>>) {
  const url = await postgres.url(`bench_${workers}`)
  const perVendor = Math.ceil(KEYS / VENDORS.length)
  const fleet = await startFleet({ seedKeys: perVendor, timeScale: TIME_SCALE })
  const before: Record<string, string[]> = {}
  for (const vendor of VENDORS) before[vendor] = await rotatableIds(storeOf(fleet, vendor))
  const heldBefore = VENDORS.reduce((sum, vendor) => sum + fleet[vendor].control.keyIds().length, 0)
  const baseline = Object.fromEntries(
    VENDORS.map((vendor) => [vendor, fleet[vendor].requests.length]),
  )
  const sealingKey = testSealingKey()
  // Latitude: a rotation writes three times (create, settle the new key's name, delete); its
  // queue starts no more rotations a window than the write limit allows, across every worker.
  const stores = Object.fromEntries(
    VENDORS.map((vendor) => [
      vendor,
      {
        vendor,
        settings: fleet[vendor].settings,
        limits:
          vendor === 'latitudesh'
            ? {
                rateLimit: {
                  limitPerPeriod: Math.floor(LATITUDE.writes / 3),
                  periodSec: WINDOW_MS / 1000,
                },
                workerConcurrency: 8,
              }
            : { workerConcurrency: 16 },
      },
    ]),
  )
  const processes: WorkerProcess[] = []
  for (let index = 0; index < workers; index++) {
    processes.push(
      await startWorker({ executorId: `bench-${index}`, databaseUrl: url, sealingKey, stores }),
    )
  }
  const client = await DBOSClient.create({ systemDatabaseUrl: url })
  const total = VENDORS.reduce((sum, vendor) => sum + (before[vendor]?.length ?? 0), 0)
  const started = performance.now()
  for (const vendor of VENDORS) {
    await processes[0]?.send({
      type: 'enqueue',
      batchId: 'bench',
      label: vendor,
      keyIds: before[vendor] as string[],
    })
  }
  for (;;) {
    const done = await client.listWorkflows({
      workflow_id_prefix: `${ROTATION_WORKFLOW_PREFIX}bench/`,
      status: ['SUCCESS', 'ERROR'],
      loadInput: false,
      loadOutput: false,
    })
    if (done.length >= total) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const wallMs = performance.now() - started
  const failed = (
    await client.listWorkflows({ workflow_id_prefix: ROTATION_WORKFLOW_PREFIX, status: 'ERROR' })
  ).length
  const latitudeRequests = fleet.latitudesh.requests.slice(baseline.latitudesh)
  const writes = latitudeRequests.filter((request) => request.method !== 'GET').length
  const reads = latitudeRequests.length - writes
  // The first window is free; each further full window of requests costs one window.
  const floorMs =
    Math.max(Math.ceil(writes / LATITUDE.writes) - 1, Math.ceil(reads / LATITUDE.reads) - 1, 0) *
    WINDOW_MS
  const db = new pg.Pool({ connectionString: url, max: 1 })
  // The cluster stops at the end while idle connections may still be closing.
  db.on('error', () => {})
  const rows = (
    await db.query<{ old_key_id: string; n: number }>(
      'SELECT old_key_id, count(DISTINCT new_key_id)::int AS n FROM deliveries GROUP BY old_key_id',
    )
  ).rows
  const deliveries =
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM deliveries')).rows[0]?.n ?? 0
  await db.end()
  const { creates: createRequests, deletes: deleteRequests } = writesOverall(fleet)
  const heldAfter = VENDORS.reduce((sum, vendor) => sum + fleet[vendor].control.keyIds().length, 0)
  let replaced = 0
  for (const vendor of VENDORS) {
    const now = await rotatableIds(storeOf(fleet, vendor))
    replaced += (before[vendor] as string[]).filter((id) => !now.includes(id)).length
  }
  await Promise.all(processes.map((worker) => worker.send({ type: 'stop' }).catch(() => {})))
  await client.destroy()
  await Promise.all(VENDORS.map((vendor) => fleet[vendor].close()))
  const result: RunResult = {
    workers,
    keys: total,
    wallMs: Math.round(wallMs),
    floorMs: Math.round(floorMs),
    ratio: Math.round((wallMs / floorMs) * 100) / 100,
    latitude: { reads, writes },
    createRequests,
    deleteRequests,
    leftOver: heldAfter - heldBefore + (total - replaced),
    deliveries,
    duplicates:
      rows.filter((row) => row.n !== 1).length +
      (rows.length === total ? 0 : Math.abs(total - rows.length)),
    failed,
  }
  return result
}

const postgres = await startTestPostgres()
const results: RunResult[] = []
try {
  for (const workers of [1, 2]) {
    const result = await run(workers, postgres)
    results.push(result)
    console.log(
      `${result.workers} worker(s): ${result.keys} keys in ${result.wallMs} ms; Latitude floor ${result.floorMs} ms (${result.ratio}x); create requests ${result.createRequests}, delete requests ${result.deleteRequests}, left over ${result.leftOver}, deliveries ${result.deliveries}, duplicates ${result.duplicates}, failed ${result.failed}`,
    )
  }
} finally {
  await postgres.stop()
}
await writeFile(
  fileURLToPath(new URL('./results.json', import.meta.url)),
  `${JSON.stringify({ timeScale: TIME_SCALE, latitudeLimits: LATITUDE, results }, null, 2)}\n`,
)
const clean = results.every(
  (result) =>
    result.duplicates === 0 &&
    result.failed === 0 &&
    result.leftOver === 0 &&
    result.deliveries === result.keys,
)
if (!clean) {
  console.error('duplicates or failures: see bench/results.json')
  process.exitCode = 1
}
