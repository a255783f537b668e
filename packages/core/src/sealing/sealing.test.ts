import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { credentialStore } from '../credential-store.test-support.js'
import { NotFoundError, UnsupportedOperationError, ValidationError } from '../errors.js'
import { Secret } from '../secret.js'
import { storeFingerprint } from '../store-fingerprint.js'
import type { ApiKey, KeyStore } from '../types.js'
import { checkSealingKey, openSealedSecret, sealSecret } from './sealed-secret.js'
import { sealingStore } from './sealing-store.js'
import { storeSealingKey } from './store-sealing-key.js'

const key = randomBytes(32).toString('base64')
const fake = 'sk-test-fake-secret-0000'

describe('sealSecret', () => {
  it('round-trips a secret and never shows it in the sealed text', () => {
    const sealed = sealSecret(new Secret(fake), key)
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(sealed).not.toContain(fake)
    expect(sealed).not.toContain(Buffer.from(fake).toString('base64'))
    expect(openSealedSecret(sealed, key).reveal()).toBe(fake)
    // The same key given as bytes opens it too.
    expect(openSealedSecret(sealed, Buffer.from(key, 'base64')).reveal()).toBe(fake)
  })

  it('opens a value sealed in the v1 format by earlier releases (a fixed vector)', () => {
    // Sealed with @keyway/dbos's earlier sealSecret (the same AES-256-GCM layout), all-zero key.
    const zero = Buffer.alloc(32).toString('base64')
    const vector = 'v1.KwPslj-zWdhSo6Ox.pzDI1O1GSU8jyGxhAZiN1Q.Eb2oOY7pMaLxaaLsON2m7fk2b14VQFgJ'
    expect(openSealedSecret(vector, zero).reveal()).toBe(fake)
  })

  it('seals the same secret differently each time', () => {
    expect(sealSecret(new Secret(fake), key)).not.toBe(sealSecret(new Secret(fake), key))
  })

  it('refuses another key, a changed text and a text that is not sealed, without echoing either', () => {
    const sealed = sealSecret(new Secret(fake), key)
    const other = randomBytes(32).toString('base64')
    expect(() => openSealedSecret(sealed, other)).toThrow(/cannot be opened/)
    const parts = sealed.split('.')
    const body = Buffer.from(parts[3] as string, 'base64url')
    body[0] = (body[0] as number) ^ 1
    parts[3] = body.toString('base64url')
    expect(() => openSealedSecret(parts.join('.'), key)).toThrow(/cannot be opened/)
    expect(() => openSealedSecret(`${sealed}.x`, key)).toThrow('not a sealed secret')
    expect(() => openSealedSecret(`v2${sealed.slice(2)}`, key)).toThrow('not a sealed secret')
    try {
      openSealedSecret(sealed, other)
    } catch (error) {
      expect((error as Error).message).not.toContain(other)
      expect((error as Error).message).not.toContain(sealed)
    }
  })

  it('refuses a sealing key that is not 32 bytes, without echoing it', () => {
    const short = randomBytes(16).toString('base64')
    expect.assertions(4)
    try {
      checkSealingKey(short)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues[0]?.path).toBe('sealingKey')
      expect((error as Error).message).not.toContain(short)
      expect(JSON.stringify(error)).not.toContain(short)
    }
  })
})

const storeWith = (credential: string | string[]) => credentialStore({ credential })

/** A store that mints numbered secrets (nothing is sent). */
function mintingStore(): KeyStore {
  let made = 0
  const key = (id: string) => ({ id, provider: 'acme', name: null, status: 'active' }) as ApiKey
  return {
    provider: 'acme',
    create: async () => {
      made += 1
      return { key: key(`key-${made}`), secret: new Secret(`minted-secret-number-${made}`) }
    },
    regenerate: async (id: string) => ({ key: key(id), secret: new Secret(`regenerated-${id}`) }),
  } as unknown as KeyStore
}

