import { resolveCredential } from '../credentials.js'
import { NotFoundError, ProviderError, ValidationError } from '../errors.js'
import { createHttpClient } from '../http-client.js'
import type { HttpClient, HttpClientSettings } from '../http-types.js'
import type { TargetConfirmContext } from './delivery-target.js'
import { pollUntil } from './poll-until.js'

/**
 * A target's setting refused before anything is sent: a `ValidationError` saying
 * `<provider> target: invalid setting <path> (<message>)`, with that one field issue.
 */
export function invalidTargetSetting(
  provider: string,
  path: string,
  message: string,
): ValidationError {
  return new ValidationError({
    provider,
    operation: 'configure',
    message: `${provider} target: invalid setting ${path} (${message})`,
    issues: [{ path, message }],
  })
}

/** What `tokenHttpClient` takes beside the target's settings. */
export interface TokenClientSettings extends Omit<HttpClientSettings, 'headers' | 'secrets'> {
  /** The env var that holds the token where the `token` setting is absent. */
  envVar: string
  /** The headers sent with every request, built from the token. */
  headers: (token: string) => Record<string, string>
}

/**
 * The HTTP client of a target that authenticates with one token: the `token` setting, else
 * `client.envVar` (a `ValidationError` where neither holds one), sent in `client.headers` on
 * every request and scrubbed from every error and event.
 */
export function tokenHttpClient(settings: object, client: TokenClientSettings): HttpClient {
  const { envVar, headers, ...http } = client
  const token = resolveCredential({ provider: http.provider, settings, setting: 'token', envVar })
  return createHttpClient({ ...http, headers: headers(token), secrets: [token] })
}

/**
 * The error of a confirm that found the target not holding what was written: a
 * `ProviderError` saying `<provider> confirm: <message>`.
 */
export function confirmFailed(provider: string, message: string): ProviderError {
  return new ProviderError({
    provider,
    operation: 'confirm',
    message: `${provider} confirm: ${message}`,
  })
}

/**
 * Checks until `check` gives a value or the confirm's deadline passes (`pollUntil`, with
 * the context's deadline and signal); then a `TimeoutError` saying
 * `<provider> confirm: <what> by the deadline`.
 */
export function confirmUntil<T>(
  provider: string,
  context: TargetConfirmContext,
  wait: { intervalMs: number; what: string },
  check: () => Promise<T | undefined>,
): Promise<T> {
  return pollUntil(check, {
    deadline: context.deadline,
    intervalMs: wait.intervalMs,
    signal: context.signal,
    provider,
    operation: 'confirm',
    what: wait.what,
  })
}

/** What `read` gives, or `undefined` where it throws a `NotFoundError`; other errors pass. */
export async function unlessNotFound<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof NotFoundError) return undefined
    throw error
  }
}
