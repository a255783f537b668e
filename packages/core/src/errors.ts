const marker = Symbol.for('keyway.error')

/** Plain-data fields every keyway error carries. */
export interface KeyStoreErrorOptions {
  provider: string
  /** The store operation that failed: `'list'`, `'create'`, `'rotate'`, … */
  operation: string
  message: string
  status?: number
  /** Overrides the class's default. */
  retryable?: boolean
  /** The vendor's request id, when it sent one. */
  requestId?: string
  /** The vendor's own error code, when it sent one. */
  vendorCode?: string
  /** A sanitised underlying error. Never a Request, Response or options object. */
  cause?: unknown
}

/**
 * Base class of every error keyway throws. Holds plain data only: no request, response,
 * headers or options object, and never a secret.
 */
export class KeyStoreError extends Error {
  /** Stable machine-readable code, e.g. `'not_found'`. */
  declare readonly code: string
  readonly provider: string
  readonly operation: string
  readonly status?: number
  readonly retryable: boolean
  readonly requestId?: string
  readonly vendorCode?: string

  constructor(options: KeyStoreErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause })
    this.provider = options.provider
    this.operation = options.operation
    if (options.status !== undefined) this.status = options.status
    this.retryable = options.retryable ?? false
    if (options.requestId !== undefined) this.requestId = options.requestId
    if (options.vendorCode !== undefined) this.vendorCode = options.vendorCode
  }

  /** True for a keyway error, even one thrown by another copy of this package. */
  static is(value: unknown): value is KeyStoreError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[marker] === true
    )
  }

  /** Plain data for logs: name, code, message and fields, with the cause reduced to its name and message. */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
    }
    for (const [field, value] of Object.entries(this)) {
      if (value !== undefined && field !== 'cause') json[field] = value
    }
    if (this.cause instanceof Error) {
      json.cause = { name: this.cause.name, message: this.cause.message }
    }
    return json
  }
}
Object.defineProperty(KeyStoreError.prototype, marker, { value: true })

/** Puts `name` and `code` on the class's prototype: stable, and the same on every instance. */
function withCode(errorClass: { prototype: KeyStoreError }, name: string, code: string): void {
  Object.defineProperties(errorClass.prototype, {
    code: { value: code, configurable: true },
    name: { value: name, configurable: true },
  })
}
withCode(KeyStoreError, 'KeyStoreError', 'keystore_error')

/** 401: the credential is missing, wrong or expired. */
export class AuthenticationError extends KeyStoreError {}
withCode(AuthenticationError, 'AuthenticationError', 'authentication_failed')

/** 403: the credential is valid but may not do this. */
export class PermissionError extends KeyStoreError {}
withCode(PermissionError, 'PermissionError', 'permission_denied')

/** 404: no such key. */
export class NotFoundError extends KeyStoreError {}
withCode(NotFoundError, 'NotFoundError', 'not_found')

/** 409: the vendor refused because of the key's current state. */
export class ConflictError extends KeyStoreError {}
withCode(ConflictError, 'ConflictError', 'conflict')

/** One problem with one input field. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `'metadata.team'`; `''` for the input as a whole. */
  path: string
  message: string
}

/** Options of `ValidationError`. */
export interface ValidationErrorOptions extends KeyStoreErrorOptions {
  issues?: FieldIssue[]
}

/** Bad input, caught before anything was sent, or a 400/422 from the vendor. */
export class ValidationError extends KeyStoreError {
  readonly issues: FieldIssue[]
  constructor(options: ValidationErrorOptions) {
    super(options)
    this.issues = options.issues ?? []
  }
}
withCode(ValidationError, 'ValidationError', 'validation_failed')

/** 402: the vendor account has no credit or is cancelled. */
export class PaymentRequiredError extends KeyStoreError {}
withCode(PaymentRequiredError, 'PaymentRequiredError', 'payment_required')

/** Options of `RateLimitError`. */
export interface RateLimitErrorOptions extends KeyStoreErrorOptions {
  retryAfterMs?: number
}

/** 429 that was not (or could no longer be) waited out. */
export class RateLimitError extends KeyStoreError {
  /** How long the vendor asked to wait, when it said. */
  readonly retryAfterMs?: number
  constructor(options: RateLimitErrorOptions) {
    super({ retryable: true, ...options })
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs
  }
}
withCode(RateLimitError, 'RateLimitError', 'rate_limited')

/** 5xx from the vendor. */
export class ProviderError extends KeyStoreError {}
withCode(ProviderError, 'ProviderError', 'provider_error')

/** Options of `NetworkError`. */
export interface NetworkErrorOptions extends KeyStoreErrorOptions {
  phase: NetworkErrorPhase
}

/**
 * `'before-send'`: the request provably never reached the vendor (refused, DNS, unreachable,
 * a TLS handshake that failed, a port fetch refuses).
 * `'ambiguous'`: it may have reached the vendor and been processed (reset, closed mid-response).
 */
export type NetworkErrorPhase = 'before-send' | 'ambiguous'

/** The connection failed. */
export class NetworkError extends KeyStoreError {
  readonly phase: NetworkErrorPhase
  constructor(options: NetworkErrorOptions) {
    super(options)
    this.phase = options.phase
  }
}
withCode(NetworkError, 'NetworkError', 'network_error')

/** An attempt, or the whole call, ran out of time. The request may have been processed. */
export class TimeoutError extends KeyStoreError {}
withCode(TimeoutError, 'TimeoutError', 'timeout')

/** Options of `ResponseValidationError`. */
export interface ResponseValidationErrorOptions extends KeyStoreErrorOptions {
  issues?: FieldIssue[]
}

