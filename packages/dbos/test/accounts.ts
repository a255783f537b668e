// Several accounts of each vendor in one set of rotations, seeded so that key ids repeat
// across accounts, and the checks of what the operator believes: a secret is only ever
// delivered for the account it was minted at, and a rotation at one account never waits for
// or touches another.
import { createHash } from 'node:crypto'
import type { DBOSClient } from '@dbos-inc/dbos-sdk'
import { type Emulator, startEmulator } from '@keyway/testkit'
import type pg from 'pg'
import { ROTATION_WORKFLOW_PREFIX } from '../src/index.js'
import { VENDORS, writesAt } from './fleet.js'
import type { WorkerConfig } from './worker.js'

export type Vendor = (typeof VENDORS)[number]

/** One account: its store label, its emulator, the keys seeded there and those rotated. */
export interface Account {
  label: string
  vendor: Vendor
  emulator: Emulator
  /** Every key seeded, by its store's id, with its secret. */
  seeded: Map<string, string>
  /** The store's ids of the keys the batch rotates here (the others stay as they are). */
  rotated: string[]
}

/**
 * The id a store gives a key the emulator holds under `emulatorId`: NoteDx's API names a key
 * by the key itself, which its store never uses as an id (`ndx_` and 24 hex of its SHA-256).
 */
export function storeIdOf(vendor: Vendor, emulatorId: string): string {
  if (vendor !== 'notedx') return emulatorId
  return `ndx_${createHash('sha256').update(emulatorId).digest('hex').slice(0, 24)}`
}

/** How many accounts each vendor has, and the key ids seeded at each (by account). */
export type Layout = Record<Vendor, string[][]>

/**
 * An id the vendor could give, the same for the same `name` everywhere: seeding one name at
 * two accounts makes their ids collide. Voiceable's ids are small whole numbers per account.
 */
export function collidingId(vendor: Vendor, name: number): string {
  const hex = createHash('sha256').update(`colliding-${name}`).digest('hex')
  if (vendor === 'openrouter') return hex
  if (vendor === 'latitudesh') return `tok_c${hex.slice(0, 12)}`
  if (vendor === 'notedx') return `lk-${hex.slice(0, 24)}`
  return String(200 + name)
}

/**
 * Starts one emulator per account and seeds its keys (no other keys beside the vendor's
 * own). `rotate` says which seeded ids of each account the batch rotates.
 */
export async function startAccounts(
  layout: Layout,
  rotate: (vendor: Vendor, account: number, id: string) => boolean,
): Promise<Account[]> {
  const accounts: Account[] = []
  for (const vendor of VENDORS) {
    for (const [index, ids] of layout[vendor].entries()) {
      const emulator = await startEmulator(vendor, { seedKeys: 0, rateLimit: false })
      const seeded = new Map<string, string>()
      for (const id of ids) {
        const key = emulator.control.seedKey({ id, name: `key-${id.slice(-6)}` })
        seeded.set(storeIdOf(vendor, key.id), key.secret)
      }
      accounts.push({
        label: `${vendor}-${String.fromCharCode(97 + index)}`,
        vendor,
        emulator,
        seeded,
        rotated: ids.filter((id) => rotate(vendor, index, id)).map((id) => storeIdOf(vendor, id)),
      })
    }
  }
  return accounts
}

/** The worker stores of the accounts, by label. */
export function accountStores(accounts: readonly Account[]): WorkerConfig['stores'] {
  return Object.fromEntries(
    accounts.map((account) => [
      account.label,
      { vendor: account.vendor, settings: account.emulator.settings },
    ]),
  )
}

