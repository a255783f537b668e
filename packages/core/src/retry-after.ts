/**
 * Milliseconds to wait according to a `Retry-After` value: delay-seconds (`"120"`, `"1.5"`)
 * or an HTTP date. `undefined` when absent or unparsable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined
  const text = value.trim()
  if (text === '') return undefined
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  // An HTTP date always has a weekday or month name; this keeps "-5" from parsing as a year.
  if (!/[a-z]/i.test(text)) return undefined
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/** Milliseconds from a vendor's body field given in seconds, such as Latitude's `meta.retry_after`. */
export function secondsToMs(value: unknown): number | undefined {
  const seconds = typeof value === 'string' ? Number(value) : value
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return undefined
  return Math.round(seconds * 1000)
}
