import { describe, expect, it, vi } from 'vitest'
import { ValidationError } from './errors.js'
import { createHttpClient } from './http-client.js'
import {
  baseCreateInputSchema,
  baseUpdateInputSchema,
  encodeId,
  resolveBaseUrl,
  validateInput,
} from './validate.js'

const context = { provider: 'vendor', operation: 'get' }

/**
 * The shape every adapter's operation has: validate, then send. Used to prove that bad
 * input never reaches fetch.
 */
function getKey(id: unknown, fetch: typeof globalThis.fetch) {
  const client = createHttpClient({ provider: 'vendor', baseUrl: 'https://api.vendor.test', fetch })
  return client.request({ operation: 'get', method: 'GET', path: `/keys/${encodeId(id, context)}` })
}

describe('ids', () => {
  const bad: Array<[string, unknown]> = [
    ['empty', ''],
    ['a relative path', '../keys'],
    ['a slash', 'a/b'],
    ['an encoded dot-dot', '%2e%2e'],
    ['a dot-dot', '..'],
    ['a CR', 'abc\rdef'],
    ['a LF', 'abc\ndef'],
    ['a NUL', 'abc\u0000def'],
    ['a space', 'abc def'],
    ['a query', 'abc?x=1'],
    ['a fragment', 'abc#x'],
    ['a backslash', 'a\\b'],
    ['too long', 'a'.repeat(257)],
    ['not a string', 42],
  ]

  it.each(bad)('rejects %s with ValidationError and sends nothing', async (_name, id) => {
    expect.assertions(4)
    const fetch = vi.fn<typeof globalThis.fetch>()
    try {
      await getKey(id, fetch)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues[0]?.path).toBe('id')
      expect((error as ValidationError).message).toMatch(/^vendor get: invalid key id/)
    }
    expect(fetch).not.toHaveBeenCalled()
  })

  it('rejects an id that does not match the vendor pattern', () => {
    expect(() => encodeId('tok_short', context, /^tok_[a-z0-9]{13}$/)).toThrow(ValidationError)
    expect(encodeId('tok_abcdefghij123', context, /^tok_[a-z0-9]{13}$/)).toBe('tok_abcdefghij123')
  })

  it('URL-encodes an acceptable id', () => {
    expect(encodeId('key:1+2@x', context)).toBe('key%3A1%2B2%40x')
    expect(encodeId('42', context)).toBe('42')
  })
})

describe('create and update input', () => {
  const create = { provider: 'vendor', operation: 'create' }

  it('accepts a well-formed input and trims the name', () => {
    expect(
      validateInput(baseCreateInputSchema, { name: '  ci  ', metadata: { team: 'infra' } }, create),
    ).toEqual({ name: 'ci', metadata: { team: 'infra' } })
  })

  it.each([
    ['a 10,000-character name', { name: 'n'.repeat(10_000) }, 'name'],
    ['an empty name', { name: '   ' }, 'name'],
    ['a non-string metadata value', { metadata: { team: 42 } }, 'metadata.team'],
    ['a nested metadata value', { metadata: { team: { name: 'x' } } }, 'metadata.team'],
    ['an invalid date', { expiresAt: new Date('nope') }, 'expiresAt'],
    ['a date string', { expiresAt: '2027-01-01' }, 'expiresAt'],
    ['an array', [], ''],
    ['an array with a name', Object.assign(['x'], { name: 'ci' }), ''],
    ['a class instance', new Map(), ''],
    ['a field named constructor', { name: 'ci', constructor: 'x' }, 'constructor'],
    ['a field named __proto__', JSON.parse('{"__proto__": {"name": "x"}}'), '__proto__'],
    ['a field named prototype', { prototype: {} }, 'prototype'],
    ['metadata as an array', { metadata: ['x'] }, 'metadata'],
    [
      'metadata with a constructor key',
      { metadata: JSON.parse('{"constructor": "x"}') },
      'metadata.constructor',
    ],
    [
      'metadata with a __proto__ key',
      { metadata: JSON.parse('{"__proto__": "x"}') },
      'metadata.__proto__',
    ],
  ])('rejects %s, naming the field', (_name, input, path) => {
    expect.assertions(3)
    try {
      validateInput(baseCreateInputSchema, input, create)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues.map((issue) => issue.path)).toContain(path)
      expect((error as ValidationError).operation).toBe('create')
    }
  })

  it('accepts an object without a prototype', () => {
    const input = Object.assign(Object.create(null), { name: 'ci' })
    expect(validateInput(baseCreateInputSchema, input, create)).toEqual({ name: 'ci' })
  })

  it('refuses an update status that is not exactly one of the statuses', () => {
    for (const status of ['Disabled', 'DISABLED', ' active', 'inactive']) {
      expect(() => validateInput(baseUpdateInputSchema, { status }, create)).toThrow(
        ValidationError,
      )
    }
  })

  it('does not quote the rejected value in the error', () => {
    expect.assertions(1)
    try {
      validateInput(baseUpdateInputSchema, { status: 'sk-fake-value-in-wrong-field' }, create)
    } catch (error) {
      expect(JSON.stringify(error) + String(error)).not.toContain('sk-fake-value-in-wrong-field')
    }
  })
})

describe('base URL', () => {
  it.each([
    'http://api.vendor.test',
    'http://10.0.0.5:8080',
    'ftp://api.vendor.test',
    'not a url',
    'https://user:pass@api.vendor.test',
    'https://api.vendor.test/?key=1',
  ])('refuses %s', (url) => {
    expect(() => resolveBaseUrl(url, context)).toThrow(ValidationError)
  })

  it.each([
    ['https://api.vendor.test/v1/', 'https://api.vendor.test/v1'],
    ['http://127.0.0.1:4010', 'http://127.0.0.1:4010'],
    ['http://localhost:4010/api', 'http://localhost:4010/api'],
    ['http://[::1]:4010', 'http://[::1]:4010'],
  ])('accepts %s', (url, expected) => {
    expect(resolveBaseUrl(url, context)).toBe(expected)
  })

  it('makes createHttpClient refuse a plain-http remote base URL before any request', () => {
    const fetch = vi.fn<typeof globalThis.fetch>()
    expect(() =>
      createHttpClient({ provider: 'vendor', baseUrl: 'http://api.vendor.test', fetch }),
    ).toThrow(ValidationError)
    expect(fetch).not.toHaveBeenCalled()
  })
})
