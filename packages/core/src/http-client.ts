import pRetryImport from 'p-retry'
import type * as v from 'valibot'
import { settingOrEnv } from './credentials.js'
import { defaultExport } from './default-export.js'
import { type KeyStoreError, RateLimitError, ValidationError } from './errors.js'
import { errorForStatus, readErrorDetails } from './http-errors.js'
import {
  type BaseStoreSettings,
  DEFAULT_TIMEOUT_MS,
  type HttpClient,
  type HttpClientSettings,
  type HttpHooks,
  type HttpRequest,
  type HttpResponse,
  type ParsedBody,
} from './http-types.js'
import { attemptTimeout, deadlineError, networkError } from './network-errors.js'
import { parseResponse } from './parse-response.js'
import { resolveReconcileOptions } from './reconcile-options.js'
import { Redactor } from './redact.js'
import { parseRetryAfter } from './retry-after.js'
import {
  alreadyDone,
  mayHaveTakenEffect,
  resolveRetryOptions,
  retryDelay,
  retryOperationOf,
} from './retry-policy.js'
import { Scheduler } from './scheduler.js'
import { scrubError } from './scrub-error.js'
import { Secret } from './secret.js'
import { sendAttempt } from './send-attempt.js'
import { sleep } from './sleep.js'
import { attachFingerprint } from './store-fingerprint.js'
import { validateStoreSettings } from './store-settings.js'
import { resolveBaseUrl } from './validate.js'

export type {
  BaseStoreSettings,
  HttpClient,
  HttpClientSettings,
  HttpHooks,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  ParsedBody,
  RequestEvent,
  ResponseEvent,
  RetryEvent,
} from './http-types.js'

import { VERSION } from './version.js'

export { DEFAULT_TIMEOUT_MS } from './http-types.js'

const pRetry = defaultExport(pRetryImport)

/** One attempt's result: a response for the caller, or the typed error it failed with. */
type AttemptResult<T> = { response: HttpResponse<T>; error?: undefined } | { error: KeyStoreError }

/**
 * Creates the HTTP client an adapter uses for every call: one retry layer, redaction, pacing.
 * Every base setting is checked first; a bad one is a `ValidationError` naming it.
 */
