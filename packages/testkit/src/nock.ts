// Helpers for adapter tests that check the wire format with nock (no real network).
import nock from 'nock'
import { afterEach, beforeAll, expect, vi } from 'vitest'

/** Options of `useNock`. */
export interface UseNockOptions {
  /** Let requests to 127.0.0.1 through, for tests that also run an emulator. Default `false`. */
  allowLoopback?: boolean
}

/**
 * Sets up a test file for nock: no real network from the first test on; after each test,
 * every interceptor must have been used (so a request the test expected was really sent),
 * then interceptors and stubbed env vars are cleared.
 */
export function useNock(options: UseNockOptions = {}): void {
  beforeAll(() => {
    nock.disableNetConnect()
    if (options.allowLoopback) nock.enableNetConnect('127.0.0.1')
  })
  afterEach(() => {
    vi.unstubAllEnvs()
    try {
      expect(nock.pendingMocks(), 'interceptors the test set up but never used').toEqual([])
    } finally {
      nock.cleanAll()
    }
  })
}

/** A body matcher that records what it matched, for asserting on the JSON that was sent. */
export interface BodyCapture {
  /** The last body `match` saw; `undefined` until a request arrived. */
  readonly seen: { body?: unknown }
  /** Pass it as nock's body matcher; it accepts every body. */
  match: (body: unknown) => boolean
}

/** Records the body of the request a nock interceptor matches: `.post(path, capture.match)`. */
export function captureBody(): BodyCapture {
  const seen: { body?: unknown } = {}
  return {
    seen,
    match: (body: unknown) => {
      seen.body = body
      return true
    },
  }
}
