import { hkdfSync } from 'node:crypto'
import { storeFingerprint } from '../store-fingerprint.js'
import type { KeyStore } from '../types.js'

/** Keeps this derivation's digests apart from every account fingerprint's. */
const DOMAIN = 'keyway sealing key v1\n'
const INFO = 'keyway sealed secrets v1'

/**
 * A sealing key derived (HKDF-SHA-256) from the credential `store` was built with and `salt`
 * (at least 16 random bytes, kept beside what it seals; it is not secret): whoever can derive
 * it holds that credential, which already lets them mint keys at the vendor, so a secret
 * sealed with it gives nobody anything new. Another credential (or salt) gives another key.
 * Sends nothing; the credential never leaves the store. A store not built by `defineKeyStore`
 * on a client that declares its credential is a `ValidationError`.
 */
export function storeSealingKey(store: KeyStore, salt: Uint8Array): Buffer {
  // The store shows its credential only as a keyed digest: with a key of its own domain, that
  // digest is a secret only the credential's holder can compute (HKDF's input keying material).
  const digestKey = Buffer.concat([Buffer.from(DOMAIN), salt])
  const material = storeFingerprint(store, digestKey).credential
  return Buffer.from(hkdfSync('sha256', material, salt, INFO, 32))
}
