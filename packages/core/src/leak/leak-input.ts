import { ValidationError } from '../errors.js'
import { Secret } from '../secret.js'

/**
 * What is known of a leaked secret: the whole secret, a hint of it (its start and/or end, as
 * a scanner or a vendor's mail shows it: `sk-or-v1-abc…123`), or the start of its SHA-256 in
 * hex (`sha256:3b37026c`).
 */
export type Leak = { secret: Secret } | { hint: string } | { sha256: string }

/** A leak, checked: the form, and what each form holds. */
export type ParsedLeak =
  | { form: 'secret'; secret: Secret }
  | { form: 'hint'; start: string; end: string }
  | { form: 'sha256'; hex: string }

/** Fewest characters a hint must show, start and end together, so it can name one key. */
export const MIN_HINT_CHARACTERS = 4
/** Fewest hex digits of a SHA-256 prefix: fewer would name one key in thousands, not one. */
export const MIN_SHA256_DIGITS = 8

/** The separators a hint's start and end are shown with: `…` or `...`. */
const ELLIPSIS = /…|\.\.\./

/**
 * Checks a leak before anything is sent: a `ValidationError` naming the problem, never
 * quoting a secret. A hint is `start…end`, `start…` or `…end` (`...` works as `…`).
 */
export function parseLeak(leak: Leak, operation = 'findLeakedKeys'): ParsedLeak {
  const invalid = (path: string, message: string) =>
    new ValidationError({
      provider: 'keyway',
      operation,
      message: `${operation}: invalid leak (${path}: ${message})`,
      issues: [{ path, message }],
    })
  if (typeof leak !== 'object' || leak === null)
    throw invalid('leak', 'expected { secret }, { hint } or { sha256 }')
  const forms = ['secret', 'hint', 'sha256'].filter((form) => form in leak)
  if (forms.length !== 1) throw invalid('leak', 'give exactly one of secret, hint or sha256')
  if ('secret' in leak) {
    if (!Secret.is(leak.secret)) throw invalid('secret', 'expected a Secret')
    const value = leak.secret.reveal()
    if (/\s/.test(value)) throw invalid('secret', 'holds white space; give the secret alone')
    return { form: 'secret', secret: leak.secret }
  }
  if ('hint' in leak) {
    if (typeof leak.hint !== 'string') throw invalid('hint', 'expected a string')
    const parts = leak.hint.trim().split(ELLIPSIS)
    if (parts.length > 2) throw invalid('hint', 'one … (or ...) between the start and the end')
    const [start = '', end = ''] = parts.length === 1 ? [leak.hint.trim(), ''] : parts
    if (/\s/.test(start + end)) throw invalid('hint', 'holds white space')
    if (start.length + end.length < MIN_HINT_CHARACTERS)
      throw invalid(
        'hint',
        `shows ${start.length + end.length} characters; give at least ${MIN_HINT_CHARACTERS} (start…end, start… or …end)`,
      )
    return { form: 'hint', start, end }
  }
  if (typeof leak.sha256 !== 'string') throw invalid('sha256', 'expected a string')
  const hex = leak.sha256
    .trim()
    .replace(/^sha256:/i, '')
    .toLowerCase()
  if (!/^[0-9a-f]+$/.test(hex)) throw invalid('sha256', 'expected hex digits (sha256:3b37026c)')
  if (hex.length < MIN_SHA256_DIGITS || hex.length > 64)
    throw invalid('sha256', `expected ${MIN_SHA256_DIGITS} to 64 hex digits`)
  return { form: 'sha256', hex }
}
