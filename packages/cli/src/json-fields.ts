import { didYouMean } from './suggest.js'
import { UsageError } from './usage-error.js'

/** The fields of a key in `--json` output, as `ApiKey` has them. */
export const KEY_FIELDS = [
  'provider',
  'id',
  'name',
  'status',
  'hint',
  'createdAt',
  'updatedAt',
  'lastUsedAt',
  'expiresAt',
  'metadata',
  'raw',
] as const

/**
 * `--json=id,name` (gh's field selection): the arguments with it turned into a plain
 * `--json`, and the fields asked for, checked.
 */
export function splitJsonFields(argv: readonly string[]): {
  args: string[]
  fields: string[] | undefined
} {
  let fields: string[] | undefined
  const args = argv.map((arg) => {
    const match = /^--json=(.*)$/.exec(arg)
    if (match === null) return arg
    fields = (match[1] ?? '').split(',').map((field) => field.trim())
    for (const field of fields)
      if (!(KEY_FIELDS as readonly string[]).includes(field))
        throw new UsageError(
          `--json has no field "${field}"`,
          didYouMean(field, KEY_FIELDS, `fields: ${KEY_FIELDS.join(', ')}`),
        )
    return '--json'
  })
  return { args, fields }
}

/** A key, or a list of keys, with only the fields asked for (all when none were). */
export function selectFields<T extends object>(value: T | T[], fields: string[] | undefined) {
  if (fields === undefined) return value
  const pick = (item: T) =>
    Object.fromEntries(fields.map((field) => [field, (item as Record<string, unknown>)[field]]))
  return Array.isArray(value) ? value.map(pick) : pick(value)
}