export function createHttpClient(settings: HttpClientSettings): HttpClient {
  const provider = settings.provider
  validateStoreSettings(settings, provider)
  const reconcile = resolveReconcileOptions(settings.reconcile)
  const baseUrl = resolveBaseUrl(settings.baseUrl, { provider, operation: 'configure' })
  const retryOptions = resolveRetryOptions(settings.retry)
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const scheduler =
    settings.scheduler instanceof Scheduler ? settings.scheduler : new Scheduler(settings.scheduler)
  const redactor = new Redactor()
  redactor.add(...(settings.secrets ?? []))
  const fetchImplementation = settings.fetch ?? globalThis.fetch
  const hooks: HttpHooks = settings.hooks ?? {}
  // Replaced, never changed in place: a call keeps the headers it started with, uncopied.
  let baseHeaders: Record<string, string> = {
    accept: 'application/json',
    'user-agent': settings.userAgent ?? `keyway/${VERSION}`,
    ...settings.headers,
  }
  let unsendableBaseHeader = findUnsendable(baseHeaders)

  /** Calls a hook with a redacted copy of its event; a hook that throws is ignored. */
  const emit = <T>(hook: (event: T) => void, event: T) => {
    try {
      hook(redactor.redactValue(event))
    } catch {
      // An observer must not break the call it observes.
    }
  }

  async function request<TSchema extends v.GenericSchema | undefined = undefined>(
    call: HttpRequest<TSchema>,
  ): Promise<HttpResponse<ParsedBody<TSchema>>> {
    const operation = retryOperationOf(call)
    const deadline = Date.now() + retryOptions.deadlineMs
    const url = buildUrl(baseUrl, call.path, call.query)
    const headers =
      call.headers === undefined ? baseHeaders : withHeaders(baseHeaders, call.headers)
    if (call.secrets !== undefined) redactor.add(...call.secrets)
    // fetch would refuse such a header only after the call began, looking like a lost request.
    const unsendable = call.headers === undefined ? unsendableBaseHeader : findUnsendable(headers)
    if (unsendable !== undefined) throw unsendableHeader(call.operation, unsendable)
    const kind = call.method === 'GET' ? 'read' : 'write'
    let earlierMayHaveTakenEffect = false

    /** One attempt through the scheduler: the response, or its typed, scrubbed error thrown. */
    const attemptNumber = async (attempt: number): Promise<HttpResponse<ParsedBody<TSchema>>> => {
      call.signal?.throwIfAborted()
      const remaining = deadline - Date.now()
      if (remaining <= 0) {
        throw deadlineError({ provider, operation: call.operation }, retryOptions.deadlineMs)
      }
      const attemptTimeoutMs = Math.min(timeoutMs, remaining)
      const result = await scheduler.run(
        kind,
        () => attemptOnce(call, url, headers, attemptTimeoutMs, attempt),
        call.signal,
      )
      if (result.error === undefined) {
        call.signal?.throwIfAborted()
        return result.response
      }
      const error = result.error
      if (alreadyDone(error, operation, earlierMayHaveTakenEffect)) {
        return {
          status: 404,
          data: undefined as ParsedBody<TSchema>,
          attempts: attempt,
          headers: {},
        }
      }
      if (mayHaveTakenEffect(error)) earlierMayHaveTakenEffect = true
      throw scrubError(error, redactor)
    }

    /**
     * Whether to try again after attempt `failed` failed with `error`, having waited the delay
     * the policy gives (the vendor's Retry-After, else backoff) within the overall deadline.
     */
    const waitToRetry = async (error: unknown, failed: number): Promise<boolean> => {
      const delayMs = retryDelay(error, operation, failed, retryOptions)
      if (delayMs === undefined || Date.now() + delayMs >= deadline) return false
      const failure = error as KeyStoreError
      if (failure instanceof RateLimitError && failure.retryAfterMs !== undefined) {
        scheduler.pause(failure.retryAfterMs)
      }
      if (hooks.retry !== undefined) {
        emit(hooks.retry, {
          provider,
          operation: call.operation,
          method: call.method,
          url,
          attempt: failed,
          delayMs,
          reason: failure.code,
          status: failure.status,
        })
      }
      await sleep(delayMs, call.signal)
      return true
    }

    // The first attempt runs directly: a call that succeeds pays nothing for retrying.
    let first: unknown
    try {
      return await attemptNumber(1)
    } catch (error) {
      first = error
    }
    if (retryOptions.attempts < 2 || !(await waitToRetry(first, 1))) throw first
    // p-retry runs the rest; its own delay is 0 because `waitToRetry` waits exactly what the
    // policy says (Retry-After, backoff) and keeps the overall deadline.
    return pRetry((retry) => attemptNumber(retry + 1), {
      retries: retryOptions.attempts - 2,
      minTimeout: 0,
      maxTimeout: 0,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
      shouldRetry: ({ error, attemptNumber: retry }) => waitToRetry(error, retry + 1),
    })
  }

  /** Sends one attempt and turns what came back into a response or a typed error. */
  async function attemptOnce<TSchema extends v.GenericSchema | undefined>(
    call: HttpRequest<TSchema>,
    url: string,
    headers: Record<string, string>,
    attemptTimeoutMs: number,
    attempt: number,
  ): Promise<AttemptResult<ParsedBody<TSchema>>> {
    const { operation, method } = call
    const started = hooks.response === undefined ? 0 : Date.now()
    if (hooks.request !== undefined) {
      emit(hooks.request, { provider, operation, method, url, attempt })
    }
    const responded = (status: number | undefined, error?: string) => {
      if (hooks.response === undefined) return
      emit(hooks.response, {
        provider,
        operation,
        method,
        url,
        attempt,
        status,
        durationMs: Date.now() - started,
        ...(error === undefined ? {} : { error }),
      })
    }
    const outcome = await sendAttempt({
      url,
      method,
      headers,
      json: call.json,
      signal: call.signal,
      timeoutMs: attemptTimeoutMs,
      fetch: fetchImplementation,
    })
    if (outcome.kind === 'aborted') {
      responded(outcome.status, 'aborted')
      throw outcome.reason
    }
    const context = { provider, operation }
    if (outcome.kind === 'lost') {
      const error = outcome.timedOut
        ? attemptTimeout(context)
        : networkError(outcome.thrown, context, redactor)
      responded(outcome.status, error.code)
      return { error }
    }
    const { response } = outcome
    const status = response.status
    const body = parseBody(outcome.text)
    if (!response.ok) {
      const error = httpError(response, body, operation)
      responded(status, error.code)
      return { error }
    }
    responded(status)
    let data: ParsedBody<TSchema>
    try {
      data = (
        call.schema === undefined
          ? body
          : parseResponse(call.schema, body, { provider, operation, status })
      ) as ParsedBody<TSchema>
    } catch (error) {
      return { error: error as KeyStoreError }
    }
    return { response: successResponse(response, data, attempt) }
  }

  /** The typed error of a non-2xx response, the vendor's details redacted. */
  function httpError(response: Response, body: unknown, operation: string): KeyStoreError {
    const details = redactor.redactValue(readErrorDetails(settings.errorBody, body))
    const retryAfterMs =
      details.retryAfterMs ?? parseRetryAfter(response.headers.get('retry-after') ?? undefined)
    const requestId = response.headers.get('x-request-id') ?? response.headers.get('request-id')
    return errorForStatus({
      provider,
      operation,
      status: response.status,
      details,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(requestId === null ? {} : { requestId: redactor.redact(requestId) }),
    })
  }

  function unsendableHeader(operation: string, name: string): ValidationError {
    const problem = 'holds a line break, a NUL or a character beyond Latin-1'
    return new ValidationError({
      provider,
      operation,
      message: `${provider} ${operation}: nothing was sent: the ${name} header ${problem} (a credential copied with a line break?)`,
      issues: [{ path: `headers.${name}`, message: problem }],
    })
  }

  const setCredential = (header: string, value: string, secret: string) => {
    redactor.add(secret)
    baseHeaders = { ...baseHeaders, [header.toLowerCase()]: value }
    unsendableBaseHeader = findUnsendable(baseHeaders)
  }

  const secret = (value: string): Secret => {
    const created = new Secret(value)
    redactor.add(value)
    return created
  }

  const client: HttpClient = {
    provider,
    baseUrl,
    scheduler,
    redactor,
    reconcile,
    request,
    setCredential,
    secret,
  }
  // The credential the store was built with says which account it reaches; a later
  // `setCredential` (the store's own key rotated) keeps the account.
  const credential = settings.credential
  if (credential !== undefined) {
    attachFingerprint(client, {
      baseUrl,
      credential: typeof credential === 'string' ? [credential] : [...credential],
      ...(settings.account === undefined ? {} : { account: settings.account }),
    })
  }
  return client
}

