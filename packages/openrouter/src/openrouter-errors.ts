import { KeyStoreError, type KeyStoreErrorOptions } from '@keyway/core/adapter'

/** Options of `GuardrailAssignmentError`. */
export interface GuardrailAssignmentErrorOptions extends KeyStoreErrorOptions {
  /** The guardrail the create was asked to assign. */
  guardrailId: string
  /** The hash of the key the create made and then deleted again. */
  deletedKeyId: string
}

/**
 * A create with `guardrailId` made its key but could not assign the guardrail, so it deleted
 * that key again (it was provably this call's): nothing is left behind. `cause` holds the
 * assignment's own error.
 */
export class GuardrailAssignmentError extends KeyStoreError {
  readonly guardrailId: string
  readonly deletedKeyId: string
  constructor(options: GuardrailAssignmentErrorOptions) {
    super(options)
    this.guardrailId = options.guardrailId
    this.deletedKeyId = options.deletedKeyId
  }
}
Object.defineProperties(GuardrailAssignmentError.prototype, {
  code: { value: 'guardrail_assignment_failed', configurable: true },
  name: { value: 'GuardrailAssignmentError', configurable: true },
})
