import kyImport from 'ky'
import { defaultExport } from './default-export.js'
import type { HttpMethod } from './http-types.js'

const ky = defaultExport(kyImport)

/** One attempt of a call: what to send and how long it may take. */
export interface AttemptOptions {
  url: string
  method: HttpMethod
  headers: Record<string, string>
  /** The JSON body, or `undefined` for none. */
  json: unknown
  /** The caller's signal: aborting it ends the attempt with its reason. */
  signal: AbortSignal | undefined
  /** Time limit of the whole attempt, body included. */
  timeoutMs: number
  fetch: typeof globalThis.fetch
}

/** What one attempt brought back. */
export type AttemptOutcome =
  | { kind: 'response'; response: Response; text: string }
  /** No (complete) answer: fetch or the body read threw, or the time limit ran out. */
  | { kind: 'lost'; thrown: unknown; status: number | undefined; timedOut: boolean }
  /** The caller aborted; `reason` is the caller's. */
  | { kind: 'aborted'; reason: unknown; status: number | undefined }

/**
 * Sends one attempt through ky (ky's own retry and timeout off) and reads the whole body as
 * text. One timer and one abort signal cover the attempt, body included (ky's own timeout
 * stops at the headers). It never throws.
 */
export async function sendAttempt(options: AttemptOptions): Promise<AttemptOutcome> {
  const { signal: callerSignal } = options
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, options.timeoutMs)
  // A listener, not AbortSignal.any: one signal per attempt, and nothing left behind after it.
  const onCallerAbort = () => controller.abort(callerSignal?.reason)
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true })
  let status: number | undefined
  try {
    const response = await ky(options.url, {
      method: options.method,
      headers: options.headers,
      ...(options.json === undefined ? {} : { json: options.json }),
      signal: controller.signal,
      fetch: options.fetch,
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
    })
    status = response.status
    const text = await response.text()
    return { kind: 'response', response, text }
  } catch (thrown) {
    if (callerSignal?.aborted) return { kind: 'aborted', reason: callerSignal.reason, status }
    return { kind: 'lost', thrown, status, timedOut }
  } finally {
    clearTimeout(timer)
    callerSignal?.removeEventListener('abort', onCallerAbort)
  }
}
