import { createHash, randomBytes, randomInt } from 'node:crypto'

/** `length` random lowercase hex characters. */
export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length)
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789'

export function randomAlphanumeric(length: number): string {
  let text = ''
  for (let index = 0; index < length; index++) text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]
  return text
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/** The reason phrases of the statuses the emulators answer with, as HTTP names them. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** Now as an ISO string, advanced by `offsetMs` so seeded keys get distinct, ordered times. */
export function isoNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString()
}

/** Matches `path` against a pattern like `/keys/:hash`; returns the decoded parameters. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const patternParts = pattern.split('/')
  const pathParts = path.split('/')
  if (patternParts.length !== pathParts.length) return undefined
  const params: Record<string, string> = {}
  for (const [index, part] of patternParts.entries()) {
    const actual = pathParts[index] as string
    if (part.startsWith(':')) {
      if (actual === '') return undefined
      try {
        params[part.slice(1)] = decodeURIComponent(actual)
      } catch {
        return undefined
      }
    } else if (part !== actual) {
      return undefined
    }
  }
  return params
}

/** The bearer token of an `Authorization` header, or `undefined`. */
export function bearer(headers: Record<string, string>): string | undefined {
  const match = /^Bearer (.+)$/i.exec(headers.authorization ?? '')
  return match?.[1]
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
