import { type KeyStoreError, NetworkError, TimeoutError } from './errors.js'
import { findErrorCode, type Redactor, sanitizeCause } from './redact.js'

/** Error codes that prove a request never left this machine. */
const BEFORE_SEND_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
])

/** Where a failure happened, for its message. */
export interface FailureContext {
  provider: string
  operation: string
}

/**
 * The `NetworkError` for what fetch (or a body read) threw: `'before-send'` when its code
 * proves nothing was sent, otherwise `'ambiguous'`. The cause keeps only name, code and a
 * redacted message.
 */
export function networkError(
  thrown: unknown,
  context: FailureContext,
  redactor: Redactor,
): KeyStoreError {
  const { provider, operation } = context
  const code = findErrorCode(thrown)
  const phase = code !== undefined && BEFORE_SEND_CODES.has(code) ? 'before-send' : 'ambiguous'
  const suffix = code ? ` (${code})` : ''
  return new NetworkError({
    provider,
    operation,
    phase,
    retryable: true,
    message:
      phase === 'before-send'
        ? `${provider} ${operation}: could not connect${suffix}`
        : `${provider} ${operation}: connection lost; the request may have been processed${suffix}`,
    cause: sanitizeCause(thrown, redactor),
  })
}

/** One attempt ran out of its time limit; the request may have been processed. */
export function attemptTimeout(context: FailureContext): TimeoutError {
  return new TimeoutError({
    ...context,
    retryable: true,
    message: `${context.provider} ${context.operation}: no response within the attempt's time limit`,
  })
}

/** The whole call ran out of its deadline; not retried. */
export function deadlineError(context: FailureContext, deadlineMs: number): TimeoutError {
  return new TimeoutError({
    ...context,
    message: `${context.provider} ${context.operation}: gave up after the ${deadlineMs} ms deadline`,
  })
}
