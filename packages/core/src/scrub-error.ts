import { KeyStoreError } from './errors.js'
import type { Redactor } from './redact.js'

/**
 * Last line of defence before an error leaves the HTTP client: scrubs every known secret
 * from its message, its issue paths and messages, its stack, and every other text it holds
 * (an unsupported `feature` names a field the caller gave). Returns the same error.
 */
export function scrubError(error: KeyStoreError, redactor: Redactor): KeyStoreError {
  error.message = redactor.redact(error.message)
  const withIssues = error as KeyStoreError & {
    issues?: Array<{ path: string; message: string }>
  }
  if (Array.isArray(withIssues.issues)) {
    for (const issue of withIssues.issues) {
      issue.path = redactor.redact(issue.path)
      issue.message = redactor.redact(issue.message)
    }
  }
  if (error.stack !== undefined) error.stack = redactor.redact(error.stack)
  const fields = error as unknown as Record<string, unknown>
  for (const field of Object.keys(fields)) {
    const value = fields[field]
    if (typeof value === 'string') fields[field] = redactor.redact(value)
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      fields[field] = value.map((item) => redactor.redact(item))
    }
  }
  return error
}

/**
 * `scrubError` for an error and each error down its cause chain (a rotation's error carries
 * the store's as its cause). Anything that is not an error is returned as it is.
 */
export function scrubErrorChain<T>(error: T, redactor: Redactor): T {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (KeyStoreError.is(current)) scrubError(current, redactor)
    else {
      current.message = redactor.redact(current.message)
      if (current.stack !== undefined) current.stack = redactor.redact(current.stack)
    }
    current = current.cause
  }
  return error
}
