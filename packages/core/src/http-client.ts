import kyImport from 'ky'
import pRetryImport from 'p-retry'
import type * as v from 'valibot'
import { defaultExport } from './default-export.js'
import {
  KeyStoreError,
  NetworkError,
  RateLimitError,
  ResponseValidationError,
  TimeoutError,
  ValidationError,
} from './errors.js'
import { type ErrorBodyReader, errorForStatus, readErrorDetails } from './http-errors.js'
import { parseResponse } from './parse-response.js'
import {
  type ReconcileOptions,
  type ResolvedReconcileOptions,
  resolveReconcileOptions,
} from './reconcile-options.js'
import { findErrorCode, Redactor, sanitizeCause } from './redact.js'
import { parseRetryAfter } from './retry-after.js'
import {
  backoffDelay,
  defaultRetryMode,
  RETRYABLE_STATUSES,
  type ResolvedRetryOptions,
  type RetryMode,
  type RetryOptions,
  resolveRetryOptions,
} from './retry-policy.js'
import { Scheduler, type SchedulerOptions } from './scheduler.js'
import { sleep } from './sleep.js'
import { validateStoreSettings } from './store-settings.js'
import { resolveBaseUrl } from './validate.js'

const ky = defaultExport(kyImport)
const pRetry = defaultExport(pRetryImport)

/** The HTTP methods vendors use for key management. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** Plain-data events for logging and progress. URLs are redacted; no headers, no bodies. */
export interface RequestEvent {
  provider: string
  operation: string
  method: HttpMethod
  url: string
  attempt: number
}

export interface ResponseEvent extends RequestEvent {
  /** HTTP status, or `undefined` when no response arrived. */
  status: number | undefined
  durationMs: number
  /** The keyway error code when the attempt failed. */
  error?: string
}

export interface RetryEvent extends RequestEvent {
  /** Milliseconds until the next attempt. */
  delayMs: number
  /** Why it is retried: the failed attempt's error code, e.g. `'rate_limited'`. */
  reason: string
  status: number | undefined
}

/** Observers of a store's traffic. A hook that throws is ignored. */
export interface HttpHooks {
  /** Before each attempt is sent. */
  request?: (event: RequestEvent) => void
  /** After each attempt, with its status or error code. */
  response?: (event: ResponseEvent) => void
  /** When a failed attempt will be retried, with the wait. */
  retry?: (event: RetryEvent) => void
}

/** Settings every adapter factory accepts, beside its base URL and credential. */
export interface BaseStoreSettings {
  /** A fetch implementation. Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch
  /** Time limit of one attempt. Default `30_000` ms. */
  timeoutMs?: number
  /** Retry policy; `false` for a single attempt. See `RetryOptions` for defaults. */
  retry?: RetryOptions | false
  /** Observers of each request, response and retry. They receive redacted plain data only. */
  hooks?: HttpHooks
  /** Sent as `User-Agent`. Default `keyway/<version>`. */
  userAgent?: string
  /** Concurrency and request rates for this store, or a scheduler shared between stores. */
  scheduler?: SchedulerOptions | Scheduler
  /**
   * How long a create whose answer was lost keeps looking for its key before deciding none
   * was made. See `ReconcileOptions` for defaults (about 10 s).
   */
  reconcile?: ReconcileOptions
}

export interface HttpClientSettings extends BaseStoreSettings {
  provider: string
  baseUrl: string
  /** Headers on every request, usually the credential. */
  headers?: Record<string, string>
  /** Secret values to scrub from every error and event (the credential). */
  secrets?: readonly string[]
  /** Reads the vendor's error body. */
  errorBody?: ErrorBodyReader
}

