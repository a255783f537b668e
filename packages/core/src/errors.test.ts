import { describe, expect, it } from 'vitest'
import {
  AmbiguousCreateError,
  AuthenticationError,
  KeyStoreError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  RotationError,
  ValidationError,
} from './errors.js'

const base = {
  provider: 'openrouter',
  operation: 'get',
  message: 'openrouter get failed: 404 not found',
}

describe('KeyStoreError', () => {
  it('carries plain-data fields, a stable code and the class name', () => {
    const error = new NotFoundError({ ...base, status: 404, requestId: 'req_1' })
    expect(error).toBeInstanceOf(KeyStoreError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('NotFoundError')
    expect(error.code).toBe('not_found')
    expect(error.status).toBe(404)
    expect(error.retryable).toBe(false)
    expect(error.requestId).toBe('req_1')
    expect(String(error)).toBe('NotFoundError: openrouter get failed: 404 not found')
  })

  it('serialises to plain JSON with name, code and fields', () => {
    const error = new RateLimitError({ ...base, status: 429, retryAfterMs: 2000 })
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'RateLimitError',
      code: 'rate_limited',
      message: base.message,
      provider: 'openrouter',
      operation: 'get',
      status: 429,
      retryable: true,
      retryAfterMs: 2000,
    })
  })

  it('is recognised across copies of the package by its marker', () => {
    const foreign = Object.create({ [Symbol.for('keyway.error')]: true })
    expect(KeyStoreError.is(foreign)).toBe(true)
    expect(KeyStoreError.is(new AuthenticationError(base))).toBe(true)
    expect(KeyStoreError.is(new Error('plain'))).toBe(false)
    expect(KeyStoreError.is(null)).toBe(false)
  })

  it('gives each subclass its own fields', () => {
    expect(new NetworkError({ ...base, phase: 'ambiguous' }).phase).toBe('ambiguous')
    expect(
      new ValidationError({ ...base, issues: [{ path: 'name', message: 'too long' }] }).issues,
    ).toEqual([{ path: 'name', message: 'too long' }])
    const ambiguous = new AmbiguousCreateError({ ...base, candidateIds: ['a', 'b'] })
    expect(ambiguous.candidateIds).toEqual(['a', 'b'])
    expect(ambiguous.deletedIds).toEqual([])
    const rotation = new RotationError({ ...base, step: 'verify', rolledBack: true })
    expect([rotation.code, rotation.step, rotation.rolledBack]).toEqual([
      'rotation_failed',
      'verify',
      true,
    ])
  })
})
