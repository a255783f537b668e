/** What stands in for a scrubbed secret. */
export const REDACTED = '[REDACTED]'

/** Shorter values are too likely to occur by chance to be scrubbed by value. */
const MIN_SECRET_LENGTH = 6

/**
 * A run of this many of a secret's characters is a telling part of it (a key's body without
 * its prefix, a token cut short), and too long to be part of an unrelated id by chance.
 */
const TELLING_RUN = 12

/**
 * Scrubs known secret values (the store's credential, every key it minted) from text,
 * in their plain and URL-encoded forms.
 */
export class Redactor {
  readonly #values = new Set<string>()

  /** Adds secret values to scrub from now on. */
  add(...values: ReadonlyArray<string | undefined>): void {
    for (const value of values) {
      if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue
      this.#values.add(value)
      const encoded = encodeURIComponent(value)
      if (encoded !== value) this.#values.add(encoded)
    }
  }

  /** Whether the text holds a known secret. */
  finds(text: string): boolean {
    for (const value of this.#values) if (text.includes(value)) return true
    return false
  }

  /**
   * Whether the text holds a known secret or a telling part of one: a run of 12 of its
   * characters, in any case. For refusing an id, which a pasted secret's body must not be.
   */
  sharesWith(text: string): boolean {
    const lower = text.toLowerCase()
    for (const value of this.#values) {
      const secret = value.toLowerCase()
      const run = Math.min(TELLING_RUN, secret.length)
      for (let start = 0; start + run <= secret.length; start++) {
        if (lower.includes(secret.slice(start, start + run))) return true
      }
    }
    return false
  }

  /** The text with every known secret replaced by `[REDACTED]`. */
  redact(text: string): string {
    let result = text
    // Longest first, so a secret that contains another is scrubbed whole.
    const values = [...this.#values].sort((a, b) => b.length - a.length)
    for (const value of values) {
      if (result.includes(value)) result = result.split(value).join(REDACTED)
    }
    return result
  }

  /** Scrubs every string inside a plain value (objects, arrays), returning a copy. */
  redactValue<T>(value: T): T {
    return scrub(value, (text) => this.redact(text)) as T
  }
}

function scrub(value: unknown, redact: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return redact(value)
  if (depth > 8 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item) => scrub(item, redact, depth + 1))
  if (value instanceof Date) return value
  const copy: Record<string, unknown> = {}
  for (const [field, item] of Object.entries(value)) copy[field] = scrub(item, redact, depth + 1)
  return copy
}

/**
 * A plain `Error` that keeps the name, code and redacted message of an underlying error,
 * and nothing else: no request, no socket, no options object, no nested cause. The messages
 * of its causes are joined on, since fetch says only "fetch failed" and the reason (a
 * certificate, a refused port) is a cause or two down.
 */
export function sanitizeCause(error: unknown, redactor: Redactor): Error {
  const source =
    typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {}
  const message = typeof source.message === 'string' ? chainMessage(error) : String(error)
  const copy = new Error(redactor.redact(message))
  copy.name = typeof source.name === 'string' ? source.name : 'Error'
  const code = findErrorCode(error)
  if (code !== undefined) Object.assign(copy, { code })
  // The stack names only the copy's own frames; keep it short and free of the source's text.
  copy.stack = `${copy.name}: ${copy.message}`
  return copy
}

/** The first `code` string in an error's cause chain, e.g. `'ECONNREFUSED'`. */
export function findErrorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/** The messages down an error's cause chain, joined with ": ", empty and repeated ones left out. */
function chainMessage(error: unknown): string {
  const messages: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const message = (current as { message?: unknown }).message
    if (typeof message === 'string' && message !== '' && !messages.includes(message)) {
      messages.push(message)
    }
    current = (current as { cause?: unknown }).cause
  }
  return messages.join(': ')
}