/** A 2xx outcome; its headers are copied out of the response only when someone reads them. */
function successResponse<T>(response: Response, data: T, attempts: number): HttpResponse<T> {
  let headers: Record<string, string> | undefined
  return {
    status: response.status,
    data,
    attempts,
    get headers() {
      headers ??= Object.fromEntries(response.headers)
      return headers
    },
  }
}

/** The base headers with a call's own on top; an `undefined` value removes a header. */
function withHeaders(
  base: Record<string, string>,
  extra: Record<string, string | undefined>,
): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries({ ...base, ...extra })) {
    if (value !== undefined) headers[name] = value
  }
  return headers
}

/** The name of the first header fetch could not send, or `undefined`. */
function findUnsendable(headers: Record<string, string>): string | undefined {
  for (const name in headers) {
    if (!isHeaderValue(headers[name] as string)) return name
  }
  return undefined
}

/** Whether fetch can send `value` as a header value. */
function isHeaderValue(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what fetch refuses
  return !/[\u0000\r\n\u0100-\uffff]/.test(value)
}

function buildUrl(baseUrl: string, path: string, query: HttpRequest['query']): string {
  const url = new URL(baseUrl + path)
  if (query !== undefined) {
    for (const name in query) {
      const value = query[name]
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
  }
  return url.href
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** What `createStoreClient` takes beside the factory's settings. */
export interface StoreClientOptions
  extends Pick<
    HttpClientSettings,
    'provider' | 'headers' | 'secrets' | 'credential' | 'errorBody' | 'account'
  > {
  /** The env vars the factory reads, by setting; `env.baseUrl` is the base URL's. */
  env: { readonly baseUrl: string }
  /** The vendor's API: the base URL where neither the setting nor `env.baseUrl` gives one. */
  baseUrl: string
}

/**
 * The HTTP client of an adapter's store, built from its factory's settings the one way every
 * adapter builds it: the base URL from the `baseUrl` setting, else its env var, else the
 * vendor's own (a setting given as `undefined` is refused, see `settingOrEnv`); the credential,
 * its secrets and headers as the adapter declares them; `account` only where the adapter gives
 * one. Every base setting is checked as `createHttpClient` checks it.
 */
export function createStoreClient(
  settings: BaseStoreSettings & { baseUrl?: string },
  options: StoreClientOptions,
): HttpClient {
  const { env, ...client } = options
  return createHttpClient({
    ...settings,
    account: undefined,
    ...client,
    baseUrl:
      (settingOrEnv(client.provider, settings, 'baseUrl', env.baseUrl) as string | undefined) ??
      client.baseUrl,
  })
}
