import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import {
  type CreatedKey,
  type CreateKeyInput,
  type KeyStore,
  NotFoundError,
  Secret,
  ValidationError,
} from '@keyway/core'
import { UsageError } from './usage-error.js'

/** The env var holding the key that seals new secrets while their rotation is unfinished. */
export const SEALING_KEY_ENV = 'KEYWAY_SEALING_KEY'

const VERSION = 'v1'

/**
 * The sealing key from `KEYWAY_SEALING_KEY` (32 random bytes, base64: `openssl rand -base64
 * 32`), or `undefined` when it is not set. A key of another size is a usage error that never
 * shows the value.
 */
export function sealingKeyOf(env: Record<string, string | undefined>): Buffer | undefined {
  const given = env[SEALING_KEY_ENV]
  if (given === undefined || given === '') return undefined
  const bytes = Buffer.from(given, 'base64')
  if (bytes.length !== 32)
    throw new UsageError(
      `${SEALING_KEY_ENV} must be 32 bytes, base64-encoded`,
      'make one with: openssl rand -base64 32',
    )
  return bytes
}

/**
 * A file of sealed secrets beside the journal (AES-256-GCM, readable by its owner only), by
 * store label and key id: what lets a rotation cut off after delivery resume with the secret
 * its targets already hold, instead of minting another key and writing every target again.
 */
export class SealedSecrets {
  readonly path: string
  readonly #key: Buffer
  #queue: Promise<unknown> = Promise.resolve()

  constructor(path: string, key: Buffer) {
    this.path = path
    this.#key = key
  }

  /** The store as apply uses it: each secret it mints is sealed before the rotation goes on. */
  wrap<C extends CreateKeyInput>(store: KeyStore<C>, label: string): KeyStore<C> {
    const seal = async (created: CreatedKey): Promise<CreatedKey> => {
      await this.#change((sealed) => {
        sealed[entry(label, created.key.id)] = this.#seal(created.secret)
      })
      return created
    }
    const create: KeyStore<C>['create'] = async (input, options) =>
      seal(await store.create(input, options))
    const regenerate: KeyStore<C>['regenerate'] = async (id, options) =>
      seal(await store.regenerate(id, options))
    const reveal = async (id: string): Promise<Secret> => {
      const sealed = (await this.#read())[entry(label, id)]
      if (sealed === undefined)
        throw new NotFoundError({
          provider: store.provider,
          operation: 'reveal',
          message: `${store.provider} reveal ${id}: no sealed secret is kept for this key`,
        })
      try {
        return this.#open(sealed)
      } catch {
        throw new ValidationError({
          provider: store.provider,
          operation: 'reveal',
          message: `${store.provider} reveal ${id}: the sealed secret in ${this.path} cannot be opened with ${SEALING_KEY_ENV} (it was sealed with another key, or changed)`,
        })
      }
    }
    return new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'create') return create
        if (property === 'regenerate' && target.regenerate !== undefined) return regenerate
        if (property === 'reveal') return reveal
        const value = Reflect.get(target, property, receiver)
        // A frozen property (the store's fingerprint) must be given as it is.
        const own = Object.getOwnPropertyDescriptor(target, property)
        if (own !== undefined && !own.configurable && !own.writable) return value
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  }

  /** Drops the sealed secrets of these keys (rotations that ended: nothing needs them). */
  async forget(keys: ReadonlyArray<{ label: string; keyId: string }>): Promise<void> {
    if (keys.length === 0) return
    await this.#change((sealed) => {
      for (const key of keys) delete sealed[entry(key.label, key.keyId)]
    })
  }

  async #read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as Record<string, string>
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return {}
      throw error
    }
  }

  /** Read, change, replace at once; one change at a time within the process. */
  #change(change: (sealed: Record<string, string>) => void): Promise<void> {
    const next = this.#queue.then(async () => {
      const sealed = await this.#read()
      change(sealed)
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 })
      const temporary = `${this.path}.${process.pid}.tmp`
      await writeFile(temporary, `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 })
      await rename(temporary, this.path)
    })
    this.#queue = next.catch(() => {})
    return next
  }

  #seal(secret: Secret): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    const body = Buffer.concat([cipher.update(secret.reveal(), 'utf8'), cipher.final()])
    const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'))
    return [VERSION, ...parts].join('.')
  }

  #open(sealed: string): Secret {
    const [version, iv, tag, body] = sealed.split('.')
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined)
      throw new Error('not a sealed secret')
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return new Secret(
      Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      ),
    )
  }
}

function entry(label: string, keyId: string): string {
  return JSON.stringify([label, keyId])
}
