import { AuthenticationError, KeyStoreError, RateLimitError } from '@keyway/core'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { type Emulator, type OpenRouterEmulatorControl, startEmulator } from '@keyway/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { customerKeyName, provisionKeyForCustomer } from './provision-customer-key.js'

// One emulator per test: its own port, its own keys, its own request log.
let emulator: Emulator<OpenRouterEmulatorControl>

beforeEach(async () => {
  emulator = await startEmulator('openrouter')
})
afterEach(() => emulator.close())

const customer = { id: '42', monthlyLimitUsd: 25 }
const KEYS_PATH = '/api/v1/keys'
/** The store as the application builds it, pointed at the emulator instead of openrouter.ai. */
const store = () => createOpenRouterKeyStore({ ...emulator.settings })
const creates = () =>
  emulator.requests.filter((request) => request.method === 'POST' && request.path === KEYS_PATH)
/** The customer's keys as OpenRouter holds them now. */
const customerKeys = async () =>
  (await store().list()).filter((key) => key.name === customerKeyName(customer))

describe('provisionKeyForCustomer', () => {
  it('makes one key with the monthly limit, and finds it on a second run', async () => {
    const first = await provisionKeyForCustomer(store(), customer)
    const second = await provisionKeyForCustomer(store(), customer)

    expect(first.status).toBe('created')
    expect(second).toEqual({ status: 'exists', keyId: first.keyId })
    expect(creates()).toHaveLength(1)
    expect(creates()[0]?.body).toMatchObject({
      name: expect.stringContaining('customer-42'),
      limit: 25,
      limit_reset: 'monthly',
    })
    const secret = first.status === 'created' ? first.secret.reveal() : ''
    expect(emulator.control.works(secret)).toBe(true)
    expect(emulator.control.keyAttributes(secret)).toMatchObject({
      name: 'customer-42',
      limit: 25,
      limit_reset: 'monthly',
    })
  })

  it('a lost create (the key was made, the answer never came): exactly one working key', async () => {
    // OpenRouter makes the key, then the connection drops before the answer arrives.
    emulator.inject({ match: { method: 'POST', path: KEYS_PATH }, drop: 'after' })

    const result = await provisionKeyForCustomer(store(), customer)

    expect(result.status).toBe('created')
    // The key the lost answer made was found by its marker and deleted; one more create ran.
    expect(creates()).toHaveLength(2)
    const keys = await customerKeys()
    expect(keys.map((key) => key.id)).toEqual([result.keyId])
    const secret = result.status === 'created' ? result.secret.reveal() : ''
    expect(emulator.control.works(secret)).toBe(true)
  })

  it('a 429 with Retry-After: waits as told, sends the create again, makes one key', async () => {
    emulator.inject({ match: { method: 'POST', path: KEYS_PATH }, status: 429, retryAfter: 1 })

    const result = await provisionKeyForCustomer(store(), customer)

    expect(result.status).toBe('created')
    expect(creates()).toHaveLength(2)
    expect((await customerKeys()).map((key) => key.id)).toEqual([result.keyId])
  })

  it('a 429 asking for a longer wait than the store allows: a RateLimitError at once, nothing made', async () => {
    expect.assertions(5)
    emulator.inject({ match: { method: 'POST', path: KEYS_PATH }, status: 429, retryAfter: 3600 })

    const error = await provisionKeyForCustomer(store(), customer).catch((thrown) => thrown)

    expect(error).toBeInstanceOf(RateLimitError)
    expect(error).toMatchObject({ status: 429, retryAfterMs: 3_600_000, retryable: true })
    expect(creates()).toHaveLength(1)
    expect(await customerKeys()).toEqual([])
    expect(KeyStoreError.is(error)).toBe(true)
  })

  it('a management key OpenRouter does not accept: an AuthenticationError that says so, without the key', async () => {
    expect.assertions(5)
    const wrongKey = `sk-or-v1-${'0'.repeat(64)}`
    const refused = createOpenRouterKeyStore({ ...emulator.settings, managementKey: wrongKey })

    const error = await provisionKeyForCustomer(refused, customer).catch((thrown) => thrown)

    expect(error).toBeInstanceOf(AuthenticationError)
    expect(error).toMatchObject({ status: 401, provider: 'openrouter', retryable: false })
    expect((error as Error).message).toBe(
      'openrouter list failed: 401 authentication failed: User not found.',
    )
    expect(JSON.stringify({ ...error, message: (error as Error).message })).not.toContain(wrongKey)
    expect(creates()).toEqual([])
  })

  it('a management key that expires between two calls: the create is refused, typed', async () => {
    expect.assertions(3)
    // The list passes; the create then meets the vendor's 401, as after an expiry or a revoke.
    emulator.inject({
      match: { method: 'POST', path: KEYS_PATH },
      status: 401,
      body: { error: { code: 401, message: 'Key expired' } },
    })

    const error = await provisionKeyForCustomer(store(), customer).catch((thrown) => thrown)

    expect(error).toBeInstanceOf(AuthenticationError)
    expect((error as Error).message).toBe(
      'openrouter create failed: 401 authentication failed: Key expired',
    )
    expect(await customerKeys()).toEqual([])
  })
})