/** One call for `HttpClient.request`. */
export interface HttpRequest<TSchema extends v.GenericSchema | undefined = undefined> {
  /** The store operation, for errors and events: `'list'`, `'create'`, … */
  operation: string
  method: HttpMethod
  /** Path below the base URL, starting with `/`; ids already encoded (see `encodeId`). */
  path: string
  query?: Record<string, string | number | boolean | undefined>
  json?: unknown
  /** Headers for this request only, e.g. another credential for `verify`; `undefined` removes one. */
  headers?: Record<string, string | undefined>
  /** Secret values this request carries besides the store's credential; scrubbed like it. */
  secrets?: readonly string[]
  /** Schema of a 2xx body; without one the body is returned as parsed JSON (or `undefined`). */
  schema?: TSchema
  signal?: AbortSignal
  /** Default: `'idempotent'` for GET, PUT, PATCH, DELETE and `'create'` for POST. */
  retry?: RetryMode
  /**
   * For deletes: a 404 after an earlier attempt of this same call that may have reached
   * the vendor means that attempt did the work, so it counts as success.
   */
  notFoundAfterRetryIsSuccess?: boolean
}

/** A successful call's outcome. */
export interface HttpResponse<T> {
  status: number
  data: T
  /** Attempts made, the successful one included. */
  attempts: number
  headers: Record<string, string>
}

/** What a schema parses a body into; `unknown` without one. */
export type ParsedBody<TSchema> = TSchema extends v.GenericSchema ? v.InferOutput<TSchema> : unknown

/** The only way keyway talks to a vendor. One per store. */
export interface HttpClient {
  readonly provider: string
  readonly baseUrl: string
  readonly scheduler: Scheduler
  readonly redactor: Redactor
  /** The store's `reconcile` setting, defaults filled in. */
  readonly reconcile: ResolvedReconcileOptions
  /** Sends one call with retries, pacing and redaction; resolves to the parsed 2xx body or throws a typed error. */
  request<TSchema extends v.GenericSchema | undefined = undefined>(
    request: HttpRequest<TSchema>,
  ): Promise<HttpResponse<ParsedBody<TSchema>>>
  /** Replaces the credential header on every later request; the value is redacted like the first. */
  setCredential(header: string, value: string, secret: string): void
}

const BEFORE_SEND_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
])