describe('storeSealingKey', () => {
  it('is the same for one credential and salt, and differs for another credential or salt', () => {
    const salt = randomBytes(16)
    const first = storeSealingKey(storeWith('mgmt-credential-one'), salt)
    expect(first).toHaveLength(32)
    expect(storeSealingKey(storeWith('mgmt-credential-one'), salt).equals(first)).toBe(true)
    expect(storeSealingKey(storeWith('mgmt-credential-two'), salt).equals(first)).toBe(false)
    expect(storeSealingKey(storeWith('mgmt-credential-one'), randomBytes(16)).equals(first)).toBe(
      false,
    )
    // Every part of a credential counts (an email and a password).
    expect(
      storeSealingKey(storeWith(['a@example.test', 'pw-1']), salt).equals(
        storeSealingKey(storeWith(['a@example.test', 'pw-2']), salt),
      ),
    ).toBe(false)
  })

  it('is not the account fingerprint made with the salt as its digest key', () => {
    const salt = randomBytes(16)
    const store = storeWith('mgmt-credential-one')
    const fingerprint = Buffer.from(storeFingerprint(store, salt).credential, 'base64url')
    expect(storeSealingKey(store, salt).equals(fingerprint)).toBe(false)
  })

  it('refuses a store that declares no credential', () => {
    expect(() => storeSealingKey({ provider: 'acme' } as never, randomBytes(16))).toThrow(
      ValidationError,
    )
  })
})

describe('sealingStore', () => {
  it('keeps each minted and regenerated secret before answering, and reveals it back', async () => {
    const kept = new Map<string, string>()
    const order: string[] = []
    const store = sealingStore(mintingStore(), {
      keep: async (created) => {
        order.push(`keep ${created.key.id}`)
        kept.set(created.key.id, sealSecret(created.secret, key))
      },
      reveal: async (id) => {
        const sealed = kept.get(id)
        if (sealed === undefined)
          throw new NotFoundError({ provider: 'acme', operation: 'reveal', message: 'none kept' })
        return openSealedSecret(sealed, key)
      },
    })
    const created = await store.create({})
    order.push('answered')
    expect(order).toEqual(['keep key-1', 'answered'])
    expect((await store.reveal?.('key-1'))?.reveal()).toBe(created.secret.reveal())
    const regenerated = await store.regenerate('key-1')
    expect((await store.reveal?.('key-1'))?.reveal()).toBe(regenerated.secret.reveal())
    await expect(store.reveal?.('key-9')).rejects.toBeInstanceOf(NotFoundError)
    expect(store.provider).toBe('acme')
  })

  it('leaves every other member to the store, its hidden fingerprint too', async () => {
    const plain = storeWith('mgmt-credential-one')
    const store = sealingStore(plain, {
      keep: async () => {},
      reveal: async () => new Secret('unused-secret'),
    })
    const digestKey = randomBytes(16)
    expect(storeFingerprint(store, digestKey)).toEqual(storeFingerprint(plain, digestKey))
    expect(store.capabilities).toBe(plain.capabilities)
    // A store that cannot regenerate still refuses, and nothing is kept.
    await expect(store.regenerate('key-1')).rejects.toBeInstanceOf(UnsupportedOperationError)
  })

  it('answers nothing when the secret could not be kept', async () => {
    expect.assertions(1)
    const store = sealingStore(mintingStore(), {
      keep: async () => {
        throw new Error('disk full')
      },
      reveal: async () => new Secret('unused-secret'),
    })
    await expect(store.create({})).rejects.toThrow('disk full')
  })
})

describe('sealingStore without a reveal', () => {
  it('keeps what it mints and leaves the store its own reveal', async () => {
    const kept: string[] = []
    const plain = mintingStore()
    const store = sealingStore(plain, {
      keep: async (created) => {
        kept.push(created.key.id)
      },
    })
    await store.create({})
    expect(kept).toEqual(['key-1'])
    expect(store.reveal).toBeUndefined()
  })
})
