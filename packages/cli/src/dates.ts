import { UsageError } from './usage-error.js'

const FORMAT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i

/** How dates are written on the command line, for help and errors. */
export const DATE_FORMAT =
  'YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM], UTC unless an offset is given'

/**
 * A date from a flag: ISO 8601, checked against the calendar (no 30 February, no hour 24);
 * a date or time without an offset is UTC, never the machine's local time.
 */
export function parseDate(text: string, flag: string): Date {
  const match = FORMAT.exec(text.trim())
  const refuse = (why: string): never => {
    throw new UsageError(`${flag} takes ${DATE_FORMAT}; "${text}" ${why}`)
  }
  if (match === null) return refuse('is not in that form')
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '0', zone] = match
  const parts = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const [y, mo, d, h, mi, s] = parts
  if (h > 23 || mi > 59 || s > 59) return refuse('is not a time of day')
  if (mo < 1 || mo > 12) return refuse(`has no month ${mo}`)
  const utc = new Date(Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.padEnd(3, '0'))))
  if (utc.getUTCFullYear() !== y || utc.getUTCMonth() !== mo - 1 || utc.getUTCDate() !== d)
    return refuse(`is not a day of the calendar (${monthName(mo)} ${y} has ${daysIn(y, mo)} days)`)
  return new Date(utc.getTime() - offsetMinutes(zone, refuse) * 60_000)
}

function offsetMinutes(zone: string | undefined, refuse: (why: string) => never): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0
  const digits = zone.replace(':', '')
  const hours = Number(digits.slice(1, 3))
  const minutes = Number(digits.slice(3, 5))
  if (hours > 23 || minutes > 59) refuse('has an offset beyond ±23:59')
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes)
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

function monthName(month: number): string {
  return new Date(Date.UTC(2000, month - 1, 1)).toLocaleString('en', {
    month: 'long',
    timeZone: 'UTC',
  })
}

/** A date as tables show it: UTC to the second, marked `Z`. */
export function shownDate(value: Date | null): string {
  return value === null ? '-' : `${value.toISOString().slice(0, 19).replace('T', ' ')}Z`
}
