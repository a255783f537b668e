import type { CreatedKey, RequestOptions } from '../types.js'

/**
 * What a target hands on from one of its steps to the next: plain, JSON-serialisable data
 * such as a version, a deployment id or a timestamp. It is journalled, so a resumed rotation
 * confirms what an earlier call wrote; it never holds a secret (the rotation refuses one that
 * does).
 */
export type TargetReceipt = Readonly<Record<string, string | number | boolean | null>>

/** What a target does, in words, for plans and reports. Never a secret. */
export interface TargetDescription {
  /** The kind of place, e.g. `'github-actions'`, `'vercel'`, `'dotenv'`. */
  kind: string
  /** Where the secret goes, e.g. `repository acme/app, secret OPENROUTER_KEY`. */
  location: string
  /** What `propagate` does, e.g. `'nothing: the next workflow run reads the secret'`. */
  propagate: string
  /** How `confirm` tells the secret is in place. */
  confirm: string
  /**
   * What the target cannot confirm, for the plan and the report (e.g. that the value itself
   * cannot be read back), or `null` where confirm reads the value back.
   */
  cannotConfirm: string | null
}

/** What every step of a target is told about the rotation. Plain data, no secret. */
export interface TargetContext extends RequestOptions {
  rotationId: string
  /** The store's provider, for messages. */
  provider: string
  /** The key being replaced. */
  oldKeyId: string
  /** The new key whose secret is delivered. */
  newKeyId: string
  /**
   * A token stable for this rotation, target and new key (UUID-shaped), for services that take
   * an idempotency token (such as a client request token): a write sent again after a lost
   * answer carries the same token.
   */
  writeToken: string
  /** What `write` (and `propagate`) returned, merged; `{}` before the first write. */
  receipt: TargetReceipt
}

/** What `confirm` is told beside the context. */
export interface TargetConfirmContext extends TargetContext {
  /** When confirm must give up (epoch milliseconds): throw once it has passed. */
  deadline: number
  /** The new key and its secret, for a target that can read the value back and compare. */
  created: CreatedKey
}

/**
 * A place where a rotated secret goes and where its consumers read it: a CI secret, a hosting
 * platform's environment variable, a secret manager, a file. A rotation is done only when the
 * consumers run with the new secret, so a target has three steps, each journalled:
 *
 * 1. `write` the new secret, idempotently: writing the same secret again for the same
 *    rotation and key changes nothing (a resume after a lost answer sends it once more);
 * 2. `propagate`: make consumers pick it up (a redeploy, a rollout restart), or nothing;
 * 3. `confirm`: read the value back, or check that the redeploy or rollout finished, before
 *    `deadline`; throw when it cannot.
 *
 * The rotation retires the old key only after every target of the key confirmed. A target
 * touches only the one variable keyway owns for the key, never others in the same place.
 * Steps throw keyway errors (`KeyStoreError` and its kinds) that carry no secret.
 */
export interface DeliveryTarget {
  /**
   * Names the target among the key's targets, stably across runs: the journal keys each
   * target's progress by it. Printable, at most 200 characters, unique per rotation.
   */
  readonly name: string
  /** What it does, for plans and reports. */
  readonly description: TargetDescription
  /** How long `confirm` may take, in ms. Default 10 minutes. */
  readonly confirmWithinMs?: number
  /** Writes the new secret; returns what `propagate` and `confirm` need to know. */
  write(created: CreatedKey, context: TargetContext): Promise<TargetReceipt | undefined>
  /** Makes consumers pick up the secret; absent where they read it on their own. */
  propagate?(context: TargetContext): Promise<TargetReceipt | undefined>
  /** Checks that the secret is in place (and in use, where propagate started something). */
  confirm(context: TargetConfirmContext): Promise<void>
  /**
   * Checks that the target is reachable and writable without writing a secret (a
   * permissions read, a dry run), for audits. Throws a keyway error when it is not.
   */
  probe?(options?: RequestOptions): Promise<void>
  /**
   * Reads what the target shows before `step` is sent (the variable's update time, the
   * newest deployment; never a value). It is journalled with the step as in flight and
   * handed to the step as `context.receipt`, so that `landed` can tell later whether the step
   * took effect. Optional, with `landed`.
   */
  look?(step: TargetStep, context: TargetContext): Promise<TargetReceipt>
  /**
   * After an interruption between sending `step` and journalling its answer (a process
   * killed, an answer lost): whether the step took effect, judged against what `look` read
   * before it was sent (in `context.receipt`). Returns what the step would have returned, or
   * `undefined` when it did not take effect (then it is sent again). Without it, a resume
   * sends the step again, which `write` and `propagate` must then bear. It must not count a
   * change it cannot tell from the target's own (when unsure: `undefined`).
   */
  landed?(step: TargetStep, context: TargetContext): Promise<TargetReceipt | undefined>
}

/** A step of a target that sends something, and may be found to have landed (see `landed`). */
export type TargetStep = 'write' | 'propagate'

/** A step of a target's delivery, in the order a rotation runs them. */
export type TargetPhase = 'write' | 'propagate' | 'confirm'

/** How far a target got with one new key, as journalled. */
export type TargetProgress =
  | 'refused' // the write was refused: the target holds what it held before
  | 'writing' // a write was sent (or about to be): the target may hold the new secret
  | 'written' // the target holds the new secret
  | 'propagating' // propagate was sent (or about to be): consumers may be picking it up
  | 'propagated' // consumers were told to pick it up
  | 'confirmed' // the secret is in place (and in use, where that can be checked)

/** One target's progress in a rotation's journal. Never a secret. */
export interface TargetRecord {
  /** The target's kind, from its description. */
  kind: string
  /** The new key this progress is about. */
  keyId: string
  progress: TargetProgress
  /** What write and propagate returned. */
  receipt: TargetReceipt
  /** Why the last step of this target failed (scrubbed), or `null`. */
  failure: string | null
}

/** Where a rotation left one target, for results and errors. Plain data, never a secret. */
export interface TargetDelivery {
  target: string
  kind: string
  /**
   * Which key the target holds, as far as keyway knows: `'new'` once written, `'unknown'`
   * when a write was sent and its answer lost, `'old'` when nothing reached it.
   */
  holds: 'new' | 'old' | 'unknown'
  /** The new key written there, or `null`. */
  keyId: string | null
  /** How far it got (`null`: untouched). */
  progress: TargetProgress | null
  /** What the target cannot confirm (from its description), or `null`. */
  cannotConfirm: string | null
  /** Why it stopped, or `null`. */
  failure: string | null
}
