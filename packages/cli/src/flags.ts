import type { Capabilities } from '@keyway/core'
import { fieldTakenBy, type KeyField, type KeyFieldOperation } from '@keyway/core/adapter'
import { FLEET_OPTIONS } from './config/fleet-options.js'
import { DATE_FORMAT, parseDate } from './dates.js'
import { PROVIDERS } from './providers.js'
import { UsageError } from './usage-error.js'

/** The options the CLI itself defines; vendor field and setting flags come from descriptors. */
const CLI_OPTIONS = {
  provider: { type: 'string', short: 'p' },
  json: { type: 'boolean' },
  emulator: { type: 'boolean' },
  debug: { type: 'boolean' },
  color: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  yes: { type: 'boolean', short: 'y' },
  'include-disabled': { type: 'boolean' },
  timeout: { type: 'string' },
  // The key fields every store shares.
  name: { type: 'string' },
  metadata: { type: 'string', multiple: true },
  'expires-at': { type: 'string' },
  'expires-in': { type: 'string' },
  // Rotation.
  all: { type: 'boolean' },
  'deliver-to': { type: 'string' },
  journal: { type: 'string' },
  'batch-id': { type: 'string' },
  retire: { type: 'string' },
  'grace-ms': { type: 'string' },
  strategy: { type: 'string' },
  'allow-self': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  concurrency: { type: 'string' },
  'var-name': { type: 'string' },
  // Emulators.
  port: { type: 'string' },
  dotenv: { type: 'string' },
  background: { type: 'boolean' },
  // keyway audit, plan and apply.
  ...FLEET_OPTIONS,
  // History: where changes are recorded, and keyway history's filters.
  history: { type: 'string' },
  'database-url': { type: 'string' },
  key: { type: 'string' },
  since: { type: 'string' },
  action: { type: 'string' },
  outcome: { type: 'string' },
  // keyway revoke.
  hint: { type: 'string' },
  sha256: { type: 'string' },
  now: { type: 'boolean' },
} as const

/** One option as node:util parseArgs takes it. */
export interface ArgOption {
  readonly type: 'string' | 'boolean'
  readonly multiple?: boolean
  readonly short?: string
}

type OptionValue<O> = O extends { multiple: true }
  ? string[]
  : O extends { type: 'boolean' }
    ? boolean
    : string

/** The flags as parseArgs read them; a vendor's own flags by their names. */
export type Values = {
  [K in keyof typeof CLI_OPTIONS]?: OptionValue<(typeof CLI_OPTIONS)[K]>
} & { [flag: string]: string | boolean | string[] | undefined }

/** A key field as a flag, and the vendor whose descriptor declares it (none: every store's). */
export interface FieldFlag {
  readonly field: KeyField
  readonly vendor?: string
}

/** The fields every store shares, read by the CLI's own parsers. */
const COMMON_FIELDS: readonly KeyField[] = [
  {
    field: 'name',
    flag: 'name',
    kind: 'text',
    value: 'name',
    help: 'the key name',
    // `rotate --name` selects keys by name; a successor keeps its key's name.
    operations: ['create', 'update'],
  },
  {
    field: 'metadata',
    flag: 'metadata',
    kind: 'list',
    value: 'key=value',
    help: 'a metadata entry',
  },
  {
    field: 'expiresAt',
    flag: 'expires-at',
    kind: 'date',
    help: `expiry: ${DATE_FORMAT}`,
    operations: ['create', 'rotate'],
  },
]

/** Every field flag: the shared ones, then each vendor's, in the registry's order. */
export const FIELD_FLAGS: readonly FieldFlag[] = [
  ...COMMON_FIELDS.map((field) => ({ field })),
  ...Object.values(PROVIDERS).flatMap((provider) =>
    (provider.fields ?? []).map((field) => ({ field, vendor: provider.id })),
  ),
]

/** A vendor's store setting given by a flag, e.g. Voiceable's `--credential-key-id`. */
export const SETTING_FLAGS = Object.values(PROVIDERS).flatMap((provider) =>
  (provider.settingFlags ?? []).map((setting) => ({ setting, vendor: provider.id })),
)

