import {
  checkSealingKey as checkKey,
  openSealedSecret as openSealed,
  type Secret,
  sealSecret as seal,
} from '@keyway/core/adapter'
import type { SealingKey } from './sealed-secret-store.js'

// Core's sealing (`@keyway/core/adapter`), with the key typed as the base64 text every worker
// shares.

/** Checks a sealing key's shape; throws `ValidationError` (without the key) when it is wrong. */
export function checkSealingKey(sealingKey: SealingKey): void {
  checkKey(sealingKey)
}

/** Encrypts a secret (AES-256-GCM): `v1.<iv>.<tag>.<ciphertext>`, base64url. */
export function sealSecret(secret: Secret, sealingKey: SealingKey): string {
  return seal(secret, sealingKey)
}

/** Decrypts what `sealSecret` made; a wrong key or a changed text fails. */
export function openSealedSecret(sealed: string, sealingKey: SealingKey): Secret {
  return openSealed(sealed, sealingKey)
}
