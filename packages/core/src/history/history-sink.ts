import { mkdir, open, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { HistoryEntry } from './history-entry.js'

/**
 * Where history goes: append only. A sink never rewrites, reorders or prunes what it holds;
 * `append` resolves once the entry is kept.
 */
export interface HistorySink {
  /** Adds one entry after every earlier one; never rewrites or removes any. */
  append(entry: HistoryEntry): Promise<void>
}

/** History in memory, for tests and short-lived processes. */
export function memoryHistory(): HistorySink & { entries: HistoryEntry[] } {
  const entries: HistoryEntry[] = []
  return {
    entries,
    append: async (entry) => {
      entries.push(structuredClone(entry))
    },
  }
}

/**
 * History as a JSON-lines file, one entry a line, opened for appending (`O_APPEND`) for each
 * entry, so several processes add lines without overwriting each other and nothing is ever
 * rewritten or pruned. The file is readable by its owner only.
 */
export function jsonLinesHistory(path: string): HistorySink & { path: string } {
  let ready: Promise<unknown> | undefined
  return {
    path,
    async append(entry) {
      ready ??= mkdir(dirname(path), { recursive: true, mode: 0o700 })
      await ready
      const handle = await open(path, 'a', 0o600)
      try {
        await handle.appendFile(`${JSON.stringify(entry)}\n`, 'utf8')
        await handle.datasync()
      } finally {
        await handle.close()
      }
    },
  }
}

/**
 * The entries of a JSON-lines history file, oldest first; `[]` when there is no file. A line
 * that is not an entry (a torn last line after a crash) is skipped.
 */
export async function readHistory(path: string): Promise<HistoryEntry[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const entries: HistoryEntry[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      const entry = JSON.parse(line) as HistoryEntry
      if (typeof entry?.change === 'string' && typeof entry.action === 'string') entries.push(entry)
    } catch {
      // A line cut short by a crash: the entries before and after it still count.
    }
  }
  return entries
}

/** One change as history tells it: its attempt and, when it settled, its outcome. */
export interface HistoryChange {
  attempt: HistoryEntry
  /** `undefined`: the process ended between the two, so the change may or may not have happened. */
  outcome: HistoryEntry | undefined
}

/** Pairs each attempt with its outcome, oldest first. */
export function historyChanges(entries: readonly HistoryEntry[]): HistoryChange[] {
  const outcomes = new Map<string, HistoryEntry>()
  for (const entry of entries) if (entry.phase === 'outcome') outcomes.set(entry.change, entry)
  return entries
    .filter((entry) => entry.phase === 'attempt')
    .map((attempt) => ({ attempt, outcome: outcomes.get(attempt.change) }))
}