function optionOf(field: KeyField): ArgOption {
  if (field.kind === 'switch') return { type: 'boolean' }
  return field.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' }
}

/**
 * The vendors' flags for parseArgs. Two vendors may share a flag when it reads the same way;
 * a flag that clashes with the CLI's own or reads two ways is a mistake in a descriptor.
 */
function vendorOptions(): Record<string, ArgOption> {
  const options: Record<string, ArgOption> = {}
  const add = (flag: string, option: ArgOption, vendor: string) => {
    const known = (CLI_OPTIONS as Record<string, ArgOption>)[flag] ?? options[flag]
    if (Object.hasOwn(CLI_OPTIONS, flag) || (known !== undefined && known.type !== option.type))
      throw new TypeError(
        `${vendor}'s descriptor declares --${flag}, which the CLI already reads otherwise`,
      )
    if (known !== undefined && Boolean(known.multiple) !== Boolean(option.multiple))
      throw new TypeError(
        `${vendor}'s descriptor declares --${flag}, which the CLI already reads otherwise`,
      )
    options[flag] = option
  }
  for (const { field, vendor } of FIELD_FLAGS) if (vendor) add(field.flag, optionOf(field), vendor)
  for (const { setting, vendor } of SETTING_FLAGS) add(setting.flag, { type: 'string' }, vendor)
  return options
}

/** Every option the CLI knows, for node:util parseArgs. */
export const OPTIONS: typeof CLI_OPTIONS & Readonly<Record<string, ArgOption>> = {
  ...CLI_OPTIONS,
  ...vendorOptions(),
}

/** The field flags `operation` takes, `vendor`'s own after the shared ones; every vendor's without one. */
export function fieldFlags(operation: KeyFieldOperation, vendor?: string): FieldFlag[] {
  return FIELD_FLAGS.filter(
    (flag) =>
      fieldTakenBy(flag.field, operation) &&
      (vendor === undefined || flag.vendor === undefined || flag.vendor === vendor),
  )
}

/**
 * One entry per flag name, read as `vendor` reads it where its descriptor declares the flag,
 * else as the first vendor that does (to refuse it with that vendor's words).
 */
function flagsFor(vendor: string | undefined): FieldFlag[] {
  const chosen = new Map<string, FieldFlag>()
  for (const flag of FIELD_FLAGS) {
    const known = chosen.get(flag.field.flag)
    if (known === undefined || (known.vendor !== vendor && flag.vendor === vendor))
      chosen.set(flag.field.flag, flag)
  }
  return [...chosen.values()]
}

/** A field flag's value as the store takes it; `undefined` when not given. */
function readField({ field }: FieldFlag, values: Values): unknown {
  const given = values[field.flag]
  if (given === undefined) return undefined
  if (field.field === 'metadata') return parseMetadata(given as string[])
  if (field.field === 'name') return given
  switch (field.kind) {
    case 'switch':
    case 'list':
      return given
    case 'text':
      return nonEmpty(given as string, field.flag)
    case 'date':
      return parseDate(given as string, `--${field.flag}`)
    case 'choice': {
      const choices = field.none ? [...field.choices, 'none'] : field.choices
      const text = choice(given as string, field.flag, choices)
      return field.none && text === 'none' ? null : text
    }
    case 'number':
      return parseNumber(given as string, field)
  }
}

/**
 * The create or update input the flags describe, refusing (as a usage error) any flag whose
 * field the vendor does not take.
 */
export function fieldInput(
  values: Values,
  capabilities: Capabilities,
  operation: 'create' | 'update',
  vendor: string,
): Record<string, unknown> {
  // `false`: the vendor has no such operation, so no field flag applies.
  const allowed = capabilities[operation] || []
  const input: Record<string, unknown> = {}
  const flags = flagsFor(vendor)
  const takes = (flag: FieldFlag) =>
    (flag.vendor === undefined || flag.vendor === vendor) && allowed.includes(flag.field.field)
  for (const flag of flags) {
    const value = readField(flag, values)
    if (value === undefined) continue
    if (!takes(flag)) {
      const taken = flags.filter(takes).map((candidate) => `--${candidate.field.flag}`)
      throw new UsageError(
        `--${flag.field.flag} is not supported by ${vendor} ${operation}`,
        capabilities[operation] === false
          ? `${vendor} cannot ${operation} keys through its API`
          : taken.length > 0
            ? `${vendor} ${operation} takes ${taken.join(', ')}`
            : `${vendor} ${operation} takes no fields`,
      )
    }
    input[flag.field.field] = value
  }
  return input
}

