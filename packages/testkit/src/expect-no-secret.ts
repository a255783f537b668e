import { expect } from 'vitest'
import { printableForms } from './secret-scan.js'

/**
 * Asserts, once per secret, that no printable form of `value` holds it: its reachable
 * strings, `JSON.stringify`, `util.inspect` with hidden fields, an error's text and stack.
 */
export function expectNoSecret(value: unknown, secrets: readonly string[]): void {
  const text = printableForms(value).join('\n')
  for (const secret of secrets) expect(text).not.toContain(secret)
}