/** The vendor answered with a shape keyway does not understand. Holds issue paths, never the body. */
export class ResponseValidationError extends KeyStoreError {
  readonly issues: FieldIssue[]
  constructor(options: ResponseValidationErrorOptions) {
    super(options)
    this.issues = options.issues ?? []
  }
}
withCode(ResponseValidationError, 'ResponseValidationError', 'invalid_response')

/** Options of `UnsupportedOperationError`. */
export interface UnsupportedOperationErrorOptions extends KeyStoreErrorOptions {
  /** The operation or input field the vendor lacks, e.g. `'regenerate'` or `'update.name'`. */
  feature: string
}

/** The vendor has no such operation or field. Thrown before any request is sent. */
export class UnsupportedOperationError extends KeyStoreError {
  readonly feature: string
  constructor(options: UnsupportedOperationErrorOptions) {
    super(options)
    this.feature = options.feature
  }
}
withCode(UnsupportedOperationError, 'UnsupportedOperationError', 'unsupported_operation')

/** Options of `AmbiguousCreateError`. */
export interface AmbiguousCreateErrorOptions extends KeyStoreErrorOptions {
  /** Ids of keys that this create may have made and that were left in place. */
  candidateIds: string[]
  /** Ids of orphans this create made and then deleted again. */
  deletedIds?: string[]
  /** The marker the create carried (see `CreateOptions.marker`). */
  marker?: string
}

/**
 * A create failed in a way that may have made a key, and keyway could not settle it safely:
 * `candidateIds` names every key it may have left behind. A key that carries `marker` may
 * still appear later (a slow vendor, an abort): look for it with `store.findCreated(marker)`.
 */
export class AmbiguousCreateError extends KeyStoreError {
  readonly candidateIds: string[]
  readonly deletedIds: string[]
  /** The marker the create carried; `findCreated(marker)` finds any key it made. */
  readonly marker?: string
  constructor(options: AmbiguousCreateErrorOptions) {
    super(options)
    this.candidateIds = options.candidateIds
    this.deletedIds = options.deletedIds ?? []
    if (options.marker !== undefined) this.marker = options.marker
  }
}
withCode(AmbiguousCreateError, 'AmbiguousCreateError', 'ambiguous_create')

/** Options of `CreateSettleError`. */
export interface CreateSettleErrorOptions extends AmbiguousCreateErrorOptions {
  /** The key the create made and could not settle. */
  keyId: string
}

/**
 * A create made a key (`keyId`) but could not settle it: the rename to the requested name,
 * or the removal of its marker entry, failed after retries. The key is provably this call's,
 * so it was deleted again (`deletedIds`); where even that failed it is in `candidateIds`,
 * still carrying its marker. Its secret is not returned.
 */
export class CreateSettleError extends AmbiguousCreateError {
  readonly keyId: string
  constructor(options: CreateSettleErrorOptions) {
    super(options)
    this.keyId = options.keyId
  }
}
withCode(CreateSettleError, 'CreateSettleError', 'create_not_settled')

/** The rotation step at which a `RotationError` stopped. */
export type RotationStep = 'create' | 'deliver' | 'verify' | 'switch' | 'retire' | 'resume'

/** Options of `RotationError`. */
export interface RotationErrorOptions extends KeyStoreErrorOptions {
  step: RotationStep
  /** True when the new key was deleted again and the old key left untouched. */
  rolledBack: boolean
}

/** A rotation stopped; `step` says where, `rolledBack` whether it was undone. */
export class RotationError extends KeyStoreError {
  readonly step: RotationStep
  readonly rolledBack: boolean
  constructor(options: RotationErrorOptions) {
    super(options)
    this.step = options.step
    this.rolledBack = options.rolledBack
  }
}
withCode(RotationError, 'RotationError', 'rotation_failed')

/** Options of `FingerprintMismatchError`. */
export interface FingerprintMismatchErrorOptions extends Omit<KeyStoreErrorOptions, 'message'> {
  /** The store's label. */
  label: string
  /** What changed, as `fingerprintChange` says it; never a secret. */
  change: string
  /** Overrides the default message, which names the label and the change. */
  message?: string
}

/**
 * A label now reaches another account than the one recorded for it (another credential or
 * base URL), so what was recorded for it (a rotation in flight, a sealed secret) is not
 * resumed or revealed there.
 */
export class FingerprintMismatchError extends KeyStoreError {
  readonly label: string
  readonly change: string
  constructor(options: FingerprintMismatchErrorOptions) {
    super({
      ...options,
      message:
        options.message ??
        `${options.provider} store ${JSON.stringify(options.label)}: ${options.operation} refused: the label now reaches another account than recorded (${options.change})`,
    })
    this.label = options.label
    this.change = options.change
  }
}
withCode(FingerprintMismatchError, 'FingerprintMismatchError', 'fingerprint_mismatch')

/** Options of `SameAccountError`. */
export interface SameAccountErrorOptions extends Omit<ValidationErrorOptions, 'message'> {
  /** The labels of the two stores that reach one account. */
  labels: readonly [string, string]
  message?: string
}

/**
 * Two stores of one fleet reach the same account (same base URL and credential) and their
 * selections may overlap: each due key would be rotated twice, leaving two live successors.
 * Thrown before anything is written.
 */
export class SameAccountError extends ValidationError {
  readonly labels: readonly [string, string]
  constructor(options: SameAccountErrorOptions) {
    const [first, second] = options.labels
    super({
      ...options,
      message:
        options.message ??
        `${options.provider} ${options.operation}: stores "${first}" and "${second}" reach the same account (same base URL and credential); give each account one store, or selections that cannot overlap`,
    })
    this.labels = options.labels
  }
}
withCode(SameAccountError, 'SameAccountError', 'same_account')
