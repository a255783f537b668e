import { stripVTControlCharacters, styleText } from 'node:util'
import type { ApiKey } from '@keyway/core'

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  env: Record<string, string | undefined>
}

type Style = Parameters<typeof styleText>[0]

/** Colours only on a terminal, and never with NO_COLOR or TERM=dumb. */
export function painter(stream: { isTTY?: boolean }, env: Io['env'], disabled: boolean) {
  const enabled =
    !disabled && stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb'
  return (style: Style, text: string) => (enabled ? styleText(style, text) : text)
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

/** Columns a cell takes on screen: colour codes take none. */
const width = (cell: string) => stripVTControlCharacters(cell).length

/** A plain text table: a header and padded columns (padding ignores colour codes). */
export function table(headers: string[], rows: string[][], paint: Paint): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => width(row[column] ?? ''))),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1
          ? cell
          : cell + ' '.repeat(Math.max(0, (widths[column] ?? 0) - width(cell))),
      )
      .join('  ')
      .trimEnd()
  return [paint('bold', line(headers)), ...rows.map(line)].join('\n')
}

const date = (value: Date | null) =>
  value === null ? '-' : value.toISOString().slice(0, 19).replace('T', ' ')

export function keyTable(keys: readonly ApiKey[], paint: Paint): string {
  if (keys.length === 0) return paint('dim', 'no keys')
  return table(
    ['ID', 'NAME', 'STATUS', 'HINT', 'CREATED', 'LAST USED'],
    keys.map((key) => [
      printable(key.id),
      printable(key.name ?? '-'),
      key.status === 'active' ? paint('green', 'active') : paint('yellow', 'disabled'),
      printable(key.hint ?? '-'),
      date(key.createdAt),
      date(key.lastUsedAt),
    ]),
    paint,
  )
}

/** One key as labelled lines, metadata included. */
export function keyDetails(key: ApiKey, paint: Paint): string {
  const rows: Array<[string, string]> = [
    ['provider', key.provider],
    ['id', printable(key.id)],
    ['name', printable(key.name ?? '-')],
    ['status', key.status],
    ['hint', printable(key.hint ?? '-')],
    ['created', date(key.createdAt)],
    ['updated', date(key.updatedAt)],
    ['last used', date(key.lastUsedAt)],
    ['expires', date(key.expiresAt)],
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
