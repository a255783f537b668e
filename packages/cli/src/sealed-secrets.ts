import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type {
  CreatedKey,
  CreateKeyInput,
  KeyStore,
  RotationJournal,
  RotationRecord,
} from '@keyway/core'
import {
  NotFoundError,
  openSealedSecret,
  sealingKeyBytes,
  sealingStore,
  sealSecret,
  storeSealingKey,
  ValidationError,
} from '@keyway/core/adapter'
import { UsageError } from './usage-error.js'

/** The env var holding a key that seals new secrets instead of the store's credential. */
export const SEALING_KEY_ENV = 'KEYWAY_SEALING_KEY'

/** Which key sealed an entry: one derived from the store's credential, or `KEYWAY_SEALING_KEY`. */
type SealedBy = 'credential' | 'env'

interface SealedFile {
  version: 2
  /** Random, not secret: with the store's credential it derives the sealing key. */
  salt: string
  /** By `[label, keyId]` (JSON). */
  secrets: Record<string, { by: SealedBy; sealed: string }>
}

/** A rotation's states after which nothing needs its new secret. */
const ENDED = new Set(['done', 'rolled-back', 'failed'])

/**
 * The sealing key from `KEYWAY_SEALING_KEY` (32 random bytes, base64: `openssl rand -base64
 * 32`), or `undefined` when it is not set. A key of another size is a usage error that never
 * shows the value.
 */
export function sealingKeyOf(env: Record<string, string | undefined>): Buffer | undefined {
  const given = env[SEALING_KEY_ENV]
  if (given === undefined || given === '') return undefined
  try {
    return sealingKeyBytes(given)
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    throw new UsageError(
      `${SEALING_KEY_ENV} must be 32 bytes, base64-encoded`,
      'make one with: openssl rand -base64 32',
    )
  }
}

/**
 * A file of sealed secrets beside the journal (AES-256-GCM, readable by its owner only), by
 * store label and key id: what lets a rotation cut off after a target took its new secret
 * resume with that secret, instead of minting another key and writing every target again.
 *
 * By default each secret is sealed with a key derived (HKDF-SHA-256) from the credential its
 * store was opened with and a random salt kept in the file: whoever can open it holds that
 * credential, which already lets them mint keys at the vendor. `KEYWAY_SEALING_KEY` seals with
 * a key of the operator's instead. Entries go once their rotation ended; the file goes with
 * the last one.
 */
export class SealedSecrets {
  readonly path: string
  readonly #key: Buffer | undefined
  readonly #warn: (line: string) => void
  #queue: Promise<unknown> = Promise.resolve()

  constructor(path: string, key: Buffer | undefined, warn: (line: string) => void) {
    this.path = path
    this.#key = key
    this.#warn = warn
  }

  /**
   * The store as apply uses it: each secret it mints is sealed before the rotation goes on,
   * and `reveal` opens the one sealed for a key. When secrets sealed for this store can no
   * longer be opened with its credential (the credential changed since), the store gets no
   * `reveal`: a resume then does what it does without sealing, and a warning says so.
   */
  async wrap<C extends CreateKeyInput>(store: KeyStore<C>, label: string): Promise<KeyStore<C>> {
    // A store whose credential cannot seal is refused now, never after a key was made.
    if (this.#key === undefined) storeSealingKey(store, randomBytes(16))
    const sealed = this.#wrapping(store, label)
    const stale = await this.#unopenable(store, label)
    if (stale > 0) {
      this.#warn(
        `${label}: ${stale === 1 ? 'a new secret' : `${stale} new secrets`} sealed beside the journal (${this.path}) cannot be opened with this store's credential, which changed since: an interrupted rotation of ${label} cannot reuse it, so it makes one more new key, writes it to every target and retires the earlier one with the old key`,
      )
      return sealingStore(store, { keep: sealed.keep })
    }
    return sealingStore(store, sealed)
  }

