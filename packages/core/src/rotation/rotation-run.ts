import { KeyStoreError, NotFoundError, RotationError, type RotationStep } from '../errors.js'
import { Redactor, sanitizeCause } from '../redact.js'
import type { Secret } from '../secret.js'
import type {
  DeliveryTarget,
  TargetDelivery,
  TargetDescription,
} from '../targets/delivery-target.js'
import type { ApiKey, CreatedKey, CreateKeyInput, KeyStore, RequestOptions } from '../types.js'
import { Compensations } from './compensations.js'
import type { RotationRecord, RotationState, TargetRecord } from './rotation-journal.js'
import type { RotationSettings } from './rotation-options.js'
import type { KeyPlan } from './rotation-plan.js'
import { hasReached } from './rotation-states.js'

/** The steps a rotation times, as in `RotationResult.timings`. */
export type TimedStep = 'create' | 'deliver' | 'verify' | 'switch' | 'grace' | 'retire'

/** What a rotation did. Its secret prints masked; ids are never secret. */
export interface RotationResult {
  rotationId: string
  provider: string
  oldKeyId: string
  newKeyId: string
  /** The old key as it was before retiring, or `null` when this call did not read it. */
  oldKey: ApiKey | null
  /** The new key, or `null` when this call did not read it (an already finished rotation). */
  newKey: ApiKey | null
  /** The new secret, or `null` when this call did not mint or recover it. */
  secret: Secret | null
  /** `'replaced'`: a regenerate killed the old secret in place. */
  retired: 'deleted' | 'disabled' | 'kept' | 'replaced'
  /** Whether the new secret was checked against the vendor by this call. */
  verified: boolean
  /** Whether this call picked up a rotation an earlier call began. */
  resumed: boolean
  /**
   * What could not be carried over to the new key, and anything a resume found that needs a
   * person's eye (such as a key it could not prove it made, left untouched). Never a secret.
   */
  warnings: string[]
  /** Milliseconds each step took in this call. */
  timings: Partial<Record<TimedStep, number>>
  /** Where each delivery target stands (all confirmed, once done); `[]` without targets. */
  deliveries: TargetDelivery[]
}

/**
 * One rotation in progress: the store, the settings, the journal record and what this
 * call holds in memory (the new secret, the undo list). Steps read and advance it; only
 * `advance` and `note` change the record, and each change is journalled first.
 */
export class RotationRun<C extends CreateKeyInput = CreateKeyInput> {
  readonly store: KeyStore<C>
  readonly settings: RotationSettings<C>
  readonly rotationId: string
  readonly oldKeyId: string
  readonly resumed: boolean
  readonly compensations = new Compensations()
  readonly redactor = new Redactor()
  readonly timings: RotationResult['timings'] = {}
  record: RotationRecord
  oldKey: ApiKey | null
  plan: KeyPlan<C>
  /** The new key and its secret, while this call holds the secret. */
  created: CreatedKey | undefined
  /** The new key's record, also when its secret is not held (delivered before a resume). */
  newKey: ApiKey | null = null
  verified = false
  /** Whether the store switched to the new key in this call. */
  switchedHere = false
  /** Where this key's new secret goes; `[]`: through the `deliver` callback alone. */
  readonly targets: readonly DeliveryTarget[]

  constructor(init: {
    store: KeyStore<C>
    settings: RotationSettings<C>
    rotationId: string
    oldKeyId: string
    oldKey: ApiKey | null
    plan: KeyPlan<C>
    record: RotationRecord
    resumed: boolean
    targets?: readonly DeliveryTarget[]
  }) {
    this.targets = init.targets ?? []
    this.store = init.store
    this.settings = init.settings
    this.rotationId = init.rotationId
    this.oldKeyId = init.oldKeyId
    this.oldKey = init.oldKey
    this.plan = init.plan
    this.record = init.record
    this.resumed = init.resumed
  }

  get provider(): string {
    return this.store.provider
  }

  /** The rotation's signal, as store calls take it. */
  get request(): RequestOptions {
    return { signal: this.settings.signal }
  }

  /** Whether the rotation has already reached `state` on its way to `'done'`. */
  reached(state: RotationState): boolean {
    return hasReached(this.record.state, state)
  }

  /** Journals `state` (and `changes`), then tells `onStep`. */
  async advance(state: RotationState, changes: Partial<RotationRecord> = {}): Promise<void> {
    const next: RotationRecord = {
      ...this.record,
      ...changes,
      state,
      history: [...this.record.history, { state, at: new Date().toISOString() }],
    }
    await this.settings.journal.write(next)
    this.record = next
    this.settings.onStep?.({
      rotationId: this.rotationId,
      provider: this.provider,
      keyId: this.oldKeyId,
      state,
    })
  }

