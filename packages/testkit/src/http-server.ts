import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sha256Hex } from './emulator-helpers.js'
import type { Fault, RecordedRequest } from './types.js'

/** What a vendor handler sees of a request. */
export interface EmulatedRequest {
  method: string
  /** Path without the query, percent-decoded per segment by the handler as needed. */
  path: string
  query: URLSearchParams
  headers: Record<string, string>
  /** Parsed JSON body, `undefined` when empty, or `INVALID_JSON`. */
  body: unknown
  /** The body as sent, for services that sign it (AWS SigV4). */
  rawBody?: string
}

/** The body of a request whose text was not valid JSON. */
export const INVALID_JSON = Symbol('invalid-json')

/** A vendor handler's answer. */
export interface EmulatedResponse {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

/** How an emulator answers: a vendor's API over the emulator's state. */
export interface VendorHandler {
  /** Handles one request, changing state as the vendor would. */
  handle(request: EmulatedRequest): EmulatedResponse
  /** The vendor's error response for a status, used by injected faults without a body. */
  errorResponse(status: number, message: string): EmulatedResponse
  /** Header values to redact in the request log. Default `['authorization']`. */
  credentialHeaders?: readonly string[] | undefined
  /** Content type of JSON responses. Default `'application/json'`. */
  contentType?: string | undefined
}

interface ActiveFault extends Fault {
  remaining: number
}

/** A loopback HTTP server that plays a vendor's API, with fault injection and a request log. */
export class EmulatorServer {
  readonly requests: RecordedRequest[] = []
  readonly #faults: ActiveFault[] = []
  /** Requests received and not yet answered or dropped. */
  #handling = 0
  #idle: Array<() => void> = []
  readonly #server = createServer((request, response) => {
    this.#handling++
    this.#serve(request, response)
      .catch(() => {
        if (!response.headersSent) response.writeHead(500).end()
      })
      .finally(() => {
        this.#handling--
        if (this.#handling === 0) for (const resolve of this.#idle.splice(0)) resolve()
      })
  })
  readonly #handler: VendorHandler

  constructor(handler: VendorHandler) {
    this.#handler = handler
  }

  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, '127.0.0.1', () => resolve())
    })
    const address = this.#server.address() as AddressInfo
    return `http://127.0.0.1:${address.port}`
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve())
      this.#server.closeAllConnections()
    })
  }

  inject(fault: Fault): void {
    this.#faults.push({ ...fault, remaining: fault.times ?? 1 })
  }

  clearFaults(): void {
    this.#faults.length = 0
  }

  /** Resolves once every request received so far has been handled (answered or dropped). */
  idle(): Promise<void> {
    if (this.#handling === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request)
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const method = request.method ?? 'GET'
    const headers = flattenHeaders(request)
    const digest = credentialDigest(headers, this.#handler.credentialHeaders ?? ['authorization'])
    this.requests.push({
      method,
      path: url.pathname + url.search,
      headers: redactHeaders(headers, this.#handler.credentialHeaders ?? ['authorization']),
      body: text === '' ? undefined : safeJson(text, text),
      ...(digest === undefined ? {} : { credentialDigest: digest }),
    })

    const fault = this.#takeFault(method, url.pathname)
    if (fault?.until !== undefined) await fault.until.catch(() => undefined)
    if (fault?.delayMs) await delay(fault.delayMs)
    if (fault?.drop === 'before') {
      request.socket.destroy()
      return
    }
    if (fault?.status !== undefined) {
      const answer =
        fault.body === undefined
          ? this.#handler.errorResponse(fault.status, 'Injected fault')
          : { status: fault.status, body: fault.body }
      const extra = {
        ...fault.headers,
        ...(fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) }),
      }
      this.#send(response, {
        ...answer,
        status: fault.status,
        headers: { ...answer.headers, ...extra },
      })
      return
    }

    const answer = this.#handler.handle({
      method,
      path: url.pathname,
      query: url.searchParams,
      headers,
      body: text === '' ? undefined : safeJson(text, INVALID_JSON),
      rawBody: text,
    })
    if (fault?.drop === 'after') {
      request.socket.destroy()
      return
    }
    if (fault?.malformed) {
      response.writeHead(200, { 'content-type': this.#handler.contentType ?? 'application/json' })
      response.end('{"data": [{"id": ')
      return
    }
    this.#send(response, answer)
  }

  #takeFault(method: string, path: string): ActiveFault | undefined {
    const index = this.#faults.findIndex(
      (fault) =>
        fault.remaining > 0 &&
        (fault.match?.method === undefined || fault.match.method.toUpperCase() === method) &&
        (fault.match?.path === undefined ||
          (typeof fault.match.path === 'string'
            ? fault.match.path === path
            : fault.match.path.test(path))),
    )
    const fault = this.#faults[index]
    if (fault === undefined) return undefined
    fault.remaining--
    if (fault.remaining === 0) this.#faults.splice(index, 1)
    return fault
  }

  #send(response: ServerResponse, answer: EmulatedResponse): void {
    const headers: Record<string, string> = { ...answer.headers }
    if (answer.body === undefined) {
      response.writeHead(answer.status, headers).end()
      return
    }
    headers['content-type'] ??= this.#handler.contentType ?? 'application/json'
    response.writeHead(answer.status, headers).end(JSON.stringify(answer.body))
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

function flattenHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

/** SHA-256 (hex) of the first credential header's value, without a `Bearer ` scheme. */
function credentialDigest(
  headers: Record<string, string>,
  names: readonly string[],
): string | undefined {
  const value = names.map((name) => headers[name]).find((found) => found !== undefined)
  return value === undefined ? undefined : sha256Hex(value.replace(/^Bearer\s+/i, ''))
}

function redactHeaders(
  headers: Record<string, string>,
  names: readonly string[],
): Record<string, string> {
  const copy = { ...headers }
  for (const name of names) if (copy[name] !== undefined) copy[name] = '[REDACTED]'
  return copy
}

function safeJson<T>(text: string, fallback: T): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return fallback
  }
}

/**
 * Waits `ms` even if the client has gone (a slow vendor still processes what it received),
 * without keeping the process alive for it.
 */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
