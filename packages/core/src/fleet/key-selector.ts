import type { ApiKey } from '../types.js'
import type { KeySelector } from './fleet-types.js'

/** A day in milliseconds. */
export const DAY_MS = 86_400_000

/** A date's time, for keys whose dates went through JSON (strings); `null` when absent or invalid. */
export function timeOf(date: Date | string | null | undefined): number | null {
  if (date === null || date === undefined) return null
  const time = new Date(date).getTime()
  return Number.isNaN(time) ? null : time
}

/** `*` any run of characters, `?` one, everything else literal; the whole name must match. */
export function globPattern(glob: string): RegExp {
  const body = [...glob]
    .map((char) => {
      if (char === '*') return '.*'
      if (char === '?') return '.'
      return char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')
    })
    .join('')
  return new RegExp(`^${body}$`, 's')
}

/**
 * Whether a fleet manages `key` under `selector`: every field given must match. `name` is a
 * glob (`*`, `?`; a nameless key never matches), `olderThanDays` counts from `createdAt` to
 * `now` (a key without a creation date never matches), `status` defaults to `'active'`, which
 * also matches a key that was active until its expiry passed (`'expired'`).
 */
export function matchesSelector(key: ApiKey, selector: KeySelector, now: Date): boolean {
  const status = selector.status ?? 'active'
  const shown = key.status === 'expired' ? 'active' : key.status
  if (status !== 'any' && shown !== status) return false
  if (selector.name !== undefined) {
    if (key.name === null || !globPattern(selector.name).test(key.name)) return false
  }
  if (selector.workspace !== undefined && key.workspace !== selector.workspace) return false
  if (selector.olderThanDays !== undefined) {
    const created = timeOf(key.createdAt)
    if (created === null || now.getTime() - created < selector.olderThanDays * DAY_MS) return false
  }
  return true
}

/**
 * Whether no name can match both globs (`*`, `?` as in `KeySelector.name`); `false` whenever
 * that cannot be proven. Every name a glob matches starts with the text before its first
 * wildcard and ends with the text after its last, so two globs whose fixed starts (or ends)
 * are not prefixes (or suffixes) of one another match no name in common.
 */
export function globsCannotOverlap(first: string, second: string): boolean {
  const a = fixedEnds(first)
  const b = fixedEnds(second)
  const startsClash = !a.start.startsWith(b.start) && !b.start.startsWith(a.start)
  const endsClash = !a.end.endsWith(b.end) && !b.end.endsWith(a.end)
  return startsClash || endsClash
}

function fixedEnds(glob: string): { start: string; end: string } {
  const chars = [...glob]
  const isWildcard = (char: string) => char === '*' || char === '?'
  const first = chars.findIndex(isWildcard)
  if (first < 0) return { start: glob, end: glob }
  const last = chars.findLastIndex(isWildcard)
  return { start: chars.slice(0, first).join(''), end: chars.slice(last + 1).join('') }
}
