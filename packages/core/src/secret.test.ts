import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { Secret } from './secret.js'

const VALUE = 'sk-test-fake-0000000000000000000000ca3b'

describe('Secret', () => {
  it('reveals the value only through reveal()', () => {
    const secret = new Secret(VALUE)
    expect(secret.reveal()).toBe(VALUE)
    expect(secret.hint).toBe('ca3b')
  })

  it('prints a masked form everywhere else', () => {
    const secret = new Secret(VALUE)
    const printed = [
      String(secret),
      `${secret}`,
      JSON.stringify({ secret }),
      inspect(secret, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      inspect({ nested: { secret } }, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      Object.keys(secret).join(','),
      JSON.stringify(Object.entries(secret)),
    ]
    for (const text of printed) expect(text).not.toContain(VALUE.slice(0, -4))
    expect(String(secret)).toBe('Secret(…ca3b)')
    expect(JSON.stringify({ secret })).toBe('{"secret":"Secret(…ca3b)"}')
  })

  it('shows no hint for short values, which four characters would half reveal', () => {
    const secret = new Secret('abcd1234')
    expect(secret.hint).toBe('')
    expect(String(secret)).toBe('Secret(****)')
  })

  it('rejects an empty value', () => {
    expect(() => new Secret('')).toThrow(TypeError)
  })

  it('is recognised by Secret.is, and plain objects are not', () => {
    expect(Secret.is(new Secret(VALUE))).toBe(true)
    expect(Secret.is({ reveal: () => VALUE })).toBe(false)
    expect(Secret.is(VALUE)).toBe(false)
  })
})
