import type * as v from 'valibot'
import { ResponseValidationError } from './errors.js'
import { parseOrRefuse } from './valibot-issues.js'

/** Where a response is parsed, for the error a mismatch throws. */
export interface ParseContext {
  provider: string
  operation: string
  status?: number
}

/**
 * Checks a vendor's response body against a valibot schema. A mismatch is a
 * `ResponseValidationError` naming the issue paths, never quoting the body.
 */
export function parseResponse<TSchema extends v.GenericSchema>(
  schema: TSchema,
  body: unknown,
  context: ParseContext,
): v.InferOutput<TSchema> {
  return parseOrRefuse(schema, body, {
    context,
    problem: 'unexpected response shape',
    whole: '(body)',
    error: ResponseValidationError,
  })
}
