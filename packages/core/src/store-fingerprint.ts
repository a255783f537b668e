import { createHmac } from 'node:crypto'
import { FingerprintMismatchError, ValidationError } from './errors.js'
import type { KeyStore } from './types.js'

/**
 * Which account a store reaches, in a form that holds no secret: what a journal records for
 * a store's label so that a later run can tell the label was pointed at another account.
 */
export interface StoreFingerprint {
  /** The base URL the store talks to, normalised (no trailing slash, lower-case host). */
  baseUrl: string
  /**
   * A keyed digest (HMAC-SHA256, base64url) of the store's credential, every part of it
   * (NoteDx's email and password). Equal only for an equal credential and an equal digest key.
   */
  credential: string
  /** The account or workspace id the vendor reports, where the store knows it without a request. */
  account?: string
}

/** What `createHttpClient` is told about the account a store reaches. */
export interface AccountSource {
  baseUrl: string
  /** The credential the store was built with, or each of its parts. */
  credential: readonly string[]
  account?: string
}

/** The member under which a client or store keeps its fingerprint function, across copies of core. */
const FINGERPRINT = Symbol.for('keyway.storeFingerprint')

type FingerprintFunction = (digestKey: string | Uint8Array) => StoreFingerprint

/** Bytes below which a digest key is too easy to guess for a credential digest. */
const MIN_DIGEST_KEY_BYTES = 16

/**
 * Gives `target` (an HTTP client, or the store built on it) a hidden, non-enumerable function
 * that digests its credential: the credential itself is never reachable through the object,
 * and `JSON.stringify`, `util.inspect` and spreads show nothing of it.
 */
export function attachFingerprint(
  target: object,
  source: AccountSource | FingerprintFunction | undefined,
): void {
  if (source === undefined) return
  const fingerprint =
    typeof source === 'function'
      ? source
      : (digestKey: string | Uint8Array): StoreFingerprint => ({
          baseUrl: source.baseUrl,
          credential: digestCredential(source.credential, digestKey),
          ...(source.account === undefined ? {} : { account: source.account }),
        })
  Object.defineProperty(target, FINGERPRINT, { value: fingerprint, enumerable: false })
}

/** The fingerprint function `target` carries, if any (see `attachFingerprint`). */
export function fingerprintFunction(target: object): FingerprintFunction | undefined {
  const value = (target as Record<symbol, unknown>)[FINGERPRINT]
  return typeof value === 'function' ? (value as FingerprintFunction) : undefined
}

/**
 * The account `store` reaches, as a fingerprint that holds no secret: its base URL, the
 * vendor's account id where known without a request, and a keyed digest of the credential
 * the store was built with. Sends nothing. The caller keeps `digestKey` (at least 16 bytes)
 * and uses the same one wherever fingerprints are compared; a digest made with another key
 * never matches. A store not built by `defineKeyStore` (or whose adapter did not declare its
 * credential to `createHttpClient`) is a `ValidationError`.
 */
export function storeFingerprint(
  store: KeyStore,
  digestKey: string | Uint8Array,
): StoreFingerprint {
  const provider =
    typeof store === 'object' && store !== null && typeof store.provider === 'string'
      ? store.provider
      : 'keyway'
  const fingerprint =
    typeof store === 'object' && store !== null ? fingerprintFunction(store) : undefined
  if (fingerprint === undefined) {
    throw new ValidationError({
      provider,
      operation: 'fingerprint',
      message: `${provider}: cannot tell which account this store reaches: it was not built by defineKeyStore on a client that declares its credential`,
      issues: [{ path: 'store', message: 'expected a store built by defineKeyStore' }],
    })
  }
  checkDigestKey(digestKey, provider)
  return fingerprint(digestKey)
}

/**
 * What differs between the account a label was recorded with and the one it reaches now, as
 * a plain sentence without any secret (`'the base URL changed from https://a to https://b'`,
 * `'the credential changed'`), or `undefined` when both are the same account. Where both name
 * the vendor's account id, the ids decide and a changed credential of the same account does not
 * count; otherwise the credential digests decide.
 */
export function fingerprintChange(
  recorded: StoreFingerprint,
  current: StoreFingerprint,
): string | undefined {
  const changes: string[] = []
  if (recorded.baseUrl !== current.baseUrl) {
    changes.push(`the base URL changed from ${recorded.baseUrl} to ${current.baseUrl}`)
  }
  if (recorded.account !== undefined && current.account !== undefined) {
    if (recorded.account !== current.account) {
      changes.push(`the account changed from ${recorded.account} to ${current.account}`)
    }
  } else if (recorded.credential !== current.credential) {
    changes.push('the credential changed')
  }
  return changes.length === 0 ? undefined : changes.join(' and ')
}

/**
 * Throws `FingerprintMismatchError` when `current` is not the account `recorded` says the
 * label meant; `operation` is what is refused (`'resume'`, `'reveal'`).
 */
export function assertSameAccount(options: {
  provider: string
  label: string
  operation: string
  recorded: StoreFingerprint
  current: StoreFingerprint
}): void {
  const change = fingerprintChange(options.recorded, options.current)
  if (change === undefined) return
  throw new FingerprintMismatchError({
    provider: options.provider,
    operation: options.operation,
    label: options.label,
    change,
  })
}

function digestCredential(parts: readonly string[], digestKey: string | Uint8Array): string {
  // JSON keeps the parts apart: ['ab', 'c'] and ['a', 'bc'] digest differently.
  return createHmac('sha256', digestKey)
    .update(`keyway-credential-v1\n${JSON.stringify(parts)}`)
    .digest('base64url')
}

function checkDigestKey(digestKey: unknown, provider: string): void {
  const length =
    typeof digestKey === 'string'
      ? Buffer.byteLength(digestKey)
      : digestKey instanceof Uint8Array
        ? digestKey.byteLength
        : -1
  if (length >= MIN_DIGEST_KEY_BYTES) return
  const problem =
    length < 0
      ? 'must be a string or a Uint8Array'
      : `must be at least ${MIN_DIGEST_KEY_BYTES} bytes long`
  throw new ValidationError({
    provider,
    operation: 'fingerprint',
    message: `${provider}: the fingerprint's digest key ${problem}`,
    issues: [{ path: 'digestKey', message: problem }],
  })
}
