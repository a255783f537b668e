import type { Capabilities } from '@keyway/core'
import { LIMIT_RESETS } from '@keyway/openrouter'
import { FLEET_OPTIONS } from './config/fleet-options.js'
import { parseDate } from './dates.js'
import { UsageError } from './usage-error.js'

/** Every option the CLI knows, for node:util parseArgs. */
export const OPTIONS = {
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
  // Key fields, neutral and vendor-specific.
  name: { type: 'string' },
  metadata: { type: 'string', multiple: true },
  'expires-at': { type: 'string' },
  'expires-in': { type: 'string' },
  limit: { type: 'string' },
  'limit-reset': { type: 'string' },
  'include-byok': { type: 'boolean' },
  workspace: { type: 'string' },
  guardrail: { type: 'string' },
  'read-only': { type: 'boolean' },
  'allowed-ip': { type: 'string', multiple: true },
  type: { type: 'string' },
  'key-type': { type: 'string' },
  'allowed-origin': { type: 'string', multiple: true },
  'allowed-assistant': { type: 'string', multiple: true },
  'transient-assistant': { type: 'boolean' },
  // Rotation.
  all: { type: 'boolean' },
  'deliver-to': { type: 'string' },
  journal: { type: 'string' },
  'batch-id': { type: 'string' },
  retire: { type: 'string' },
  'grace-ms': { type: 'string' },
  strategy: { type: 'string' },
  'allow-self': { type: 'boolean' },
  'credential-key-id': { type: 'string' },
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

export type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof OPTIONS)[K] extends { type: 'boolean' }
      ? boolean
      : string
}

interface FieldFlag {
  flag: keyof typeof OPTIONS
  field: string
  read: (values: Values) => unknown
}

const list = (name: keyof Values) => (values: Values) => values[name] as string[] | undefined

/** Flags that set a key field, and the field each sets. */
const FIELD_FLAGS: FieldFlag[] = [
  { flag: 'name', field: 'name', read: (values) => values.name },
  { flag: 'metadata', field: 'metadata', read: (values) => parseMetadata(values.metadata) },
  {
    flag: 'expires-at',
    field: 'expiresAt',
    read: (values) =>
      values['expires-at'] === undefined
        ? undefined
        : parseDate(values['expires-at'], '--expires-at'),
  },
  { flag: 'limit', field: 'limit', read: (values) => parseLimit(values.limit) },
  {
    flag: 'limit-reset',
    field: 'limitReset',
    read: (values) =>
      noneToNull(choice(values['limit-reset'], 'limit-reset', [...LIMIT_RESETS, 'none'])),
  },
  { flag: 'include-byok', field: 'includeByokInLimit', read: (values) => values['include-byok'] },
  {
    flag: 'workspace',
    field: 'workspaceId',
    read: (values) => nonEmpty(values.workspace, 'workspace'),
  },
  {
    flag: 'guardrail',
    field: 'guardrailId',
    read: (values) => nonEmpty(values.guardrail, 'guardrail'),
  },
  { flag: 'read-only', field: 'readOnly', read: (values) => values['read-only'] },
  { flag: 'allowed-ip', field: 'allowedIps', read: list('allowed-ip') },
  {
    flag: 'type',
    field: 'type',
    read: (values) => choice(values.type, 'type', ['sandbox', 'live']),
  },
  {
    flag: 'key-type',
    field: 'keyType',
    read: (values) => choice(values['key-type'], 'key-type', ['private', 'public']),
  },
  { flag: 'allowed-origin', field: 'allowedOrigins', read: list('allowed-origin') },
  { flag: 'allowed-assistant', field: 'allowedAssistants', read: list('allowed-assistant') },
  {
    flag: 'transient-assistant',
    field: 'transientAssistant',
    read: (values) => values['transient-assistant'],
  },
]

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
  for (const { flag, field, read } of FIELD_FLAGS) {
    const value = read(values)
    if (value === undefined) continue
    if (!allowed.includes(field)) {
      const takes = FIELD_FLAGS.filter((candidate) => allowed.includes(candidate.field)).map(
        (candidate) => `--${candidate.flag}`,
      )
      throw new UsageError(
        `--${flag} is not supported by ${vendor} ${operation}`,
        capabilities[operation] === false
          ? `${vendor} cannot ${operation} keys through its API`
          : takes.length > 0
            ? `${vendor} ${operation} takes ${takes.join(', ')}`
            : `${vendor} ${operation} takes no fields`,
      )
    }
    input[field] = value
  }
  return input
}

function parseMetadata(pairs: string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined) return undefined
  const metadata: Record<string, string> = {}
  for (const pair of pairs) {
    const index = pair.indexOf('=')
    if (index <= 0) throw new UsageError(`--metadata takes key=value, not "${shortText(pair)}"`)
    metadata[pair.slice(0, index)] = pair.slice(index + 1)
  }
  return metadata
}

/** Reads every key field flag, so a bad value is refused before any store is opened. */
export function checkFieldValues(values: Values): void {
  for (const { read } of FIELD_FLAGS) read(values)
}

/** The flag that sets a create or update field, e.g. `allowedIps` → `allowed-ip`. */
export function flagOfField(field: string): keyof typeof OPTIONS | undefined {
  return FIELD_FLAGS.find((candidate) => candidate.field === field)?.flag
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

function parseLimit(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined
  if (text === 'none') return null
  const limit = Number(text)
  if (text.trim() === '' || !Number.isFinite(limit) || limit < 0)
    throw new UsageError(
      `--limit takes a number of USD (0 or more) or "none", not "${shortText(text)}"`,
    )
  return limit
}

/** A flag's text, refused when empty (an id is never empty). */
function nonEmpty(text: string | undefined, flag: string): string | undefined {
  if (text !== undefined && text.trim() === '') throw new UsageError(`--${flag} needs a value`)
  return text
}

function noneToNull(text: string | undefined): string | null | undefined {
  return text === 'none' ? null : text
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
