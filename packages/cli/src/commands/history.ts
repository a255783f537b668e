import { existsSync } from 'node:fs'
import {
  HISTORY_ACTIONS,
  type HistoryAction,
  type HistoryChange,
  type HistoryEntry,
  historyChanges,
  readHistory,
} from '@keyway/core'
import { CliError } from '../cli-error.js'
import { configPath } from '../config/fleet-settings.js'
import { CONFIG_FILE, loadConfig } from '../config/load-config.js'
import type { Context } from '../context.js'
import { parseDate } from '../dates.js'
import { historyPath } from '../history-file.js'
import { json, printable, table } from '../output.js'
import { vendorFor } from '../providers.js'
import { UsageError } from '../usage-error.js'

const OUTCOMES = ['succeeded', 'failed', 'unknown'] as const
type Outcome = (typeof OUTCOMES)[number]

/** One change as `keyway history --json` prints it. */
export interface ShownChange {
  change: string
  action: HistoryAction
  provider: string
  store: string
  account: HistoryEntry['account']
  keyId: string | null
  target: string | null
  batchId: string | null
  rotationId: string | null
  step: string | null
  /** `'unknown'`: the process ended between the attempt and its outcome. */
  outcome: Outcome
  errorCode: string | null
  startedAt: string
  endedAt: string | null
  actor: HistoryEntry['actor']
}

/**
 * `keyway history`: every change keyway recorded, oldest first, filtered by store, vendor,
 * key, batch, time, action and outcome; a table, or `--json` for scripts.
 */
export async function history(context: Context): Promise<void> {
  const { values } = context
  if (context.positionals.length > 0)
    throw new UsageError(
      `unexpected argument "${context.positionals[0]}"`,
      'run keyway help history',
    )
  const keep = filters(context)
  const database = values['database-url'] ?? context.io.env.KEYWAY_DATABASE_URL
  const path =
    database === undefined || database === ''
      ? historyPath(context, await configured(context))
      : undefined
  const entries =
    path === undefined ? await postgresHistory(database as string) : await readHistory(path)
  const shown = historyChanges(entries).map(shownChange).filter(keep)
  if (values.json) {
    context.out(json(shown))
    return
  }
  if (shown.length === 0) {
    context.note(
      `no changes recorded${keep === all ? '' : ' that match'} in ${path ?? 'the history table'}`,
    )
    return
  }
  const rows = shown.map((change) => [
    change.startedAt.replace(/\.\d+Z$/, 'Z'),
    change.action,
    change.store,
    change.keyId ?? '-',
    change.target ?? '-',
    change.batchId ?? '-',
    outcomeText(change, context),
    'worker' in change.actor ? change.actor.worker : `${change.actor.user}@${change.actor.host}`,
  ])
  context.out(
    table(
      ['TIME', 'ACTION', 'STORE', 'KEY', 'TARGET', 'BATCH', 'OUTCOME', 'BY'],
      rows.map((row) => row.map(printable)),
      context.paint,
      { terminal: context.terminal },
    ),
  )
}

const all = () => true

/**
 * The history `@keyway/dbos` workers keep in Postgres (its `keyway.history` table), read
 * through that package, which the CLI loads only for this. Errors name what failed, never the
 * URL (it may hold a password).
 */
async function postgresHistory(url: string): Promise<HistoryEntry[]> {
  let dbos: typeof import('@keyway/dbos')
  try {
    dbos = await import('@keyway/dbos')
  } catch {
    throw new UsageError(
      '--database-url reads the history of @keyway/dbos workers, and @keyway/dbos is not installed',
      'install @keyway/dbos beside @keyway/cli',
    )
  }
  try {
    return await dbos.readPostgresHistory(url)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === '42P01' || code === '3F000')
      throw new CliError(
        'HistoryUnreadable',
        'that database has no keyway.history table: no @keyway/dbos worker has started there',
      )
    throw new CliError(
      'HistoryUnreadable',
      `the history table could not be read (${typeof code === 'string' ? code : 'no connection'})`,
      { hint: 'check --database-url (or KEYWAY_DATABASE_URL) and that Postgres is reachable' },
    )
  }
}

