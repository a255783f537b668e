import type * as v from 'valibot'
import { ResponseValidationError } from './errors.js'
import { parseOrThrow, summarizeIssues } from './valibot-issues.js'

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
  return parseOrThrow(
    schema,
    body,
    (issues) =>
      new ResponseValidationError({
        provider: context.provider,
        operation: context.operation,
        ...(context.status === undefined ? {} : { status: context.status }),
        message: `${context.provider} ${context.operation}: unexpected response shape (${summarizeIssues(issues, '(body)')})`,
        issues,
      }),
  )
}
