import { type KeyStoreError, NetworkError, TimeoutError } from './errors.js'
import { findErrorCode, type Redactor, sanitizeCause } from './redact.js'

/**
 * Codes of a TLS handshake that failed, mostly a server certificate this machine does not
 * trust (self-signed, another host's name, expired). Undici sends a request only once its
 * connection is up, so none of these can come after a request byte was sent.
 */
export const TLS_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
])

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
  ...TLS_FAILURE_CODES,
])

/** Where a failure happened, for its message. */
export interface FailureContext {
  provider: string
  operation: string
}

/**
 * The `NetworkError` for what fetch (or a body read) threw: `'before-send'` when its code
 * proves nothing was sent, otherwise `'ambiguous'`. The cause keeps only name, code and a
 * redacted message. A certificate fetch does not trust, or a port fetch refuses to use, fails
 * the same way every time, so it is not retried.
 */
export function networkError(
  thrown: unknown,
  context: FailureContext,
  redactor: Redactor,
): KeyStoreError {
  const { provider, operation } = context
  const code = findErrorCode(thrown)
  const cause = sanitizeCause(thrown, redactor)
  const failure = `${provider} ${operation}:`
  const beforeSend = (message: string, retryable: boolean) =>
    new NetworkError({
      provider,
      operation,
      phase: 'before-send',
      retryable,
      message: `${failure} ${message}; nothing was sent`,
      cause,
    })
  if (code !== undefined && TLS_FAILURE_CODES.has(code)) {
    return beforeSend(`the TLS handshake failed (${code})`, false)
  }
  if (code !== undefined && BEFORE_SEND_CODES.has(code)) {
    return beforeSend(`could not connect (${code})`, true)
  }
  if (code === undefined && isBadPort(thrown)) {
    return beforeSend(
      'fetch refuses to connect to this port (a "bad port", such as 1, 22, 25 or 6000)',
      false,
    )
  }
  const suffix = code ? ` (${code})` : ''
  return new NetworkError({
    provider,
    operation,
    phase: 'ambiguous',
    retryable: true,
    message: `${failure} connection lost; the request may have been processed${suffix}`,
    cause,
  })
}

/**
 * Whether fetch refused the URL's port outright: the Fetch standard blocks ports of other
 * protocols (1, 22, 25, 6000…), and undici says so only with a cause whose message is
 * "bad port", with no code.
 */
function isBadPort(thrown: unknown): boolean {
  let current: unknown = thrown
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if ((current as { message?: unknown }).message === 'bad port') return true
    current = (current as { cause?: unknown }).cause
  }
  return false
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
