import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { credentialStore } from './credential-store.test-support.js'
import { FingerprintMismatchError, KeyStoreError, ValidationError } from './errors.js'
import {
  assertSameAccount,
  fingerprintChange,
  type StoreFingerprint,
  storeFingerprint,
} from './store-fingerprint.js'
import type { KeyStore } from './types.js'

const CREDENTIAL = 'sk-fingerprint-test-credential-4821'
const OTHER_CREDENTIAL = 'sk-fingerprint-test-credential-9376'
const DIGEST_KEY = 'digest-key-of-this-fleet-0001'
const OTHER_DIGEST_KEY = new Uint8Array(32).fill(7)

/** A store as an adapter builds it: credential declared to the client, no request sent. */
function storeWith(
  settings: { credential?: string | readonly string[]; baseUrl?: string; account?: string } = {},
): KeyStore {
  return credentialStore({
    ...settings,
    credential: 'credential' in settings ? settings.credential : CREDENTIAL,
  })
}

describe('storeFingerprint', () => {
  it('gives the normalised base URL and a keyed digest, and sends nothing', () => {
    const fingerprint = storeFingerprint(storeWith(), DIGEST_KEY)
    expect(fingerprint.baseUrl).toBe('http://127.0.0.1:9/api')
    expect(fingerprint.credential).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(fingerprint).not.toHaveProperty('account')
    expect(Object.keys(fingerprint).sort()).toEqual(['baseUrl', 'credential'])
  })

  it('is equal for equal inputs and differs per credential and per digest key', () => {
    const first = storeFingerprint(storeWith(), DIGEST_KEY)
    expect(storeFingerprint(storeWith(), DIGEST_KEY)).toEqual(first)
    expect(
      storeFingerprint(storeWith({ credential: OTHER_CREDENTIAL }), DIGEST_KEY).credential,
    ).not.toBe(first.credential)
    expect(storeFingerprint(storeWith(), OTHER_DIGEST_KEY).credential).not.toBe(first.credential)
    expect(storeFingerprint(storeWith(), OTHER_DIGEST_KEY)).toEqual(
      storeFingerprint(storeWith(), new Uint8Array(32).fill(7)),
    )
  })

  it('digests every part of a credential, kept apart', () => {
    const digestOf = (credential: readonly string[]) =>
      storeFingerprint(storeWith({ credential }), DIGEST_KEY).credential
    const digests = new Set(
      [
        ['ops@example.com', 'pass-1'],
        ['ops@example.com', 'pass-2'],
        ['dev@example.com', 'pass-1'],
        // The same characters, split elsewhere.
        ['ops@example.compass', '-1'],
      ].map(digestOf),
    )
    expect(digests.size).toBe(4)
  })

  it('carries the account id the adapter declared', () => {
    expect(storeFingerprint(storeWith({ account: 'acct_17' }), DIGEST_KEY).account).toBe('acct_17')
  })

  it('never holds the credential, and neither does the store as printed', () => {
    const store = storeWith()
    const fingerprint = storeFingerprint(store, DIGEST_KEY)
    const views = [
      JSON.stringify(fingerprint),
      inspect(fingerprint, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify(store),
      inspect(store, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify({ ...store }),
      Object.keys(store).join(','),
    ]
    for (const view of views) {
      expect(view).not.toContain(CREDENTIAL)
      expect(view).not.toContain(CREDENTIAL.slice(-8))
    }
    expect(
      Object.getOwnPropertySymbols(store).every(
        (symbol) => !Object.getOwnPropertyDescriptor(store, symbol)?.enumerable,
      ),
    ).toBe(true)
  })

  it('refuses a store not built by defineKeyStore', () => {
    expect.assertions(3)
    const built = storeWith()
    const copied = { ...built } as KeyStore
    try {
      storeFingerprint(copied, DIGEST_KEY)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).message).toMatch(/not built by defineKeyStore/)
      expect((error as ValidationError).issues).toEqual([
        { path: 'store', message: 'expected a store built by defineKeyStore' },
      ])
    }
  })

  it('refuses a store whose client did not declare its credential', () => {
    expect(() => storeFingerprint(storeWith({ credential: undefined }), DIGEST_KEY)).toThrow(
      ValidationError,
    )
  })

  it('refuses a short or missing digest key', () => {
    const store = storeWith()
    expect(() => storeFingerprint(store, 'short')).toThrow(/at least 16 bytes/)
    expect(() => storeFingerprint(store, new Uint8Array(4))).toThrow(/at least 16 bytes/)
    expect(() => storeFingerprint(store, undefined as unknown as string)).toThrow(
      /string or a Uint8Array/,
    )
  })
})

