import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { Secret, ValidationError } from '@keyway/core'

/**
 * A key that seals new secrets while a rotation holds them: 32 random bytes, base64. Every
 * worker of one fleet uses the same one (for example from a secret manager), so a rotation
 * picked up on another machine can verify the secret the first one delivered.
 */
export type SealingKey = string

const VERSION = 'v1'

function keyBytes(sealingKey: SealingKey): Buffer {
  const bytes = Buffer.from(sealingKey, 'base64')
  if (bytes.length !== 32) {
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
  keyBytes(sealingKey)
}

/** Encrypts a secret (AES-256-GCM): `v1.<iv>.<tag>.<ciphertext>`, base64url. */
export function sealSecret(secret: Secret, sealingKey: SealingKey): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyBytes(sealingKey), iv)
  const body = Buffer.concat([cipher.update(secret.reveal(), 'utf8'), cipher.final()])
  const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'))
  return [VERSION, ...parts].join('.')
}

/** Decrypts what `sealSecret` made; a wrong key or a changed text fails. */
export function openSealedSecret(sealed: string, sealingKey: SealingKey): Secret {
  const [version, iv, tag, body] = sealed.split('.')
  if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
    throw new Error('not a sealed secret')
  }
  const decipher = createDecipheriv(
    'aes-256-gcm',
    keyBytes(sealingKey),
    Buffer.from(iv, 'base64url'),
  )
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  const text = Buffer.concat([
    decipher.update(Buffer.from(body, 'base64url')),
    decipher.final(),
  ]).toString('utf8')
  return new Secret(text)
}
