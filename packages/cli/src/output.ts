import { stripVTControlCharacters, styleText } from 'node:util'
import type { ApiKey } from '@keyway/core'
import type { KeyColumn } from '@keyway/core/adapter'
import { shownDate } from './dates.js'

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  env: Record<string, string | undefined>
  /**
   * The clock schedules and history are measured against. Default: the system clock. For
   * programs (and tests) that run the CLI in process at a moment of their choosing.
   */
  now?: () => Date
}

type Style = Parameters<typeof styleText>[0]

/**
 * Whether output goes to a person: the stream is a terminal, or `KEYWAY_FORCE_TTY` is set
 * (as gh's `GH_FORCE_TTY`), for a pager or a test.
 */
export function isTerminal(stream: { isTTY?: boolean }, env: Io['env']): boolean {
  const forced = env.KEYWAY_FORCE_TTY
  return stream.isTTY === true || (forced !== undefined && forced !== '' && forced !== '0')
}

/** Colours only on a terminal, and never with NO_COLOR or TERM=dumb. */
export function painter(stream: { isTTY?: boolean }, env: Io['env'], disabled: boolean) {
  const enabled =
    !disabled && isTerminal(stream, env) && env.NO_COLOR === undefined && env.TERM !== 'dumb'
  return (style: Style, text: string) =>
    enabled ? styleText(style, text, { validateStream: false }) : text
}

export type Paint = ReturnType<typeof painter>

// C0 and C1 controls, DEL, and the bidi overrides that can reorder what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Vendor text (names, metadata, messages) made safe for a terminal: control characters and
 * escape sequences are shown as `\u001b`-style escapes instead of acting on the terminal.
 */
export function printable(text: string): string {
  return text.replace(
    UNPRINTABLE,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  )
}

// East Asian wide and fullwidth ranges, and emoji: two columns each on a terminal.
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u
const ZERO_WIDTH = /^(?:\p{Mn}|\p{Me}|[\u200b-\u200d]|\ufe0f)$/u

/** Columns a cell takes on screen: colour codes take none, wide characters two. */
export function visibleWidth(cell: string): number {
  let columns = 0
  for (const char of stripVTControlCharacters(cell)) {
    if (ZERO_WIDTH.test(char)) continue
    columns += WIDE.test(char) ? 2 : 1
  }
  return columns
}

/** How a table is laid out: aligned for a person, tab-separated without a header for scripts. */
export interface TableOptions {
  terminal: boolean
}

/**
 * A table. On a terminal: a bold header and columns padded by what shows on screen. Otherwise
 * (as gh): one line per row, cells separated by tabs, no header, no colour.
 */
export function table(
  headers: string[],
  rows: string[][],
  paint: Paint,
  options: TableOptions = { terminal: true },
): string {
  if (!options.terminal)
    return rows
      .map((row) => row.map((cell) => stripVTControlCharacters(cell)).join('\t'))
      .join('\n')
  const widths = headers.map((header, column) =>
    Math.max(visibleWidth(header), ...rows.map((row) => visibleWidth(row[column] ?? ''))),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1
          ? cell
          : cell + ' '.repeat(Math.max(0, (widths[column] ?? 0) - visibleWidth(cell))),
      )
      .join('  ')
      .trimEnd()
  return [paint('bold', line(headers)), ...rows.map(line)].join('\n')
}

/** What a key table shows beyond the neutral columns. */
export interface KeyTableOptions extends TableOptions {
  /** The vendor's own columns (type, limit, allowed IPs…), from its descriptor. */
  columns?: readonly KeyColumn[]
  /** Whether the vendor has expiry dates. */
  expiry?: boolean
  /** Ids of the key keyway itself authenticates with, marked on a terminal. */
  own?: ReadonlySet<string>
}

/** The shortest id prefix, at least 12 characters, that tells each listed key apart. */
function shortIds(keys: readonly ApiKey[]): (id: string) => string {
  let length = 12
  const fits = () => new Set(keys.map((key) => key.id.slice(0, length))).size === keys.length
  while (!fits() && keys.some((key) => key.id.length > length)) length += 4
  return (id) => (id.length > length + 3 ? id.slice(0, length) : id)
}

export function keyTable(keys: readonly ApiKey[], paint: Paint, options: KeyTableOptions): string {
  if (keys.length === 0) return options.terminal ? paint('dim', 'no keys') : ''
  const columns = options.columns ?? []
  const own = options.own ?? new Set<string>()
  const short = options.terminal ? shortIds(keys) : (id: string) => id
  const marked = options.terminal && keys.some((key) => own.has(key.id))
  const headers = [
    'ID',
    'NAME',
    'STATUS',
    'HINT',
    ...columns.map((column) => column.header),
    ...(options.expiry ? ['EXPIRES'] : []),
    'CREATED',
    'LAST USED',
  ]
  const text = table(
    headers,
    keys.map((key) => [
      printable(short(key.id)),
      printable(key.name ?? '-') + (marked && own.has(key.id) ? paint('cyan', ' *') : ''),
      shownStatus(key, paint),
      printable(key.hint ?? '-'),
      ...columns.map((column) => printable(column.cell(key))),
      ...(options.expiry ? [shownDate(key.expiresAt)] : []),
      shownDate(key.createdAt),
      shownDate(key.lastUsedAt),
    ]),
    paint,
    options,
  )
  return marked ? `${text}\n${paint('dim', '* the key keyway is using as its credential')}` : text
}

/**
 * A key's status as a person needs it: the vendor's, and `expired` too for an active key whose
 * expiry has passed (it no longer works, though its vendor may still list it as active).
 */
export function shownStatus(key: ApiKey, paint: Paint, now: Date = new Date()): string {
  if (key.status === 'expired') return paint('red', 'expired')
  if (key.status !== 'active') return paint('yellow', key.status)
  const expires = key.expiresAt === null ? Number.NaN : new Date(key.expiresAt).getTime()
  return expires <= now.getTime() ? paint('red', 'expired') : paint('green', 'active')
}

/** One key as labelled lines, metadata included. */
export function keyDetails(key: ApiKey, paint: Paint, columns: readonly KeyColumn[] = []): string {
  const rows: Array<[string, string]> = [
    ['provider', key.provider],
    ['id', printable(key.id)],
    ['name', printable(key.name ?? '-')],
    ['status', shownStatus(key, (_style, text) => text)],
    ['hint', printable(key.hint ?? '-')],
    ...columns.map((column): [string, string] => [
      column.header.toLowerCase(),
      printable(column.cell(key)),
    ]),
    ['created', shownDate(key.createdAt)],
    ['updated', shownDate(key.updatedAt)],
    ['last used', shownDate(key.lastUsedAt)],
    ['expires', shownDate(key.expiresAt)],
    ...Object.entries(key.metadata).map(([name, value]): [string, string] => [
      `metadata.${printable(name)}`,
      printable(value),
    ]),
  ]
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `${paint('dim', label.padEnd(width))}  ${value}`).join('\n')
}

/** JSON for scripts: dates as ISO strings (JSON's own rendering of Date). */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2)
}
