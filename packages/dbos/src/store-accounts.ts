import { randomBytes } from 'node:crypto'
import {
  type KeySelector,
  type KeyStore,
  SameAccountError,
  type StoreFingerprint,
} from '@keyway/core'
import {
  assertSameAccount,
  fingerprintChange,
  globsCannotOverlap,
  PART_WAY_STATES,
  storeFingerprint,
} from '@keyway/core/adapter'
import type { Pool } from 'pg'
import { invalid } from './input-checks.js'
import { KEYWAY_SCHEMA, readDigestKey } from './keyway-tables.js'

/** One store as the account check sees it. */
export interface AccountEntry {
  store: KeyStore
  select?: KeySelector
}

/**
 * Refuses, before anything is written, two stores of one set of rotations that reach the same
 * account (equal fingerprints) unless their selections cannot overlap: both would rotate the
 * same keys, each under its own label, and leave two live successors of each. The digests here
 * use a key made for this check alone; they are compared with each other only. Returns the
 * labels that share their account with another (their selections cannot overlap): a rotation
 * there must keep to its store's `select`.
 */
export function checkDistinctAccounts(
  entries: Readonly<Record<string, AccountEntry>>,
): Set<string> {
  const shared = new Set<string>()
  const digestKey = randomBytes(32)
  const seen: Array<{ label: string; fingerprint: StoreFingerprint; select?: KeySelector }> = []
  for (const [label, entry] of Object.entries(entries)) {
    const fingerprint = storeFingerprint(entry.store, digestKey)
    for (const other of seen) {
      if (fingerprintChange(other.fingerprint, fingerprint) !== undefined) continue
      if (!selectionsMayOverlap(other.select, entry.select)) {
        shared.add(other.label).add(label)
        continue
      }
      throw new SameAccountError({
        provider: 'keyway',
        operation: 'defineKeywayRotations',
        labels: [other.label, label],
        issues: [
          {
            path: `stores.${label}`,
            message: `reaches the same account as "${other.label}" and their selections may overlap`,
          },
        ],
      })
    }
    seen.push({
      label,
      fingerprint,
      ...(entry.select === undefined ? {} : { select: entry.select }),
    })
  }
  return shared
}

/**
 * Whether two selectors may pick the same key: unless both name globs that no name can match
 * together (status and age change over time, so they prove nothing).
 */
export function selectionsMayOverlap(
  first: KeySelector | undefined,
  second: KeySelector | undefined,
): boolean {
  if (first?.name === undefined || second?.name === undefined) return true
  return !globsCannotOverlap(first.name, second.name)
}

/**
 * Which account each store label reaches, recorded in Postgres: per label (`store_accounts`)
 * and per rotation (`rotation_accounts`, the account the rotation was started for). A rotation
 * is never resumed, taken over or shown its sealed secret by a worker whose store under that
 * label reaches another account: `FingerprintMismatchError`, saying what changed.
 */
export class StoreAccounts {
  readonly #pool: Pool
  readonly #stores: Readonly<Record<string, AccountEntry>>
  readonly #current = new Map<string, StoreFingerprint>()

  constructor(pool: Pool, stores: Readonly<Record<string, AccountEntry>>) {
    this.#pool = pool
    this.#stores = stores
  }

  /**
   * Reads the fleet's digest key and records each label's account, or compares it with the
   * one recorded. A label that reaches another account than recorded while rotations of it
   * are part way is refused (they were started for the recorded one); with none under way, the
   * new account is recorded.
   */
  async start(): Promise<void> {
    const digestKey = await readDigestKey(this.#pool)
    for (const [label, entry] of Object.entries(this.#stores)) {
      this.#current.set(label, storeFingerprint(entry.store, digestKey))
    }
    for (const label of Object.keys(this.#stores)) {
      const current = this.current(label)
      const recorded = await this.#pool.query<{ fingerprint: StoreFingerprint }>(
        `INSERT INTO ${KEYWAY_SCHEMA}.store_accounts AS s (label, fingerprint) VALUES ($1, $2)
         ON CONFLICT (label) DO UPDATE SET label = s.label
         RETURNING fingerprint`,
        [label, JSON.stringify(current)],
      )
      const before = recorded.rows[0]?.fingerprint as StoreFingerprint
      if (fingerprintChange(before, current) === undefined) continue
      const underWay = await this.#pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${KEYWAY_SCHEMA}.rotation_accounts a
         JOIN ${KEYWAY_SCHEMA}.rotations r USING (rotation_id)
         WHERE a.label = $1 AND r.record->>'state' = ANY($2)`,
        [label, [...PART_WAY_STATES]],
      )
      if ((underWay.rows[0]?.n ?? 0) > 0) {
        assertSameAccount({
          provider: this.#stores[label]?.store.provider ?? 'keyway',
          label,
          operation: 'start',
          recorded: before,
          current,
        })
      }
      await this.#pool.query(
        `UPDATE ${KEYWAY_SCHEMA}.store_accounts SET fingerprint = $2, recorded_at = now()
         WHERE label = $1`,
        [label, JSON.stringify(current)],
      )
    }
  }

  /** The account this worker's store under `label` reaches (after `start`). */
  current(label: string): StoreFingerprint {
    const fingerprint = this.#current.get(label)
    if (fingerprint === undefined) {
      throw invalid('label', `no account is known for "${label}": call start() first`)
    }
    return fingerprint
  }

  /**
   * Checks that this worker's store under `label` reaches the account rotation `rotationId`
   * was started for (`intended`, from its enqueue, recorded on its first check), and throws
   * `FingerprintMismatchError` otherwise. A rotation recorded before accounts were kept takes
   * the account this worker reaches.
   */
  async check(
    rotationId: string,
    label: string,
    operation: string,
    intended?: StoreFingerprint,
  ): Promise<void> {
    const current = this.current(label)
    const recorded = await this.#pool.query<{ fingerprint: StoreFingerprint }>(
      `INSERT INTO ${KEYWAY_SCHEMA}.rotation_accounts AS a (rotation_id, label, fingerprint)
       VALUES ($1, $2, $3)
       ON CONFLICT (rotation_id) DO UPDATE SET rotation_id = a.rotation_id
       RETURNING fingerprint`,
      [rotationId, label, JSON.stringify(intended ?? current)],
    )
    assertSameAccount({
      provider: this.#stores[label]?.store.provider ?? 'keyway',
      label,
      operation,
      recorded: recorded.rows[0]?.fingerprint as StoreFingerprint,
      current,
    })
  }
}
