import type { BaseStoreSettings } from '@keyway/core'
import { DEFAULT_TIMEOUT_MS, defaultRetryOptions } from '@keyway/core/adapter'
import type { Values } from './flags.js'
import { printable } from './output.js'
import { closest } from './suggest.js'
import { UsageError } from './usage-error.js'

const UNITS = { ms: 1, s: 1000, m: 60_000 } as const
type Unit = keyof typeof UNITS

/** Each attempt's time limit without `--timeout`: the stores' own default, for help. */
export const DEFAULT_TIMEOUT = `${DEFAULT_TIMEOUT_MS / 1000}s`

/** How durations are written on the command line, for help and errors. */
export const DURATION_FORMAT = 'a duration such as 1500ms, 30s or 2m'

// The longest a timer can wait (about 24.8 days); a longer one would fire at once.
const MAX_MS = 2_147_483_647

// Spellings people write for the units, for the hint.
const UNIT_SPELLINGS: Readonly<Record<string, Unit>> = {
  msec: 'ms',
  msecs: 'ms',
  millisecond: 'ms',
  milliseconds: 'ms',
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
}

const HOURS = ['h', 'hr', 'hrs', 'hour', 'hours']

/**
 * A duration from a flag or env var: `1500ms`, `30s`, `2m` (decimals allowed: `1.5s`), above 0.
 * A bare number or a unit spelt out is refused with the spelling that works as the hint.
 */
export function parseDuration(text: string, where: string): number {
  const trimmed = text.trim()
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(trimmed)
  const refuse = (hint?: string): never => {
    throw new UsageError(`${where} takes ${DURATION_FORMAT}, not "${printable(text)}"`, hint)
  }
  if (match === null) return refuse()
  const [, amount = '', written = ''] = match
  const unit = written.toLowerCase()
  if (!(unit in UNITS)) {
    const spelt = (value: string) =>
      where.startsWith('-') ? `${where} ${value}` : `${where}=${value}`
    if (HOURS.includes(unit)) return refuse(`did you mean ${spelt(`${Number(amount) * 60}m`)}?`)
    const meant =
      unit === ''
        ? 's'
        : (UNIT_SPELLINGS[unit] ??
          (unit.length > 1 ? closest(unit, Object.keys(UNITS)) : undefined))
    return refuse(meant === undefined ? undefined : `did you mean ${spelt(`${amount}${meant}`)}?`)
  }
  const ms = Math.round(Number(amount) * UNITS[unit as Unit])
  if (ms <= 0) return refuse('a time limit must be above 0')
  if (ms > MAX_MS) return refuse('at most 24 days')
  return ms
}

/**
 * The store settings for `--timeout` (else `KEYWAY_TIMEOUT`): each attempt's time limit, and
 * a deadline long enough for every attempt to use it, so a long limit is not cut short by the
 * default deadline. Empty when neither is given. A bad value is a `UsageError`.
 */
export function timeoutSettings(
  values: Values,
  env: Record<string, string | undefined>,
): Pick<BaseStoreSettings, 'timeoutMs' | 'retry'> {
  const fromEnv = env.KEYWAY_TIMEOUT
  const timeoutMs =
    values.timeout !== undefined
      ? parseDuration(values.timeout, '--timeout')
      : fromEnv !== undefined && fromEnv !== ''
        ? parseDuration(fromEnv, 'KEYWAY_TIMEOUT')
        : undefined
  if (timeoutMs === undefined) return {}
  const { attempts, maxDelayMs, deadlineMs } = defaultRetryOptions
  const needed = attempts * timeoutMs + (attempts - 1) * maxDelayMs
  return { timeoutMs, retry: { deadlineMs: Math.min(MAX_MS, Math.max(deadlineMs, needed)) } }
}