  /** Starts a new attempt under the same rotation id: nothing made yet. */
  async restart(): Promise<void> {
    await this.advance('started', {
      marker: null,
      newKeyId: null,
      newKeyName: null,
      graceEndsAt: null,
      reason: null,
    })
  }

  /** Journals `changes` without moving to another state. */
  async note(changes: Partial<RotationRecord>): Promise<void> {
    const next = { ...this.record, ...changes }
    await this.settings.journal.write(next)
    this.record = next
  }

  /**
   * Adds a warning for the result (what a resume found and did); it is journalled with the
   * next state.
   */
  warn(text: string): void {
    this.record = { ...this.record, warnings: [...this.record.warnings, text] }
  }

  /** Keeps a new key and its secret for the steps that follow; the secret is scrubbed from errors. */
  hold(created: CreatedKey): void {
    this.redactor.add(created.secret.reveal())
    this.created = created
    this.newKey = created.key
  }

  /** Deletes a key this rotation provably made; one already gone counts as deleted. */
  async discard(keyId: string): Promise<void> {
    try {
      await this.store.delete(keyId, this.request)
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error
    }
  }

  /**
   * A `RotationError` for this rotation: the message names the key, the cause carries no
   * secret, and with targets it says where each target stands.
   */
  fail(step: RotationStep, rolledBack: boolean, message: string, cause?: unknown): RotationError {
    return new RotationError({
      provider: this.provider,
      operation: 'rotate',
      step,
      rolledBack,
      message: `${this.provider} rotate ${this.oldKeyId}: ${message}`,
      ...(cause === undefined ? {} : { cause: this.safeCause(cause) }),
      ...(this.targets.length === 0 ? {} : { deliveries: this.deliveries() }),
    })
  }

  /** Where each of the rotation's targets stands, from the journal. */
  deliveries(): TargetDelivery[] {
    return this.targets.map((target) =>
      deliveryOf(target.name, target.description, this.record.targets?.[target.name]),
    )
  }

  /** A cause fit for an error: keyway errors as they are, anything else reduced and scrubbed. */
  safeCause(cause: unknown): unknown {
    return KeyStoreError.is(cause) ? cause : sanitizeCause(cause, this.redactor)
  }

  /** The result of a rotation that reached `'done'` in this call. */
  result(): RotationResult {
    return {
      rotationId: this.rotationId,
      provider: this.provider,
      oldKeyId: this.oldKeyId,
      newKeyId: this.record.newKeyId as string,
      oldKey: this.oldKey,
      newKey: this.newKey,
      secret: this.created?.secret ?? null,
      retired: this.record.retired ?? 'kept',
      verified: this.verified,
      resumed: this.resumed,
      warnings: [...this.record.warnings],
      timings: { ...this.timings },
      deliveries: this.deliveries(),
    }
  }
}

/** The result of a rotation an earlier call finished: read from its record, nothing sent. */
export function finishedResult(record: RotationRecord): RotationResult {
  return {
    rotationId: record.rotationId,
    provider: record.provider,
    oldKeyId: record.oldKeyId,
    newKeyId: record.newKeyId as string,
    oldKey: null,
    newKey: null,
    secret: null,
    retired: record.retired ?? 'kept',
    verified: false,
    resumed: true,
    warnings: [...record.warnings],
    timings: {},
    deliveries: Object.entries(record.targets ?? {}).map(([name, target]) =>
      deliveryOf(name, { kind: target.kind, cannotConfirm: null }, target),
    ),
  }
}

/** A short reason from an error, for a message: its own message, scrubbed. */
export function reasonOf(run: RotationRun, error: unknown): string {
  if (KeyStoreError.is(error)) return error.message
  const text = error instanceof Error ? error.message : String(error)
  return run.redactor.redact(text)
}

/** Where one target stands, from its journal record (`undefined`: nothing reached it). */
export function deliveryOf(
  name: string,
  description: Pick<TargetDescription, 'kind' | 'cannotConfirm'>,
  record: TargetRecord | undefined,
): TargetDelivery {
  return {
    target: name,
    kind: description.kind,
    holds:
      record === undefined || record.progress === 'refused'
        ? 'old'
        : record.progress === 'writing'
          ? 'unknown'
          : 'new',
    keyId: record?.keyId ?? null,
    progress: record?.progress ?? null,
    cannotConfirm: description.cannotConfirm,
    failure: record?.failure ?? null,
  }
}