const VERSION = '0.1.0'

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
  const timeoutMs = settings.timeoutMs ?? 30_000
  const scheduler =
    settings.scheduler instanceof Scheduler ? settings.scheduler : new Scheduler(settings.scheduler)
  const redactor = new Redactor()
  redactor.add(...(settings.secrets ?? []))
  const fetchImplementation = settings.fetch ?? globalThis.fetch
  const hooks = settings.hooks ?? {}
  const baseHeaders: Record<string, string> = {
    accept: 'application/json',
    'user-agent': settings.userAgent ?? `keyway/${VERSION}`,
    ...settings.headers,
  }

  const emit = <K extends keyof HttpHooks>(
    name: K,
    event: Parameters<NonNullable<HttpHooks[K]>>[0],
  ) => {
    const hook = hooks[name] as ((event: unknown) => void) | undefined
    if (hook === undefined) return
    try {
      hook(redactor.redactValue(event))
    } catch {
      // An observer must not break the call it observes.
    }
  }

  async function request<TSchema extends v.GenericSchema | undefined = undefined>(
    call: HttpRequest<TSchema>,
  ): Promise<HttpResponse<ParsedBody<TSchema>>> {
    const mode = call.retry ?? defaultRetryMode(call.method)
    const attempts = mode === 'never' ? 1 : retryOptions.attempts
    const deadline = Date.now() + retryOptions.deadlineMs
    const url = buildUrl(baseUrl, call.path, call.query)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries({ ...baseHeaders, ...call.headers })) {
      if (value !== undefined) headers[name] = value
    }
    redactor.add(...(call.secrets ?? []))
    // fetch would refuse such a header only after the call began, looking like a lost request.
    const unsendable = Object.entries(headers).find(([, value]) => !isHeaderValue(value))
    if (unsendable !== undefined) throw unsendableHeader(call.operation, unsendable[0])
    const kind = call.method === 'GET' ? 'read' : 'write'
    const context = { provider, operation: call.operation, method: call.method, url }
    let possiblyDelivered = false
    let attemptNumber = 0

    const attempt = async (): Promise<HttpResponse<ParsedBody<TSchema>>> => {
      attemptNumber++
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw deadlineError(call.operation)
      const outcome = await scheduler.run(
        kind,
        () => send(call, url, headers, Math.min(timeoutMs, remaining), attemptNumber),
        call.signal,
      )
      if (outcome.error === undefined) return { ...outcome.response, attempts: attemptNumber }
      const error = outcome.error
      if (call.notFoundAfterRetryIsSuccess && possiblyDelivered && error.status === 404) {
        return {
          status: 404,
          data: undefined as ParsedBody<TSchema>,
          attempts: attemptNumber,
          headers: {},
        }
      }
      if (mayHaveTakenEffect(error)) possiblyDelivered = true
      throw scrubError(error)
    }

    const send = async (
      request: HttpRequest<TSchema>,
      target: string,
      requestHeaders: Record<string, string>,
      attemptTimeoutMs: number,
      number: number,
    ): Promise<
      | { response: Omit<HttpResponse<ParsedBody<TSchema>>, 'attempts'>; error?: undefined }
      | { error: KeyStoreError }
    > => {
      const started = Date.now()
      const responded = (status: number | undefined, error?: string) =>
        emit('response', {
          ...context,
          attempt: number,
          status,
          durationMs: Date.now() - started,
          ...(error === undefined ? {} : { error }),
        })
      const lostConnection = (thrown: unknown, status: number | undefined, timedOut: boolean) => {
        if (request.signal?.aborted) {
          responded(status, 'aborted')
          throw request.signal.reason
        }
        const error = timedOut
          ? attemptTimeout(request.operation)
          : networkError(thrown, request.operation)
        responded(status, error.code)
        return { error }
      }

      emit('request', { ...context, attempt: number })
      // One timer covers the whole attempt, body included (ky's own stops at the headers).
      const attemptTimer = new AbortController()
      const timer = setTimeout(() => attemptTimer.abort(), attemptTimeoutMs)
      const signal =
        request.signal === undefined
          ? attemptTimer.signal
          : AbortSignal.any([request.signal, attemptTimer.signal])
      let response: Response
      let text: string
      try {
        try {
          response = await ky(target, {
            method: request.method,
            headers: requestHeaders,
            ...(request.json === undefined ? {} : { json: request.json }),
            signal,
            fetch: fetchImplementation,
            retry: 0,
            timeout: false,
            throwHttpErrors: false,
          })
        } catch (thrown) {
          return lostConnection(thrown, undefined, attemptTimer.signal.aborted)
        }
        try {
          text = await response.text()
        } catch (thrown) {
          return lostConnection(thrown, response.status, attemptTimer.signal.aborted)
        }
      } finally {
        clearTimeout(timer)
      }
      const responseHeaders = Object.fromEntries(response.headers)
      const body = parseBody(text)
      const requestId = responseHeaders['x-request-id'] ?? responseHeaders['request-id']
      if (!response.ok) {
        const details = redactor.redactValue(readErrorDetails(settings.errorBody, body))
        const retryAfterMs = details.retryAfterMs ?? parseRetryAfter(responseHeaders['retry-after'])
        const error = errorForStatus({
          provider,
          operation: request.operation,
          status: response.status,
          details,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          ...(requestId === undefined ? {} : { requestId: redactor.redact(requestId) }),
        })
        responded(response.status, error.code)
        return { error }
      }
      responded(response.status)
      if (request.schema === undefined) {
        return {
          response: {
            status: response.status,
            data: body as ParsedBody<TSchema>,
            headers: responseHeaders,
          },
        }
      }
      try {
        const data = parseResponse(request.schema, body, {
          provider,
          operation: request.operation,
          status: response.status,
        })
        return {
          response: {
            status: response.status,
            data: data as ParsedBody<TSchema>,
            headers: responseHeaders,
          },
        }
      } catch (error) {
        return { error: error as ResponseValidationError }
      }
    }

    return pRetry(attempt, {
      retries: attempts - 1,
      minTimeout: 0,
      maxTimeout: 0,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
      shouldRetry: async ({ error, attemptNumber: failed }) => {
        const failure = error as KeyStoreError
        const delayMs = retryDelay(failure, failed, mode, retryOptions)
        if (delayMs === undefined) return false
        if (Date.now() + delayMs >= deadline) return false
        if (failure instanceof RateLimitError && failure.retryAfterMs !== undefined) {
          scheduler.pause(failure.retryAfterMs)
        }
        emit('retry', {
          ...context,
          attempt: failed,
          delayMs,
          reason: failure.code,
          status: failure.status,
        })
        await sleep(delayMs, call.signal)
        return true
      },
    })
  }

  function attemptTimeout(operation: string): TimeoutError {
    return new TimeoutError({
      provider,
      operation,
      retryable: true,
      message: `${provider} ${operation}: no response within the attempt's time limit`,
    })
  }

  function networkError(thrown: unknown, operation: string): KeyStoreError {
    const code = findErrorCode(thrown)
    const phase = code !== undefined && BEFORE_SEND_CODES.has(code) ? 'before-send' : 'ambiguous'
    return new NetworkError({
      provider,
      operation,
      phase,
      retryable: true,
      message:
        phase === 'before-send'
          ? `${provider} ${operation}: could not connect${code ? ` (${code})` : ''}`
          : `${provider} ${operation}: connection lost; the request may have been processed${code ? ` (${code})` : ''}`,
      cause: sanitizeCause(thrown, redactor),
    })
  }

  /** Last line of defence: scrubs known secrets from an error's message and issue paths. */
  function scrubError(error: KeyStoreError): KeyStoreError {
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
    return error
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

  function deadlineError(operation: string): TimeoutError {
    return new TimeoutError({
      provider,
      operation,
      message: `${provider} ${operation}: gave up after the ${retryOptions.deadlineMs} ms deadline`,
    })
  }

  const setCredential = (header: string, value: string, secret: string) => {
    redactor.add(secret)
    baseHeaders[header.toLowerCase()] = value
  }

  return { provider, baseUrl, scheduler, redactor, reconcile, request, setCredential }
}

