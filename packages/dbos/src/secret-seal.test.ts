import { randomBytes } from 'node:crypto'
import { Secret, ValidationError } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import { checkSealingKey, openSealedSecret, sealSecret } from './secret-seal.js'

const key = randomBytes(32).toString('base64')
const fake = 'sk-test-fake-secret-0000'

describe('sealSecret', () => {
  it('round-trips a secret and never shows it in the sealed text', () => {
    const sealed = sealSecret(new Secret(fake), key)
    expect(sealed).toMatch(/^v1\./)
    expect(sealed).not.toContain(fake)
    expect(sealed).not.toContain(Buffer.from(fake).toString('base64'))
    expect(openSealedSecret(sealed, key).reveal()).toBe(fake)
  })

  it('seals the same secret differently each time', () => {
    expect(sealSecret(new Secret(fake), key)).not.toBe(sealSecret(new Secret(fake), key))
  })

  it('refuses another key and a changed text', () => {
    const sealed = sealSecret(new Secret(fake), key)
    expect(() => openSealedSecret(sealed, randomBytes(32).toString('base64'))).toThrow()
    const parts = sealed.split('.')
    const body = Buffer.from(parts[3] as string, 'base64url')
    body[0] = (body[0] as number) ^ 1
    parts[3] = body.toString('base64url')
    expect(() => openSealedSecret(parts.join('.'), key)).toThrow()
  })

  it('refuses a sealing key that is not 32 bytes, without echoing it', () => {
    const short = randomBytes(16).toString('base64')
    expect.assertions(3)
    try {
      checkSealingKey(short)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as Error).message).not.toContain(short)
      expect(JSON.stringify(error)).not.toContain(short)
    }
  })
})
