import type { ApiKey } from '../types.js'

/** A key's creation time as the journal keeps it (ISO), or `null` where the vendor does not say. */
export function createdAtOf(key: Pick<ApiKey, 'createdAt'> | null | undefined): string | null {
  if (key?.createdAt === null || key?.createdAt === undefined) return null
  // A key that went through JSON holds its dates as strings.
  const time = new Date(key.createdAt).getTime()
  return Number.isNaN(time) ? null : new Date(time).toISOString()
}

/**
 * Whether a key found under a journalled id was made at another time than the journal says:
 * then it is another key that shares the id (a journal of another account, where ids can
 * repeat), and nothing may be done to it. `false` where either side does not say.
 */
export function madeAtAnotherTime(
  journalled: string | null | undefined,
  key: Pick<ApiKey, 'createdAt'> | null | undefined,
): boolean {
  const found = createdAtOf(key)
  if (journalled === null || journalled === undefined || found === null) return false
  const recorded = Date.parse(journalled)
  if (Number.isNaN(recorded)) return false
  return !sameInstant(recorded, Date.parse(found))
}

/** Equal, or equal to the second where one reading gives whole seconds only. */
function sameInstant(a: number, b: number): boolean {
  if (a === b) return true
  const wholeSeconds = a % 1000 === 0 || b % 1000 === 0
  return wholeSeconds && Math.floor(a / 1000) === Math.floor(b / 1000)
}
