import nock from 'nock'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ValidationError } from './errors.js'
import { createHttpClient } from './http-client.js'
import { Scheduler } from './scheduler.js'

const base = { provider: 'vendor', baseUrl: 'https://api.vendor.test' }

beforeAll(() => nock.disableNetConnect())
afterEach(() => {
  nock.cleanAll()
})

function refusal(settings: Record<string, unknown>): ValidationError {
  let thrown: unknown
  try {
    createHttpClient({ ...base, ...settings } as never)
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(ValidationError)
  return thrown as ValidationError
}

describe('store settings', () => {
  it.each([
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: -1 }, 'timeoutMs'],
    [{ timeoutMs: Number.NaN }, 'timeoutMs'],
    [{ timeoutMs: 2 ** 31 }, 'timeoutMs'],
    [{ retry: { attempts: 0 } }, 'retry.attempts'],
    [{ retry: { deadlineMs: Number.NaN } }, 'retry.deadlineMs'],
    [{ retry: { deadlineMs: 0 } }, 'retry.deadlineMs'],
    [{ retry: { maxRetryAfterMs: Number.POSITIVE_INFINITY } }, 'retry.maxRetryAfterMs'],
    [{ retry: null }, 'retry'],
    [{ scheduler: { concurrency: 0 } }, 'scheduler.concurrency'],
    [{ scheduler: { concurrency: 2.5 } }, 'scheduler.concurrency'],
    [{ scheduler: { readsPerSecond: -1 } }, 'scheduler.readsPerSecond'],
    [{ scheduler: 'fast' }, 'scheduler'],
    [{ hooks: { response: 1 } }, 'hooks.response'],
    [{ hooks: { respond: () => {} } }, 'hooks.respond'],
    [{ fetch: {} }, 'fetch'],
    [{ userAgent: '  ' }, 'userAgent'],
    [{ userAgent: 'agent\u0000' }, 'userAgent'],
    [{ userAgent: 'agent ✓' }, 'userAgent'],
    [{ reconcile: { intervalMs: 0 } }, 'reconcile.intervalMs'],
    [{ reconcile: { windowMs: Number.NaN } }, 'reconcile.windowMs'],
    [{ reconcile: { window: 5 } }, 'reconcile.window'],
  ])('refuses %o, naming %s, before any request', (settings, path) => {
    const fetch = vi.fn<typeof globalThis.fetch>()
    const error = refusal({ ...settings, fetch: (settings as { fetch?: unknown }).fetch ?? fetch })
    expect(error.issues.map((issue) => issue.path)).toContain(path)
    expect(error.message).toContain(path)
    expect(error.operation).toBe('configure')
    expect(fetch).not.toHaveBeenCalled()
  })

  it('refuses settings that are not a plain object', () => {
    expect(() => createHttpClient(['x'] as never)).toThrow(ValidationError)
  })

  it('accepts every documented form: retries off, a shared scheduler, limits at their edges', () => {
    const shared = new Scheduler({ concurrency: 1 })
    const client = createHttpClient({
      ...base,
      fetch: vi.fn<typeof globalThis.fetch>(),
      timeoutMs: 1,
      retry: false,
      scheduler: shared,
      hooks: { request: () => {} },
      userAgent: 'my-app/1.0',
      reconcile: { windowMs: 0, intervalMs: 1, sleep: async () => {} },
    })
    expect(client.scheduler).toBe(shared)
    expect(client.reconcile.windowMs).toBe(0)
    expect(createHttpClient({ ...base, retry: { attempts: 1, baseDelayMs: 0 } }).reconcile).toEqual(
      expect.objectContaining({ windowMs: 10_000, intervalMs: 1_000 }),
    )
  })

  it('sends nothing, and says so, when a header cannot be sent', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>()
    const client = createHttpClient({ ...base, fetch })
    const error = await client
      .request({
        operation: 'verify',
        method: 'GET',
        path: '/key',
        headers: { authorization: 'Bearer fake-key\r\nX-Injected: 1' },
      })
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).issues).toEqual([
      { path: 'headers.authorization', message: expect.any(String) },
    ])
    expect((error as Error).message).toMatch(/nothing was sent/)
    expect((error as Error).message).not.toContain('fake-key')
    expect(fetch).not.toHaveBeenCalled()
  })
})
