import { hostname, userInfo } from 'node:os'
import type { StoreFingerprint } from '../store-fingerprint.js'

/** Every change keyway makes at a vendor or a delivery target, as history names it. */
export const HISTORY_ACTIONS = [
  'create',
  'update',
  'rename',
  'enable',
  'disable',
  'delete',
  'regenerate',
  'write',
  'propagate',
] as const
/**
 * One kind of change keyway makes: at a vendor (create … regenerate) or at a delivery target
 * (write, propagate).
 */
export type HistoryAction = (typeof HISTORY_ACTIONS)[number]

/** Who made a change: a person at a host, or a durable worker. */
export type HistoryActor = { host: string; user: string } | { worker: string }

/**
 * One line of history. A change is told twice under one `change` id: an `'attempt'` before
 * anything is sent, and an `'outcome'` once it settled. An attempt without an outcome is a
 * change whose process ended in between: it may or may not have happened. Plain data, never
 * a secret: ids, labels, fingerprints (keyed digests) and error codes, never a message.
 */
export interface HistoryEntry {
  /** Ties an attempt to its outcome. */
  change: string
  phase: 'attempt' | 'outcome'
  /** ISO time the line was written. */
  at: string
  action: HistoryAction
  /** The vendor's id, e.g. `'openrouter'`. */
  provider: string
  /** The store's label (the vendor's id where a command names no label). */
  store: string
  /** The account the store reaches, where known (no secret: a keyed digest of the credential). */
  account: StoreFingerprint | null
  /** The key changed (for a create, the new key's id, known once it succeeded). */
  keyId: string | null
  /** The delivery target written or propagated, for `write` and `propagate`. */
  target: string | null
  batchId: string | null
  rotationId: string | null
  /** The rotation step the change belongs to (`create`, `deliver`, `retire`…), if any. */
  step: string | null
  /** On an outcome: whether the change took effect. */
  outcome?: 'succeeded' | 'failed'
  /** On a failed outcome: the error's stable code (never its message). */
  errorCode?: string | null
  actor: HistoryActor
}

/** The operator running this process: its host and user name. */
export function operatorActor(): HistoryActor {
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (some containers): the host still says where.
  }
  return { host: hostname(), user }
}
