import * as v from 'valibot'
import { ValidationError } from './errors.js'
import { plainObject, stringRecord } from './plain-object.js'
import { refusingParser } from './valibot-issues.js'

/** Where an input check happens, for the error it throws. */
export interface InputContext {
  provider: string
  operation: string
}

/** Longest id any supported vendor uses, with room to spare. */
const MAX_ID_LENGTH = 256

/**
 * Checks an id before it goes into a URL path: a non-empty string of printable characters
 * that cannot change the path (no `/`, `\`, `%`, `?`, `#`, whitespace, and not `.` or `..`),
 * matching the vendor's own pattern where one is given, and holding no secret `isSecret`
 * knows (a credential or a key's secret pasted where an id belongs). Returns it URL-encoded.
 * The error never quotes the id.
 */
export function encodeId(
  id: unknown,
  context: InputContext,
  pattern?: RegExp,
  isSecret?: (text: string) => boolean,
): string {
  const problem = idProblem(id, pattern, isSecret)
  if (problem !== undefined) {
    throw new ValidationError({
      ...context,
      message: `${context.provider} ${context.operation}: invalid key id (${problem})`,
      issues: [{ path: 'id', message: problem }],
    })
  }
  return encodeURIComponent(id as string)
}

function idProblem(
  id: unknown,
  pattern: RegExp | undefined,
  isSecret: ((text: string) => boolean) | undefined,
): string | undefined {
  if (typeof id !== 'string') return 'expected a string'
  if (id.length === 0) return 'empty'
  // First, so that the only thing said about a secret is that it is one.
  if (isSecret?.(id) === true) return 'holds a secret (a credential or a key), not a key id'
  if (id.length > MAX_ID_LENGTH) return `longer than ${MAX_ID_LENGTH} characters`
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (/[\u0000-\u001f\u007f\s]/.test(id)) return 'contains whitespace or control characters'
  if (/[/\\%?#]/.test(id)) return 'contains a path or URL character'
  if (id === '.' || id === '..') return 'is a relative path segment'
  if (pattern !== undefined && !pattern.test(id)) return "does not look like this vendor's key id"
  return undefined
}

/**
 * Checks caller input against a valibot schema before anything is sent. A mismatch is a
 * `ValidationError` with field issues; the input's values are not quoted.
 */
export const validateInput = refusingParser<InputContext>(
  ValidationError,
  'invalid input',
  '(input)',
)

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1'])

/**
 * Parses a base URL, refusing anything but https, except on loopback (emulators, tests).
 * Returns it without a trailing slash.
 */
export function resolveBaseUrl(baseUrl: string, context: InputContext): string {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw invalidBaseUrl(context, 'not a URL')
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw invalidBaseUrl(context, 'must use https (plain http is allowed on loopback only)')
  }
  if (url.username || url.password) throw invalidBaseUrl(context, 'must not carry credentials')
  if (url.search || url.hash) throw invalidBaseUrl(context, 'must not have a query or fragment')
  return url.href.replace(/\/+$/, '')
}

function invalidBaseUrl(context: InputContext, problem: string): ValidationError {
  return new ValidationError({
    ...context,
    message: `${context.provider}: baseUrl ${problem}`,
    issues: [{ path: 'baseUrl', message: problem }],
  })
}

/** Longest name keyway sends; vendors may allow less. */
export const MAX_NAME_LENGTH = 256

/**
 * `name`, `metadata` and `expiresAt` as every adapter checks them before adding its own
 * rules. The input and its metadata must be plain objects; reserved field names such as
 * `constructor` or `__proto__` are refused, never dropped.
 */
export const baseCreateInputSchema = plainObject({
  name: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(MAX_NAME_LENGTH))),
  metadata: v.optional(stringRecord),
  expiresAt: v.optional(
    v.pipe(
      v.date(),
      v.check((date) => !Number.isNaN(date.getTime()), 'a valid date'),
    ),
  ),
})

/** `name`, `status` and `metadata` as every adapter checks them before adding its own rules. */
export const baseUpdateInputSchema = plainObject({
  name: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(MAX_NAME_LENGTH))),
  status: v.optional(v.picklist(['active', 'disabled', 'archived'])),
  metadata: v.optional(stringRecord),
})

/** An environment variable, where the runtime has them. */
export function readEnv(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.[name]
  return value === '' ? undefined : value
}
