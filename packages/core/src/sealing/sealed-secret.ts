import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { ValidationError } from '../errors.js'
import { Secret } from '../secret.js'

/**
 * A key that seals secrets: 32 bytes, given as the bytes or as base64 (`openssl rand -base64
 * 32`).
 */
export type SealingKey = string | Uint8Array

const VERSION = 'v1'
const KEY_BYTES = 32

/**
 * The 32 bytes of a sealing key. Another size is a `ValidationError` (path `sealingKey`) that
 * never shows the key.
 */
export function sealingKeyBytes(sealingKey: SealingKey): Buffer {
  const bytes =
    typeof sealingKey === 'string'
      ? Buffer.from(sealingKey, 'base64')
      : sealingKey instanceof Uint8Array
        ? Buffer.from(sealingKey)
        : Buffer.alloc(0)
  if (bytes.length !== KEY_BYTES) {
    throw new ValidationError({
      provider: 'keyway',
      operation: 'rotate',
      message: 'sealingKey must be 32 bytes, base64-encoded',
      issues: [{ path: 'sealingKey', message: 'must be 32 bytes, base64-encoded' }],
    })
  }
  return bytes
}

/** Checks a sealing key's shape; throws `ValidationError` (without the key) when it is wrong. */
export function checkSealingKey(sealingKey: SealingKey): void {
  sealingKeyBytes(sealingKey)
}

/**
 * Encrypts a secret with AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`, each part base64url. A
 * fresh random IV each time, so one secret seals differently every time.
 */
export function sealSecret(secret: Secret, sealingKey: SealingKey): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealingKeyBytes(sealingKey), iv)
  const body = Buffer.concat([cipher.update(secret.reveal(), 'utf8'), cipher.final()])
  const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'))
  return [VERSION, ...parts].join('.')
}

/**
 * Decrypts what `sealSecret` made. Another key, a changed text or something that is not a
 * sealed secret throws (a plain `Error` that says nothing of the key or the text).
 */
export function openSealedSecret(sealed: string, sealingKey: SealingKey): Secret {
  const key = sealingKeyBytes(sealingKey)
  const [version, iv, tag, body, extra] = String(sealed).split('.')
  if (
    version !== VERSION ||
    iv === undefined ||
    tag === undefined ||
    body === undefined ||
    extra !== undefined
  ) {
    throw new Error('not a sealed secret')
  }
  let text: string
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    text = Buffer.concat([
      decipher.update(Buffer.from(body, 'base64url')),
      decipher.final(),
    ]).toString('utf8')
  } catch {
    throw new Error('the sealed secret cannot be opened with this key (another key, or changed)')
  }
  return new Secret(text)
}
