import type { Values } from '../flags.js'
import { lifetimeDays } from '../lifetime.js'
import { printable } from '../output.js'
import { UsageError } from '../usage-error.js'
import { FINDING_KINDS, type FleetConfig } from './config-schema.js'
import { CONFIG_FILE } from './load-config.js'

/** A finding kind of an audit. */
export type FindingKind = (typeof FINDING_KINDS)[number]

/** What `keyway audit` fails on when neither a flag, an env var nor the file says. */
export const DEFAULT_FAIL_ON: readonly FindingKind[] = [
  'too-old',
  'unused',
  'expiring-soon',
  'no-limit-or-expiry',
  'disabled',
]

/** One setting that a flag, an env var and the config file can each give. */
interface Source<T> {
  flag: keyof Values
  env: string
  parse: (text: string, where: string) => T
}

/**
 * The settings a flag or env var can override, as in Doppler's CLI: a flag beats an env var,
 * which beats the config file. `--config`/`KEYWAY_CONFIG` name the file itself.
 */
export const OVERRIDES = {
  journal: { flag: 'journal', env: 'KEYWAY_JOURNAL', parse: text },
  failOn: { flag: 'fail-on', env: 'KEYWAY_FAIL_ON', parse: findingKinds },
  maxAgeDays: { flag: 'max-age-days', env: 'KEYWAY_MAX_AGE_DAYS', parse: wholeNumber(1) },
  unusedDays: { flag: 'unused-days', env: 'KEYWAY_UNUSED_DAYS', parse: wholeNumber(1) },
  expiringWithinDays: {
    flag: 'expiring-within-days',
    env: 'KEYWAY_EXPIRING_WITHIN_DAYS',
    parse: wholeNumber(0),
  },
  retire: { flag: 'retire', env: 'KEYWAY_RETIRE', parse: retireMode },
  graceMs: { flag: 'grace-ms', env: 'KEYWAY_GRACE_MS', parse: wholeNumber(0) },
  concurrency: { flag: 'concurrency', env: 'KEYWAY_CONCURRENCY', parse: wholeNumber(1) },
  expiresInDays: { flag: 'expires-in', env: 'KEYWAY_EXPIRES_IN', parse: lifetimeDays },
} satisfies Record<string, Source<unknown>>

type Env = Record<string, string | undefined>

/** The value of a flag, else of its env var (an empty env var counts as unset), else `undefined`. */
export function override<T>(source: Source<T>, values: Values, env: Env): T | undefined {
  const flag = values[source.flag]
  if (typeof flag === 'string') return source.parse(flag, `--${source.flag}`)
  const fromEnv = env[source.env]
  if (fromEnv !== undefined && fromEnv !== '') return source.parse(fromEnv, source.env)
  return undefined
}

/** The config file: `--config`, else `KEYWAY_CONFIG`, else `keyway.config.json` here. */
export function configPath(values: Values, env: Env): string {
  return values.config ?? (env.KEYWAY_CONFIG || CONFIG_FILE)
}

/** The stores to work on: `--store` (repeatable or comma-separated), else `KEYWAY_STORE`, else all. */
export function storeLabels(values: Values, env: Env): string[] | undefined {
  const given = values.store ?? (env.KEYWAY_STORE ? [env.KEYWAY_STORE] : undefined)
  if (given === undefined) return undefined
  return given.flatMap((part) => part.split(',').map((label) => label.trim())).filter(Boolean)
}

/** The audit policy: the file's, with flags and env vars on top. */
export function policyOf(config: FleetConfig, values: Values, env: Env) {
  const policy = { ...config.policy }
  for (const field of ['maxAgeDays', 'unusedDays', 'expiringWithinDays'] as const) {
    const given = override(OVERRIDES[field], values, env)
    if (given !== undefined) policy[field] = given
  }
  return policy
}

/** The finding kinds that make `keyway audit` fail. */
export function failOnOf(config: FleetConfig, values: Values, env: Env): readonly FindingKind[] {
  return override(OVERRIDES.failOn, values, env) ?? config.failOn ?? DEFAULT_FAIL_ON
}

function text(value: string, where: string): string {
  if (value.trim() === '') throw new UsageError(`${where} needs a value`)
  return value
}

function wholeNumber(minimum: number) {
  return (value: string, where: string): number => {
    const number = Number(value)
    if (value.trim() === '' || !Number.isInteger(number) || number < minimum)
      throw new UsageError(
        `${where} takes a whole number of at least ${minimum}, not "${printable(value)}"`,
      )
    return number
  }
}

function retireMode(value: string, where: string): 'delete' | 'disable' | 'keep' {
  if (value === 'delete' || value === 'disable' || value === 'keep') return value
  throw new UsageError(`${where} takes delete, disable or keep, not "${printable(value)}"`)
}

/** `too-old,unused`, `any` (every kind) or `none`. */
function findingKinds(value: string, where: string): FindingKind[] {
  const trimmed = value.trim()
  if (trimmed === 'none') return []
  if (trimmed === 'any') return [...FINDING_KINDS]
  const kinds = trimmed.split(',').map((kind) => kind.trim())
  for (const kind of kinds) {
    if (!(FINDING_KINDS as readonly string[]).includes(kind))
      throw new UsageError(
        `${where} takes finding kinds, "any" or "none", not "${printable(kind)}"`,
        `kinds: ${FINDING_KINDS.join(', ')}`,
      )
  }
  return kinds as FindingKind[]
}