describe('fingerprintChange', () => {
  const recorded: StoreFingerprint = { baseUrl: 'https://a', credential: 'digest-a' }

  it('is undefined for the same account', () => {
    expect(fingerprintChange(recorded, { ...recorded })).toBeUndefined()
  })

  it('says which part changed, without a secret', () => {
    expect(fingerprintChange(recorded, { ...recorded, baseUrl: 'https://b' })).toBe(
      'the base URL changed from https://a to https://b',
    )
    expect(fingerprintChange(recorded, { ...recorded, credential: 'digest-b' })).toBe(
      'the credential changed',
    )
    expect(fingerprintChange(recorded, { baseUrl: 'https://b', credential: 'digest-b' })).toBe(
      'the base URL changed from https://a to https://b and the credential changed',
    )
  })

  it('lets account ids decide where both have one', () => {
    const withAccount = { ...recorded, account: 'acct_1' }
    expect(
      fingerprintChange(withAccount, { ...withAccount, credential: 'digest-b' }),
    ).toBeUndefined()
    expect(fingerprintChange(withAccount, { ...withAccount, account: 'acct_2' })).toBe(
      'the account changed from acct_1 to acct_2',
    )
    expect(fingerprintChange(withAccount, { ...recorded, credential: 'digest-b' })).toBe(
      'the credential changed',
    )
  })

  it('tells two real stores apart by their credential', () => {
    const first = storeFingerprint(storeWith(), DIGEST_KEY)
    const second = storeFingerprint(storeWith({ credential: OTHER_CREDENTIAL }), DIGEST_KEY)
    const message = fingerprintChange(first, second)
    expect(message).toBe('the credential changed')
    expect(message).not.toContain(first.credential)
  })
})

describe('FingerprintMismatchError', () => {
  it('is a KeyStoreError with a stable code naming the label and the change', async () => {
    expect.assertions(7)
    const recorded = storeFingerprint(storeWith(), DIGEST_KEY)
    const current = storeFingerprint(storeWith({ credential: OTHER_CREDENTIAL }), DIGEST_KEY)
    try {
      assertSameAccount({
        provider: 'vendor',
        label: 'prod',
        operation: 'resume',
        recorded,
        current,
      })
    } catch (error) {
      expect(error).toBeInstanceOf(FingerprintMismatchError)
      expect(KeyStoreError.is(error)).toBe(true)
      const mismatch = error as FingerprintMismatchError
      expect(mismatch.code).toBe('fingerprint_mismatch')
      expect(mismatch.label).toBe('prod')
      expect(mismatch.message).toBe(
        'vendor store "prod": resume refused: the label now reaches another account than recorded (the credential changed)',
      )
      const printed = [
        JSON.stringify(mismatch),
        inspect(mismatch, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      ].join('\n')
      expect(printed).not.toContain(CREDENTIAL)
      expect(printed).not.toContain(OTHER_CREDENTIAL)
    }
  })

  it('passes when the account is the same', () => {
    const recorded = storeFingerprint(storeWith(), DIGEST_KEY)
    expect(() =>
      assertSameAccount({
        provider: 'vendor',
        label: 'prod',
        operation: 'resume',
        recorded,
        current: storeFingerprint(storeWith(), DIGEST_KEY),
      }),
    ).not.toThrow()
  })
})
