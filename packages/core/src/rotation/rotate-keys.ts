import { randomUUID } from 'node:crypto'
import { KeyStoreError, RotationError, ValidationError } from '../errors.js'
import type { ApiKey, CreateKeyInput, KeyStore } from '../types.js'
import { type RotateKeyOptions, type RotationResult, rotateKey } from './rotate-key.js'
import { memoryJournal } from './rotation-journal.js'

/** Options of `rotateKeys`: those of `rotateKey`, less the key, plus which keys and how many at once. */
export interface RotateKeysOptions<C extends CreateKeyInput = CreateKeyInput>
  extends Omit<RotateKeyOptions<C>, 'keyId' | 'rotationId'> {
  /** Which keys to rotate. Default: every active key. */
  filter?: (key: ApiKey) => boolean
  /** Rotate exactly these ids instead of listing. */
  keyIds?: readonly string[]
  /** Names the batch: each key's rotation id is `<batchId>/<keyId>`, so a rerun resumes. Default: a new UUID. */
  batchId?: string
  /** Rotations at once. Requests are further paced by the store's scheduler. Default `4`. */
  concurrency?: number
  /** Told after each key. Plain data; never a secret. */
  onProgress?: (progress: RotateKeysProgress) => void
}

/** One key's outcome in a batch. Errors are kept as plain data. */
export type RotateKeysOutcome =
  | { keyId: string; status: 'rotated'; result: RotationResult }
  | {
      keyId: string
      status: 'failed'
      error: { name: string; code: string; message: string; step?: string; rolledBack?: boolean }
    }
  | { keyId: string; status: 'skipped'; reason: string }

/** Told after each key of a batch. */
export interface RotateKeysProgress {
  batchId: string
  done: number
  total: number
  outcome: RotateKeysOutcome
}

/** A batch's outcome, one entry per key. */
export interface RotateKeysResult {
  batchId: string
  outcomes: RotateKeysOutcome[]
  rotated: number
  failed: number
  skipped: number
}

/**
 * Rotates many keys, a few at a time, carrying on past individual failures. Each rotation
 * is journalled under `<batchId>/<keyId>`, so running the same batch again resumes it.
 * The store's own credential is skipped unless `allowSelf` is set.
 */
export async function rotateKeys<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeysOptions<C>,
): Promise<RotateKeysResult> {
  const concurrency = options.concurrency ?? 4
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ValidationError({
      provider: store.provider,
      operation: 'rotate',
      message: `${store.provider} rotate: concurrency must be a whole number of at least 1`,
      issues: [{ path: 'concurrency', message: 'a whole number of at least 1' }],
    })
  }
  const batchId = options.batchId ?? randomUUID()
  const journal = options.journal ?? memoryJournal()
  const signalOption = { signal: options.signal }
  const {
    filter,
    keyIds,
    onProgress,
    concurrency: _concurrency,
    batchId: _batchId,
    ...rotateOptions
  } = options

  const ids =
    keyIds !== undefined
      ? [...keyIds]
      : (await store.list({ ...signalOption, includeDisabled: false }))
          .filter((key) => filter === undefined || filter(key))
          .map((key) => key.id)
  const own = options.allowSelf ? [] : ((await store.credentialKeyIds?.(signalOption)) ?? [])

  const outcomes: RotateKeysOutcome[] = []
  let next = 0
  const worker = async () => {
    while (next < ids.length) {
      const keyId = ids[next++] as string
      const outcome = own.includes(keyId)
        ? ({
            keyId,
            status: 'skipped',
            reason: "the store's own credential (pass allowSelf to rotate it)",
          } as const)
        : await rotateOne(keyId)
      outcomes.push(outcome)
      onProgress?.({ batchId, done: outcomes.length, total: ids.length, outcome })
    }
  }
  const rotateOne = async (keyId: string): Promise<RotateKeysOutcome> => {
    try {
      const result = await rotateKey(store, {
        ...rotateOptions,
        journal,
        keyId,
        rotationId: `${batchId}/${keyId}`,
      })
      return { keyId, status: 'rotated', result }
    } catch (error) {
      options.signal?.throwIfAborted()
      return { keyId, status: 'failed', error: describe(error) }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker))

  const count = (status: RotateKeysOutcome['status']) =>
    outcomes.filter((outcome) => outcome.status === status).length
  return {
    batchId,
    outcomes,
    rotated: count('rotated'),
    failed: count('failed'),
    skipped: count('skipped'),
  }
}

function describe(error: unknown): Extract<RotateKeysOutcome, { status: 'failed' }>['error'] {
  if (error instanceof RotationError) {
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      step: error.step,
      rolledBack: error.rolledBack,
    }
  }
  if (KeyStoreError.is(error)) return { name: error.name, code: error.code, message: error.message }
  return { name: 'Error', code: 'unknown', message: 'rotation failed with a non-keyway error' }
}
