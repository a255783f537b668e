import * as v from 'valibot'
import { ValidationError } from '../errors.js'

/**
 * A target's setting refused before anything is sent: a `ValidationError` saying
 * `<provider> target: invalid setting <path> (<message>)`, with that one field issue.
 */
export function invalidTargetSetting(
  provider: string,
  path: string,
  message: string,
): ValidationError {
  return new ValidationError({
    provider,
    operation: 'configure',
    message: `${provider} target: invalid setting ${path} (${message})`,
    issues: [{ path, message }],
  })
}

/**
 * Checks a target's settings against `schema` (entries it does not name are left alone) and
 * returns them checked; the first issue is thrown as `invalidTargetSetting`, with its path.
 */
export function checkTargetSettings<TSchema extends v.GenericSchema>(
  provider: string,
  schema: TSchema,
  settings: unknown,
): v.InferOutput<TSchema> {
  const parsed = v.safeParse(schema, settings)
  if (parsed.success) return parsed.output
  const issue = parsed.issues[0]
  const path = v.getDotPath(issue) ?? ''
  throw invalidTargetSetting(provider, path, issue.message)
}