/** What the checks found: every crossing or loss, in words (never a secret). */
export interface AccountFindings {
  /** A secret that works at another account, or was sent to one, or was delivered for another. */
  crossings: string[]
  /** A key not rotated exactly once, a key touched that was not the rotation's, a failed rotation. */
  problems: string[]
  keys: number
  deliveries: number
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex')

/**
 * Checks a finished batch. Every rotation succeeded; each rotated key is gone from its own
 * account, replaced by exactly one successor that is live there and was delivered for it;
 * each delivered secret works at its own account and at no other, and reached no other's
 * emulator; every key a batch did not rotate still works with its secret; creates at each
 * account are one per rotated key, plus at most one per rotation a killed worker held.
 */
export async function checkAccounts(
  accounts: readonly Account[],
  db: pg.Pool,
  client: DBOSClient,
  stranded = 0,
): Promise<AccountFindings> {
  const crossings: string[] = []
  const problems: string[] = []
  const runs = await client.listWorkflows({ workflow_id_prefix: ROTATION_WORKFLOW_PREFIX })
  const keys = accounts.reduce((sum, account) => sum + account.rotated.length, 0)
  if (runs.length !== keys) problems.push(`${runs.length} rotations for ${keys} keys`)
  for (const run of runs.filter((each) => each.status !== 'SUCCESS')) {
    problems.push(`${run.workflowID} ended ${run.status}: ${(run.error as Error)?.message}`)
  }
  const rows = await db.query<{
    label: string
    old_key_id: string
    new_key_id: string
    secret: string
  }>('SELECT DISTINCT label, old_key_id, new_key_id, secret FROM deliveries')
  const labels = new Set(accounts.map((account) => account.label))
  for (const row of rows.rows) {
    if (!labels.has(row.label)) problems.push(`a delivery for unknown label ${row.label}`)
  }
  for (const account of accounts) {
    const mine = rows.rows.filter((row) => row.label === account.label)
    const live = new Set(
      account.emulator.control.keyIds().map((id) => storeIdOf(account.vendor, id)),
    )
    const successors = new Map<string, Set<string>>()
    for (const row of mine) {
      const set = successors.get(row.old_key_id) ?? new Set<string>()
      set.add(`${row.new_key_id}`)
      successors.set(row.old_key_id, set)
      if (!account.emulator.control.works(row.secret)) {
        problems.push(
          `${account.label}: the secret delivered for ${row.old_key_id} does not work there`,
        )
      }
      for (const other of accounts) {
        if (other === account) continue
        if (other.emulator.control.works(row.secret)) {
          crossings.push(
            `${account.label}: a secret delivered for ${row.old_key_id} works at ${other.label}`,
          )
        }
        const sent = digest(row.secret)
        if (other.emulator.requests.some((request) => request.credentialDigest === sent)) {
          crossings.push(
            `${account.label}: a secret delivered for ${row.old_key_id} was sent to ${other.label}`,
          )
        }
      }
    }
    for (const id of account.rotated) {
      const made = successors.get(id)
      if (made === undefined || made.size !== 1) {
        problems.push(`${account.label}/${id}: ${made?.size ?? 0} successors delivered`)
        continue
      }
      const [successor] = [...made]
      if (!live.has(successor as string))
        problems.push(`${account.label}/${id}: its successor is not live`)
      if (live.has(id) && successor !== id) problems.push(`${account.label}/${id}: still live`)
    }
    for (const id of successors.keys()) {
      if (!account.rotated.includes(id))
        problems.push(`${account.label}/${id}: delivered, never asked for`)
    }
    // Keys no batch here rotated (some share their id with a key another account rotated)
    // are untouched: still there, the same secret still works.
    for (const [id, secret] of account.seeded) {
      if (account.rotated.includes(id)) continue
      if (!live.has(id) || !account.emulator.control.works(secret)) {
        crossings.push(`${account.label}/${id}: not rotated here, but no longer there as it was`)
      }
    }
    const { creates } = writesAt(account.emulator)
    if (creates < account.rotated.length || creates > account.rotated.length + stranded) {
      problems.push(`${account.label}: ${creates} creates for ${account.rotated.length} keys`)
    }
  }
  return { crossings, problems, keys, deliveries: rows.rows.length }
}
