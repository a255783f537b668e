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
 * `now` (a key without a creation date never matches), `status` defaults to `'active'`.
 */
export function matchesSelector(key: ApiKey, selector: KeySelector, now: Date): boolean {
  const status = selector.status ?? 'active'
  if (status !== 'any' && key.status !== status) return false
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
