import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** The session cookie's name. */
export const SESSION_COOKIE = 'keyway_dashboard'

/** Why a request was refused, as an HTTP status and a line for the page and the log. */
export interface Refusal {
  status: 400 | 401 | 403
  reason: string
}

/** A session: the cookie value's owner and the CSRF token its forms carry. */
interface Session {
  csrf: string
}

const token = () => randomBytes(32).toString('base64url')

/** Compares two strings in constant time for their length. */
function same(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Who may use the dashboard: whoever opened the URL with this start's token (which is
 * exchanged for a session cookie) from this origin. Everything lives in memory, so a restart
 * makes every earlier link and cookie useless.
 */
export class Access {
  /** The per-start token of the login URL. */
  readonly startToken = token()
  readonly #sessions = new Map<string, Session>()
  readonly #origin: string
  readonly #host: string

  constructor(origin: string) {
    this.#origin = origin
    // A DNS-rebinding page reaches us under its own host name: accept only the printed one.
    this.#host = new URL(origin).host
  }

  /** Exchanges the start token for a new session; returns the cookie value, or nothing. */
  login(given: string | null): string | undefined {
    if (!same(given ?? undefined, this.startToken)) return undefined
    const id = token()
    this.#sessions.set(id, { csrf: token() })
    return id
  }

  /** The request's session (by its cookie) and its CSRF token, if it has one. */
  session(request: IncomingMessage): { id: string; csrf: string } | undefined {
    const id = readCookie(request, SESSION_COOKIE)
    if (id === undefined) return undefined
    for (const [known, session] of this.#sessions) {
      if (same(id, known)) return { id: known, csrf: session.csrf }
    }
    return undefined
  }

  /** Refuses a request addressed to another host name (DNS rebinding). */
  checkHost(request: IncomingMessage): Refusal | undefined {
    return request.headers.host === this.#host ? undefined : { status: 400, reason: 'unknown host' }
  }

  /**
   * Refuses a state-changing request that another page made: the browser's `Sec-Fetch-Site`
   * must say same-origin where sent, and `Origin` must be ours. Checked before the session,
   * because a page on another port of this machine is same-site and gets the cookie.
   */
  checkOrigin(request: IncomingMessage): Refusal | undefined {
    const site = request.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin') {
      return { status: 403, reason: `cross-origin request refused (Sec-Fetch-Site: ${site})` }
    }
    if (request.headers.origin !== this.#origin) {
      return { status: 403, reason: 'cross-origin request refused (Origin is not this dashboard)' }
    }
    return undefined
  }

  /** Refuses a form whose CSRF token is not its session's. */
  checkCsrf(session: { csrf: string }, given: string | undefined): Refusal | undefined {
    return same(given, session.csrf)
      ? undefined
      : { status: 403, reason: 'missing or wrong CSRF token' }
  }
}

function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}