/**
 * The config's `history`, where a config names one: `--config` or `KEYWAY_CONFIG` (which must
 * load), else `keyway.config.json` here if there is one.
 */
async function configured(
  context: Context,
): Promise<{ folder: string; path?: string } | undefined> {
  const explicit = context.values.config ?? context.io.env.KEYWAY_CONFIG
  if (!explicit && !existsSync(CONFIG_FILE)) return undefined
  const loaded = await loadConfig(configPath(context.values, context.io.env), process.cwd())
  return {
    folder: loaded.folder,
    ...(loaded.config.history === undefined ? {} : { path: loaded.config.history }),
  }
}

function shownChange({ attempt, outcome }: HistoryChange): ShownChange {
  return {
    change: attempt.change,
    action: attempt.action,
    provider: attempt.provider,
    store: attempt.store,
    account: attempt.account,
    keyId: outcome?.keyId ?? attempt.keyId,
    target: attempt.target,
    batchId: attempt.batchId,
    rotationId: attempt.rotationId,
    step: attempt.step,
    outcome: outcome?.outcome ?? 'unknown',
    errorCode: outcome?.errorCode ?? null,
    startedAt: attempt.at,
    endedAt: outcome?.at ?? null,
    actor: attempt.actor,
  }
}

function outcomeText(change: ShownChange, context: Context): string {
  if (change.outcome === 'succeeded') return context.paint('green', 'succeeded')
  if (change.outcome === 'failed')
    return context.paint('red', `failed (${change.errorCode ?? '?'})`)
  return context.paint('yellow', 'unknown outcome')
}

/** The filters the flags ask for, each checked before the file is read. */
function filters(context: Context): (change: ShownChange) => boolean {
  const { values } = context
  const checks: Array<(change: ShownChange) => boolean> = []
  const labels = values.store?.flatMap((part) => part.split(',').map((label) => label.trim()))
  if (labels !== undefined) checks.push((change) => labels.includes(change.store))
  if (values.provider !== undefined) {
    const vendor = vendorFor(values.provider)
    checks.push((change) => change.provider === vendor)
  }
  const key = values.key
  if (key !== undefined) checks.push((change) => change.keyId === key)
  const batchId = values['batch-id']
  if (batchId !== undefined) checks.push((change) => change.batchId === batchId)
  if (values.since !== undefined) {
    const since = sinceTime(values.since)
    checks.push((change) => Date.parse(change.startedAt) >= since)
  }
  if (values.action !== undefined) {
    const actions = listOf(values.action, HISTORY_ACTIONS, '--action')
    checks.push((change) => actions.includes(change.action))
  }
  if (values.outcome !== undefined) {
    const outcomes = listOf(values.outcome, OUTCOMES, '--outcome')
    checks.push((change) => outcomes.includes(change.outcome))
  }
  return checks.length === 0 ? all : (change) => checks.every((check) => check(change))
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const

/** `--since`: a date, or a time back from now (`90m`, `12h`, `7d`, `2w`). */
function sinceTime(text: string): number {
  const match = /^(\d+)\s*([mhdw])$/i.exec(text.trim())
  if (match === null) {
    if (/^\d+\s*[a-z]+$/i.test(text.trim()))
      throw new UsageError(
        `--since takes a date or a time such as 90m, 12h, 7d or 2w, not "${printable(text)}"`,
      )
    return parseDate(text, '--since').getTime()
  }
  const unit = (match[2] ?? 'd').toLowerCase() as keyof typeof UNIT_MS
  return Date.now() - Number(match[1]) * UNIT_MS[unit]
}

function listOf<T extends string>(text: string, known: readonly T[], flag: string): T[] {
  const given = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
  const unknown = given.filter((part) => !known.includes(part as T))
  if (given.length === 0 || unknown.length > 0)
    throw new UsageError(
      `${flag} takes ${known.join(', ')}${unknown.length > 0 ? `, not "${printable(unknown.join(','))}"` : ''}`,
    )
  return given as T[]
}
