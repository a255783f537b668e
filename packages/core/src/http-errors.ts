import {
  AuthenticationError,
  ConflictError,
  type FieldIssue,
  KeyStoreError,
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

const statusText: Record<number, string> = {
  400: 'bad request',
  401: 'authentication failed',
  402: 'payment required',
  403: 'permission denied',
  404: 'not found',
  408: 'request timeout',
  409: 'conflict',
  422: 'unprocessable input',
  425: 'too early',
  429: 'rate limited',
}

/** The typed error for an HTTP error status. Messages are built here and redacted by the caller. */
export function errorForStatus(input: HttpErrorInput): KeyStoreError {
  const { status, details } = input
  const summary = statusText[status] ?? (status >= 500 ? 'server error' : 'request failed')
  const vendorMessage = details.message?.trim().slice(0, 500)
  const options = {
    provider: input.provider,
    operation: input.operation,
    status,
    message: `${input.provider} ${input.operation} failed: ${status} ${summary}${vendorMessage ? `: ${vendorMessage}` : ''}`,
    ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
    ...(details.code === undefined ? {} : { vendorCode: details.code }),
    // The one place an HTTP failure is marked retryable; the retry policy reads only this.
    retryable: RETRYABLE_STATUSES.has(status),
  }
  switch (status) {
    case 400:
    case 422:
      return new ValidationError({ ...options, issues: details.issues ?? [] })
    case 401:
      return new AuthenticationError(options)
    case 402:
      return new PaymentRequiredError(options)
    case 403:
      return new PermissionError(options)
    case 404:
      return new NotFoundError(options)
    case 408:
      return new TimeoutError(options)
    case 409:
      return new ConflictError(options)
    case 425:
    case 429:
      return new RateLimitError({
        ...options,
        ...(input.retryAfterMs === undefined ? {} : { retryAfterMs: input.retryAfterMs }),
      })
    default:
      if (status >= 500) {
        return new ProviderError(options)
      }
      return new KeyStoreError(options)
  }
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
