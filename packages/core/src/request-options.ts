import * as v from 'valibot'
import { ValidationError } from './errors.js'
import { isPlainObject, plainObject } from './plain-object.js'
import type { ApiKey } from './types.js'
import { summarizeIssues, toFieldIssues } from './valibot-issues.js'
import type { InputContext } from './validate.js'

const signal = v.optional(v.instance(AbortSignal))

/** `RequestOptions`: an optional `AbortSignal`. */
export const requestOptionsSchema = plainObject({ signal })

/** `ListOptions`: a signal and `includeDisabled`. */
export const listOptionsSchema = plainObject({ signal, includeDisabled: v.optional(v.boolean()) })

/** `CredentialKeyIdsOptions`: a signal and keys the caller already listed. */
export const credentialKeyIdsOptionsSchema = plainObject({
  signal,
  among: v.optional(v.array(v.custom<ApiKey>(isPlainObject, 'expected a key from list()'))),
})

/** `CreateOptions`: a signal and a marker (its format is checked by `checkMarker`). */
export const createOptionsSchema = plainObject({
  signal,
  marker: v.optional(v.string()),
  onMade: v.optional(v.function()),
})

/**
 * Checks the options of a store method before anything is sent: `undefined` or a plain
 * object of known types. A bad one is a `ValidationError` naming the option.
 */
export function checkOptions<TSchema extends v.GenericSchema>(
  schema: TSchema,
  options: unknown,
  context: InputContext,
): v.InferOutput<TSchema> {
  if (options === undefined) return {} as v.InferOutput<TSchema>
  const result = v.safeParse(schema, options)
  if (result.success && isPlainObject(options)) return result.output
  const issues = result.success
    ? [{ path: '', message: 'expected a plain object' }]
    : toFieldIssues(result.issues)
  throw new ValidationError({
    ...context,
    message: `${context.provider} ${context.operation}: invalid options (${summarizeIssues(issues, 'options')})`,
    issues,
  })
}
