import { describe, expect, it } from 'vitest'
import {
  KeyStoreError,
  NetworkError,
  NotFoundError,
  ProviderError,
  RateLimitError,
  ResponseValidationError,
  TimeoutError,
} from './errors.js'
import {
  alreadyDone,
  defaultRetryOptions,
  mayHaveTakenEffect,
  type RetryOperation,
  retryDelay,
  retryOperationOf,
} from './retry-policy.js'

const context = { provider: 'vendor', operation: 'test', message: 'failed' }
const options = { ...defaultRetryOptions, random: () => 0.5 }
const operations: RetryOperation[] = ['read', 'update', 'delete', 'create', 'regenerate']

const failures = {
  refused: new NetworkError({ ...context, phase: 'before-send', retryable: true }),
  reset: new NetworkError({ ...context, phase: 'ambiguous', retryable: true }),
  timeout: new TimeoutError({ ...context, retryable: true }),
  deadline: new TimeoutError(context),
  429: new RateLimitError({ ...context, status: 429, retryAfterMs: 2000 }),
  425: new RateLimitError({ ...context, status: 425 }),
  503: new ProviderError({ ...context, status: 503, retryable: true }),
  501: new ProviderError({ ...context, status: 501 }),
  404: new NotFoundError({ ...context, status: 404 }),
  shape: new ResponseValidationError(context),
}

describe('retryOperationOf', () => {
  it('takes the declared operation, then a named store operation, then the method', () => {
    expect(retryOperationOf({ operation: 'login', method: 'POST', retryAs: 'read' })).toBe('read')
    expect(retryOperationOf({ operation: 'delete', method: 'POST' })).toBe('delete')
    expect(retryOperationOf({ operation: 'update', method: 'POST' })).toBe('update')
    expect(retryOperationOf({ operation: 'regenerate', method: 'PUT' })).toBe('regenerate')
    expect(retryOperationOf({ operation: 'list', method: 'GET' })).toBe('read')
    expect(retryOperationOf({ operation: 'test', method: 'PATCH' })).toBe('update')
    expect(retryOperationOf({ operation: 'test', method: 'DELETE' })).toBe('delete')
    expect(retryOperationOf({ operation: 'login', method: 'POST' })).toBe('create')
  })
})

describe('retryDelay', () => {
  // Which failures each operation retries: driven by `retryable`, narrowed for writes that
  // must not repeat.
  const retried: Record<RetryOperation, string[]> = {
    read: ['refused', 'reset', 'timeout', '429', '425', '503'],
    update: ['refused', 'reset', 'timeout', '429', '425', '503'],
    delete: ['refused', 'reset', 'timeout', '429', '425', '503'],
    create: ['refused', '429'],
    regenerate: [],
  }
  for (const operation of operations) {
    it(`${operation}: retries ${retried[operation].join(', ') || 'nothing'}`, () => {
      const actual = Object.entries(failures)
        .filter(([, error]) => retryDelay(error, operation, 1, options) !== undefined)
        .map(([name]) => name)
      expect(actual.sort()).toEqual([...retried[operation]].sort())
    })
  }

  it('waits what the vendor asked, and gives up at once beyond maxRetryAfterMs', () => {
    expect(retryDelay(failures[429], 'read', 1, options)).toBe(2000)
    expect(retryDelay(failures[429], 'read', 1, { ...options, maxRetryAfterMs: 1000 })).toBe(
      undefined,
    )
    expect(retryDelay(failures[503], 'read', 2, options)).toBe(500)
  })

  it('never retries what is not a keyway error', () => {
    expect(retryDelay(new Error('plain'), 'read', 1, options)).toBeUndefined()
  })
})

describe('mayHaveTakenEffect and alreadyDone', () => {
  it('holds for lost answers, timeouts, 5xx and unreadable 2xx only', () => {
    const effective = Object.entries(failures)
      .filter(([, error]) => mayHaveTakenEffect(error))
      .map(([name]) => name)
    expect(effective.sort()).toEqual(['501', '503', 'deadline', 'reset', 'shape', 'timeout'])
    expect(mayHaveTakenEffect(new KeyStoreError({ ...context, status: 400 }))).toBe(false)
    expect(mayHaveTakenEffect(new ProviderError({ ...context, status: 502 }))).toBe(true)
    expect(mayHaveTakenEffect(new Error('plain'))).toBe(false)
  })

  it('counts a 404 as done only for a delete after an attempt that may have taken effect', () => {
    expect(alreadyDone(failures[404], 'delete', true)).toBe(true)
    expect(alreadyDone(failures[404], 'delete', false)).toBe(false)
    expect(alreadyDone(failures[404], 'update', true)).toBe(false)
    expect(alreadyDone(failures[503], 'delete', true)).toBe(false)
  })
})
