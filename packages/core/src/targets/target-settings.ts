import * as v from 'valibot'
import { invalidTargetSetting } from './target-kit.js'

/**
 * The checks of the timing settings a target takes: `confirmWithinMs` (a whole number of ms,
 * at least 1) and `confirmIntervalMs` (a whole number of ms, at least 0), both optional.
 */
export const confirmTimingEntries = {
  confirmWithinMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  confirmIntervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
}

/**
 * Checks a target's settings against `schema` (entries it does not name are left alone) and
 * returns them checked; the first issue is thrown as `invalidTargetSetting`, its message
 * followed by `; <hint>` where `hints` has one for its path (such as the env var to set).
 */
export function checkTargetSettings<TSchema extends v.GenericSchema>(
  provider: string,
  schema: TSchema,
  settings: unknown,
  hints: Readonly<Record<string, string>> = {},
): v.InferOutput<TSchema> {
  const parsed = v.safeParse(schema, settings)
  if (parsed.success) return parsed.output
  const issue = parsed.issues[0]
  const path = v.getDotPath(issue) ?? ''
  const hint = Object.hasOwn(hints, path) ? `; ${hints[path]}` : ''
  throw invalidTargetSetting(provider, path, `${issue.message}${hint}`)
}
