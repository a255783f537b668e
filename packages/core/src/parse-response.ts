import { ResponseValidationError } from './errors.js'
import { refusingParser } from './valibot-issues.js'

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
export const parseResponse = refusingParser<ParseContext>(
  ResponseValidationError,
  'unexpected response shape',
  '(body)',
)