/**
 * Whether a failed attempt may have been processed by the vendor: anything but a refusal
 * to process (429, before-send network errors) or a definite client error.
 */
function mayHaveTakenEffect(error: KeyStoreError): boolean {
  if (error instanceof NetworkError) return error.phase === 'ambiguous'
  if (error instanceof TimeoutError) return true
  if (error instanceof ResponseValidationError) return true
  return error.status !== undefined && error.status >= 500
}

/** The wait before retrying `error`, or `undefined` when it must not be retried. */
function retryDelay(
  error: KeyStoreError,
  attemptNumber: number,
  mode: RetryMode,
  options: ResolvedRetryOptions,
): number | undefined {
  if (!KeyStoreError.is(error) || mode === 'never') return undefined
  const backoff = backoffDelay(attemptNumber, options)
  if (error instanceof RateLimitError) {
    // A create is retried on 429 only: any other status may have been processed.
    if (mode === 'create' && error.status !== 429) return undefined
    const wait = error.retryAfterMs
    if (wait !== undefined && wait > options.maxRetryAfterMs) return undefined
    return wait === undefined ? backoff : Math.max(wait, 0)
  }
  if (error instanceof NetworkError && error.phase === 'before-send') return backoff
  if (mode === 'create') return undefined
  if (error instanceof NetworkError || error instanceof TimeoutError) return backoff
  if (error.status !== undefined && RETRYABLE_STATUSES.has(error.status)) return backoff
  return undefined
}

/** Whether fetch can send `value` as a header value. */
function isHeaderValue(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what fetch refuses
  return !/[\u0000\r\n\u0100-\uffff]/.test(value)
}

function buildUrl(baseUrl: string, path: string, query: HttpRequest['query']): string {
  const url = new URL(baseUrl + path)
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value))
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
