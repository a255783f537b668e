import type * as v from 'valibot'
import type { ErrorBodyReader } from './http-errors.js'
import type { ReconcileOptions, ResolvedReconcileOptions } from './reconcile-options.js'
import type { Redactor } from './redact.js'
import type { RetryOperation, RetryOptions } from './retry-policy.js'
import type { Scheduler, SchedulerOptions } from './scheduler.js'
import type { Secret } from './secret.js'

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

/** What `hooks.response` receives after each attempt. */
export interface ResponseEvent extends RequestEvent {
  /** HTTP status, or `undefined` when no response arrived. */
  status: number | undefined
  durationMs: number
  /** The keyway error code when the attempt failed. */
  error?: string
}

/** What `hooks.retry` receives before a failed attempt is retried. */
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

/** The time limit of one attempt when a store's settings give no `timeoutMs`: 30 s. */
export const DEFAULT_TIMEOUT_MS = 30_000

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

/** What `createHttpClient` takes: the base settings plus what the adapter fills in. */
export interface HttpClientSettings extends BaseStoreSettings {
  provider: string
  baseUrl: string
  /** Headers on every request, usually the credential. */
  headers?: Record<string, string>
  /** Secret values to scrub from every error and event (the credential). */
  secrets?: readonly string[]
  /** Reads the vendor's error body. */
  errorBody?: ErrorBodyReader
  /**
   * The credential the store was built with, or each of its parts (NoteDx's email and
   * password): what says which account it reaches. Never sent through this setting and never
   * readable from the client; `storeFingerprint` keeps only a keyed digest of it. Without it
   * `storeFingerprint` refuses the store.
   */
  credential?: string | readonly string[]
  /** The vendor's account or workspace id, where the adapter knows it without a request. */
  account?: string
}

/** One call for `HttpClient.request`. */
export interface HttpRequest<TSchema extends v.GenericSchema | undefined = undefined> {
  /**
   * The store operation, for errors and events: `'list'`, `'create'`, … When it is one of
   * `'create'`, `'regenerate'`, `'delete'`, `'update'` it also says how the call is retried
   * (see `RetryOperation`), whatever the HTTP method.
   */
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
  /**
   * What the call does at the vendor, where `operation` does not say it: a login by `POST`
   * is a `'read'`. Default: `operation` when it names one of the five, otherwise `'read'` for
   * GET, `'update'` for PUT and PATCH, `'delete'` for DELETE and `'create'` for POST.
   */
  retryAs?: RetryOperation
}

/** A successful call's outcome. */
export interface HttpResponse<T> {
  status: number
  data: T
  /** Attempts made, the successful one included. */
  attempts: number
  /** The response headers, names in lower case. */
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
  /**
   * The one way a store turns a secret the vendor sent (a minted, regenerated or revealed
   * key) into a `Secret`: the value is scrubbed from every later error and event of this store.
   */
  secret(value: string): Secret
}
