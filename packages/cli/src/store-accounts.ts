import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { FingerprintMismatchError, type KeyStore, type StoreFingerprint } from '@keyway/core'
import { fingerprintChange, storeFingerprint } from '@keyway/core/adapter'
import * as v from 'valibot'
import { UsageError } from './usage-error.js'

/** One store's part of a batch, as the journal names it. */
export interface BatchPart {
  /** The batch id in the journal (`storeBatchId(batchId, label)` for a fleet). */
  journalBatchId: string
  /** The store's label (the vendor's id for `keyway rotate --provider`). */
  label: string
  store: KeyStore
}

const fingerprintSchema = v.object({
  baseUrl: v.string(),
  credential: v.string(),
  account: v.optional(v.string()),
})
const recordsSchema = v.object({
  version: v.literal(1),
  batches: v.record(v.string(), v.object({ label: v.string(), fingerprint: fingerprintSchema })),
})
type AccountFile = v.InferOutput<typeof recordsSchema>

/**
 * Which account each label of each batch meant, kept beside the journal: `<journal>.accounts.json`
 * holds fingerprints (base URL and a keyed digest of the credential, never a secret), and
 * `<journal>.key` the digest key, made on first use and readable by its owner only. A batch
 * resumed with a label that now reaches another account (another credential or base URL) is
 * refused before anything is sent: its journalled key ids belong to the first account.
 */
export function storeAccounts(journalPath: string) {
  const recordsPath = `${journalPath}.accounts.json`
  const keyPath = `${journalPath}.key`

  /** Records the parts not yet recorded; throws `FingerprintMismatchError` for a changed one. */
  async function bind(parts: readonly BatchPart[]): Promise<void> {
    if (parts.length === 0) return
    const digestKey = await readOrCreateKey(keyPath)
    const records = await readRecords(recordsPath)
    let changed = false
    // Every part is checked before anything is recorded.
    const current = parts.map((part) => ({
      part,
      fingerprint: storeFingerprint(part.store, digestKey),
    }))
    for (const { part, fingerprint } of current) {
      const recorded = records.batches[part.journalBatchId]
      if (recorded === undefined) continue
      const change = fingerprintChange(recorded.fingerprint as StoreFingerprint, fingerprint)
      if (change !== undefined)
        throw new FingerprintMismatchError({
          provider: part.store.provider,
          operation: 'resume',
          label: part.label,
          change,
          message: `batch ${part.journalBatchId}: store "${part.label}" now reaches another account than when the batch began (${change}); nothing was sent`,
        })
    }
    for (const { part, fingerprint } of current) {
      if (records.batches[part.journalBatchId] !== undefined) continue
      records.batches[part.journalBatchId] = { label: part.label, fingerprint }
      changed = true
    }
    if (changed) await writeAtomically(recordsPath, `${JSON.stringify(records, null, 2)}\n`)
  }

  return { bind, recordsPath, keyPath }
}

export async function readOrCreateKey(path: string): Promise<Buffer> {
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url')
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error
  }
  await mkdir(dirname(path), { recursive: true })
  try {
    // `wx`: two runs starting at once keep one key, the first written.
    await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error
  }
  const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url')
  if (key.byteLength < 16)
    throw new UsageError(
      `${path} does not hold a digest key`,
      'it is made by keyway beside the journal; restore it, or remove it and start a new batch',
    )
  return key
}

async function readRecords(path: string): Promise<AccountFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { version: 1, batches: {} }
    throw error
  }
  const parsed = v.safeParse(recordsSchema, safeJson(text))
  if (parsed.success) return parsed.output
  throw new UsageError(
    `${path} is not a keyway account record`,
    'it is written by keyway beside the journal; restore it from a backup',
  )
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, text, { mode: 0o600 })
  await rename(temporary, path)
}
