import { inspect } from 'node:util'
import { fingerprintChange, storeFingerprint } from '@keyway/core/adapter'
import { type Emulator, startEmulator } from '@keyway/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { storeFor, vendors } from './vendors.js'

const DIGEST_KEY = 'integration-digest-key-000000001'

describe.each(vendors)('the fingerprint of a %s store', (vendor) => {
  let first: Emulator
  let second: Emulator
  beforeAll(async () => {
    ;[first, second] = await Promise.all([
      startEmulator(vendor, { seedKeys: 0 }),
      startEmulator(vendor, { seedKeys: 0 }),
    ])
  })
  afterAll(async () => {
    await Promise.all([first.close(), second.close()])
  })

  it('is the same for two stores of one account and sends nothing', () => {
    const before = first.requests.length
    const one = storeFingerprint(storeFor(first), DIGEST_KEY)
    const other = storeFingerprint(storeFor(first), DIGEST_KEY)
    expect(other).toEqual(one)
    expect(fingerprintChange(one, other)).toBeUndefined()
    expect(one.baseUrl).toBe(String(first.settings.baseUrl).replace(/\/+$/, ''))
    expect(first.requests.length).toBe(before)
  })

  it('tells another account apart, by base URL and by credential', () => {
    const one = storeFingerprint(storeFor(first), DIGEST_KEY)
    const other = storeFingerprint(storeFor(second), DIGEST_KEY)
    expect(fingerprintChange(one, other)).toBe(
      `the base URL changed from ${one.baseUrl} to ${other.baseUrl} and the credential changed`,
    )
    // The second account's credential at the first account's URL: only the credential differs.
    const crossed = storeFingerprint(
      storeFor({
        ...second,
        settings: { ...second.settings, baseUrl: String(first.settings.baseUrl) },
      }),
      DIGEST_KEY,
    )
    expect(fingerprintChange(one, crossed)).toBe('the credential changed')
  })

  it('holds no part of the credential, nor does the store as printed', () => {
    const store = storeFor(first)
    const printed = [
      JSON.stringify(storeFingerprint(store, DIGEST_KEY)),
      JSON.stringify(store),
      inspect(store, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    ].join('\n')
    const credentials = Object.entries(first.settings)
      .filter(([setting]) => setting !== 'baseUrl' && setting !== 'email')
      .map(([, value]) => String(value))
    expect(credentials.length).toBeGreaterThan(0)
    for (const credential of credentials) expect(printed).not.toContain(credential)
  })
})