  /**
   * Drops the sealed secrets of these labels that no unfinished rotation in the journal needs
   * (its rotation ended, or it was superseded and retired), and the file when none is left.
   */
  async forgetEnded(
    journal: RotationJournal,
    labels: readonly string[],
    labelOf: (record: RotationRecord) => string | undefined = fleetLabel(labels),
  ): Promise<void> {
    const needed = new Set<string>()
    for (const record of await journal.list()) {
      if (ENDED.has(record.state)) continue
      const label = labelOf(record)
      if (label === undefined || !labels.includes(label)) continue
      for (const keyId of [record.newKeyId, ...(record.supersededKeyIds ?? [])])
        if (keyId !== null) needed.add(entry(label, keyId))
    }
    await this.#change((file) => {
      for (const name of Object.keys(file.secrets))
        if (labels.includes(JSON.parse(name)[0]) && !needed.has(name)) delete file.secrets[name]
    })
  }

  #wrapping(store: KeyStore, label: string) {
    const keep = async (created: CreatedKey) =>
      this.#change((file) => {
        const by: SealedBy = this.#key === undefined ? 'credential' : 'env'
        const key = this.#key ?? storeSealingKey(store, Buffer.from(file.salt, 'base64url'))
        file.secrets[entry(label, created.key.id)] = {
          by,
          sealed: sealSecret(created.secret, key),
        }
      })
    const reveal = async (id: string) => {
      const file = await this.#settled()
      const found = file.secrets[entry(label, id)]
      if (found === undefined) throw notKept(store.provider, id)
      if (found.by === 'env' && this.#key === undefined)
        throw new ValidationError({
          provider: store.provider,
          operation: 'reveal',
          message: `${store.provider} reveal ${id}: the new secret was sealed with ${SEALING_KEY_ENV}, which is not set now; set it as it was to resume`,
        })
      try {
        return openSealedSecret(found.sealed, this.#keyFor(found.by, store, file))
      } catch {
        throw new ValidationError({
          provider: store.provider,
          operation: 'reveal',
          message: `${store.provider} reveal ${id}: the sealed secret in ${this.path} cannot be opened with ${SEALING_KEY_ENV} (it was sealed with another key, or changed)`,
        })
      }
    }
    return { keep, reveal }
  }

  /** How many secrets sealed for this label with a store's credential this store cannot open. */
  async #unopenable(store: KeyStore, label: string): Promise<number> {
    const file = await this.#settled()
    let count = 0
    for (const [name, found] of Object.entries(file.secrets)) {
      if (found.by !== 'credential' || JSON.parse(name)[0] !== label) continue
      try {
        openSealedSecret(found.sealed, this.#keyFor('credential', store, file))
      } catch {
        count += 1
      }
    }
    return count
  }

  #keyFor(by: SealedBy, store: KeyStore, file: SealedFile): Buffer {
    if (by === 'env') return this.#key as Buffer
    return storeSealingKey(store, Buffer.from(file.salt, 'base64url'))
  }

  async #settled(): Promise<SealedFile> {
    await this.#queue
    return this.#read()
  }

  async #read(): Promise<SealedFile> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error
      return { version: 2, salt: randomBytes(32).toString('base64url'), secrets: {} }
    }
    const parsed = JSON.parse(text) as Partial<SealedFile> | Record<string, string>
    if (parsed.version === 2) return parsed as SealedFile
    // An earlier release's file: every entry sealed with KEYWAY_SEALING_KEY.
    const secrets: SealedFile['secrets'] = {}
    for (const [name, sealed] of Object.entries(parsed as Record<string, string>))
      secrets[name] = { by: 'env', sealed }
    return { version: 2, salt: randomBytes(32).toString('base64url'), secrets }
  }

  /** Read, change, replace at once (or remove when empty); one change at a time in the process. */
  #change(change: (file: SealedFile) => void): Promise<void> {
    const next = this.#queue.then(async () => {
      const file = await this.#read()
      change(file)
      if (Object.keys(file.secrets).length === 0) {
        await rm(this.path, { force: true })
        return
      }
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 })
      const temporary = `${this.path}.${process.pid}.tmp`
      await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
      await rename(temporary, this.path)
    })
    this.#queue = next.catch(() => {})
    return next
  }
}

/** The label of a fleet rotation: its batch id is `<batch>:<label>`. */
function fleetLabel(labels: readonly string[]) {
  return (record: RotationRecord): string | undefined => {
    const batch = record.rotationId.slice(0, record.rotationId.lastIndexOf('/'))
    return labels.find((candidate) => batch.endsWith(`:${candidate}`))
  }
}

function notKept(provider: string, id: string): NotFoundError {
  return new NotFoundError({
    provider,
    operation: 'reveal',
    message: `${provider} reveal ${id}: no sealed secret is kept for this key`,
  })
}

function entry(label: string, keyId: string): string {
  return JSON.stringify([label, keyId])
}