/** The store settings given by flags for `vendor`, refusing a setting flag of another vendor. */
export function settingInput(values: Values, vendor: string): Record<string, string> {
  const settings: Record<string, string> = {}
  for (const { setting, vendor: owner } of SETTING_FLAGS) {
    const given = values[setting.flag]
    if (typeof given !== 'string') continue
    if (owner !== vendor) {
      const owners = SETTING_FLAGS.filter((other) => other.setting.flag === setting.flag)
      if (owners.some((other) => other.vendor === vendor)) continue
      throw new UsageError(
        `--${setting.flag} is for --provider ${owners.map((other) => other.vendor).join(', ')} only`,
        `${vendor} takes no such setting`,
      )
    }
    settings[setting.setting] = given
  }
  return settings
}

function parseMetadata(pairs: string[]): Record<string, string> {
  const metadata: Record<string, string> = {}
  for (const pair of pairs) {
    const index = pair.indexOf('=')
    if (index <= 0) throw new UsageError(`--metadata takes key=value, not "${shortText(pair)}"`)
    metadata[pair.slice(0, index)] = pair.slice(index + 1)
  }
  return metadata
}

/**
 * Reads every key field flag given, so a bad value is refused before any store is opened;
 * a flag that vendors read differently is read as `vendor` reads it.
 */
export function checkFieldValues(values: Values, vendor?: string): void {
  for (const flag of flagsFor(vendor)) readField(flag, values)
}

/** The flag that sets a create or update field, e.g. `allowedIps` → `allowed-ip`. */
export function flagOfField(field: string, vendor?: string): string | undefined {
  const matches = FIELD_FLAGS.filter((candidate) => candidate.field.field === field)
  return (
    matches.find((candidate) => candidate.vendor === vendor || candidate.vendor === undefined) ??
    matches[0]
  )?.field.flag
}

/** A flag's value, which must be one of `choices`. */
export function choice(
  text: string | undefined,
  flag: string,
  choices: readonly string[],
): string | undefined {
  if (text === undefined || choices.includes(text)) return text
  throw new UsageError(`--${flag} takes ${choices.join(', ')}, not "${shortText(text)}"`)
}

function parseNumber(text: string, field: KeyField & { kind: 'number' }): number | null {
  if (field.none && text === 'none') return null
  const number = Number(text)
  const min = field.min ?? Number.NEGATIVE_INFINITY
  if (text.trim() === '' || !Number.isFinite(number) || number < min) {
    const unit = field.unit === undefined ? '' : ` of ${field.unit}`
    const least = field.min === undefined ? '' : ` (${field.min} or more)`
    throw new UsageError(
      `--${field.flag} takes a number${unit}${least}${field.none ? ' or "none"' : ''}, not "${shortText(text)}"`,
    )
  }
  return number
}

/** A flag's text, refused when empty (an id is never empty). */
function nonEmpty(text: string, flag: string): string {
  if (text.trim() === '') throw new UsageError(`--${flag} needs a value`)
  return text
}

/** A value as an error quotes it: at most 40 characters, so a pasted file is never echoed whole. */
export function shortText(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}… (${text.length} characters)`
}

/** A whole number from a flag: at least `min` (default 0); `fallback` where the flag is absent. */
export function wholeNumber(
  text: string | undefined,
  flag: string,
  fallback: number,
  min = 0,
): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0)
    throw new UsageError(`--${flag} takes a whole number, not "${text}"`)
  if (value < min) throw new UsageError(`--${flag} takes a whole number of at least ${min}`)
  return value
}

/** A shell-style glob (`*` and `?`) as a RegExp over the whole name. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`)
}
