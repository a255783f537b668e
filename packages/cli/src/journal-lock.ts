import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { CliError } from './cli-error.js'

/** The lock of a journal: a file beside it, made exclusively by the run that holds it. */
export function journalLockPath(journalPath: string): string {
  return `${journalPath}.lock`
}

/** Who holds a lock: what the lock file says. */
interface LockOwner {
  pid: number
  host: string
  since: string
}

/**
 * Runs `work` holding the journal's lock, so that no other keyway run reads or writes the
 * journal and its `.accounts.json` meanwhile: each of their writes reads the file, changes it
 * and writes it back, and two runs doing that at once would lose each other's records. A second
 * run is refused at once, before anything is sent, naming the lock and its holder.
 *
 * The lock file names its process and host. A run that was killed (so its `finally` never
 * ran) leaves it behind; on the same host a lock whose process is gone is taken over, so
 * resuming after a crash needs no clean-up. A lock from another host is never guessed at.
 */
export async function withJournalLock<T>(journalPath: string, work: () => Promise<T>): Promise<T> {
  const lockPath = journalLockPath(journalPath)
  await mkdir(dirname(lockPath), { recursive: true })
  await acquire(journalPath, lockPath)
  try {
    return await work()
  } finally {
    await unlink(lockPath).catch(() => {
      // Already gone: nothing is left to release.
    })
  }
}

async function acquire(journalPath: string, lockPath: string): Promise<void> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
  let holder: LockOwner | undefined
  for (const attempt of [1, 2]) {
    try {
      // `wx`: made only if no file is there, atomically, even between processes.
      await writeFile(lockPath, `${JSON.stringify(owner)}\n`, { flag: 'wx', mode: 0o600 })
      return
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error
    }
    const text = await readFile(lockPath, 'utf8').catch(() => undefined)
    // Released in between: try again.
    if (text === undefined) continue
    holder = ownerOf(text)
    if (attempt === 1 && holder !== undefined && isGone(holder) && (await takeOver(lockPath, text)))
      continue
    break
  }
  const who =
    holder === undefined
      ? 'another keyway run'
      : `another keyway run (process ${holder.pid} on ${holder.host}, since ${holder.since})`
  throw new CliError(
    'JournalLocked',
    `the journal ${journalPath} is in use by ${who}: it holds the lock ${lockPath}; nothing was sent`,
    {
      hint: `wait for that run to finish, then run this again; if no keyway run is going${holder === undefined ? '' : ` (process ${holder.pid} is gone)`}, remove ${lockPath}`,
    },
  )
}

function ownerOf(text: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>
    if (
      typeof parsed.pid === 'number' &&
      typeof parsed.host === 'string' &&
      typeof parsed.since === 'string'
    )
      return { pid: parsed.pid, host: parsed.host, since: parsed.since }
  } catch {
    // Half written, or not keyway's: held, by someone this run cannot name.
  }
  return undefined
}

/** Whether the holder's process has ended: known only on this host. */
function isGone(holder: LockOwner): boolean {
  if (holder.host !== hostname() || holder.pid === process.pid) return false
  try {
    process.kill(holder.pid, 0)
    return false
  } catch (error) {
    // EPERM: the process exists, as another user's.
    return (error as { code?: string }).code === 'ESRCH'
  }
}

/**
 * Moves a dead run's lock aside, atomically. If another run took it over first (what was moved
 * is not what was read), that run's lock is put back and this one does not go ahead.
 */
async function takeOver(lockPath: string, seen: string): Promise<boolean> {
  const aside = `${lockPath}.${process.pid}.stale`
  try {
    await rename(lockPath, aside)
  } catch {
    return false
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined)
  if (moved !== seen) {
    await link(aside, lockPath).catch(() => {})
    await unlink(aside).catch(() => {})
    return false
  }
  await unlink(aside).catch(() => {})
  return true
}
