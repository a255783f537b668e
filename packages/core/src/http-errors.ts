import {
  AuthenticationError,
  ConflictError,
  type FieldIssue,
  KeyStoreError,
  type KeyStoreErrorOptions,
  NotFoundError,
  PaymentRequiredError,
  PermissionError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  ValidationError,
} from './errors.js'
import { RETRYABLE_STATUSES } from './retry-policy.js'

/** What an adapter reads out of its vendor's error body. Every field is optional. */
export interface VendorErrorDetails {
  message?: string
  /** The vendor's own error code. */
  code?: string
  /** A wait the vendor asked for in its body (e.g. Latitude's `errors[0].meta.retry_after`), in ms. */
  retryAfterMs?: number
  issues?: FieldIssue[]
  requestId?: string
}

/**
 * Reads a vendor's error body (already JSON-parsed, or the raw text when it was not JSON).
 * It may return `undefined`; core guards it, so a throw here never hides the real error.
 */
export type ErrorBodyReader = (body: unknown) => VendorErrorDetails | undefined

export interface HttpErrorInput {
  provider: string
  operation: string
  status: number
  details: VendorErrorDetails
  retryAfterMs?: number
  requestId?: string
}

/** Options every status's error takes: `issues` and `retryAfterMs` are read where they belong. */
type StatusErrorOptions = KeyStoreErrorOptions & { issues: FieldIssue[]; retryAfterMs?: number }

/** Each error status keyway names: its wording and its typed error. */
const STATUSES: Record<number, [string, new (options: StatusErrorOptions) => KeyStoreError]> = {
  400: ['bad request', ValidationError],
  401: ['authentication failed', AuthenticationError],
  402: ['payment required', PaymentRequiredError],
  403: ['permission denied', PermissionError],
  404: ['not found', NotFoundError],
  408: ['request timeout', TimeoutError],
  409: ['conflict', ConflictError],
  422: ['unprocessable input', ValidationError],
  425: ['too early', RateLimitError],
  429: ['rate limited', RateLimitError],
}

/** The typed error for an HTTP error status. Messages are built here and redacted by the caller. */
export function errorForStatus(input: HttpErrorInput): KeyStoreError {
  const { status, details } = input
  const [summary, ErrorClass] =
    STATUSES[status] ??
    (status >= 500 ? ['server error', ProviderError] : ['request failed', KeyStoreError])
  const vendorMessage = details.message?.trim().slice(0, 500)
  return new ErrorClass({
    provider: input.provider,
    operation: input.operation,
    status,
    message: `${input.provider} ${input.operation} failed: ${status} ${summary}${vendorMessage ? `: ${vendorMessage}` : ''}`,
    ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
    ...(details.code === undefined ? {} : { vendorCode: details.code }),
    // The one place an HTTP failure is marked retryable; the retry policy reads only this.
    retryable: RETRYABLE_STATUSES.has(status),
    issues: details.issues ?? [],
    ...(input.retryAfterMs === undefined ? {} : { retryAfterMs: input.retryAfterMs }),
  })
}

/** Runs an adapter's error-body reader without letting it throw or return junk. */
export function readErrorDetails(
  reader: ErrorBodyReader | undefined,
  body: unknown,
): VendorErrorDetails {
  if (reader === undefined) return genericErrorDetails(body)
  try {
    const details = reader(body)
    return typeof details === 'object' && details !== null ? details : genericErrorDetails(body)
  } catch {
    return genericErrorDetails(body)
  }
}

/** Best effort for a vendor without a reader: a top-level `message`, or a short text body. */
function genericErrorDetails(body: unknown): VendorErrorDetails {
  if (typeof body === 'string')
    return body.length > 0 && body.length <= 200 ? { message: body } : {}
  if (typeof body === 'object' && body !== null) {
    const message = (body as { message?: unknown }).message
    if (typeof message === 'string') return { message }
  }
  return {}
}
