/**
 * What both entries export, listed once: the key model and `KeyStore`, `Secret`, the typed
 * errors, the settings an application gives a store, and what a delivery target is.
 * `@keyway/core` and `@keyway/core/adapter` re-export this module whole.
 */
export {
  AmbiguousCreateError,
  AuthenticationError,
  ConflictError,
  CreateSettleError,
  type FieldIssue,
  FingerprintMismatchError,
  KeyStoreError,
  NetworkError,
  type NetworkErrorPhase,
  NotFoundError,
  PaymentRequiredError,
  PermissionError,
  ProviderError,
  RateLimitError,
  ResponseValidationError,
  RotationError,
  type RotationStep,
  SameAccountError,
  TimeoutError,
  UnsupportedOperationError,
  ValidationError,
} from './errors.js'
export type {
  BaseStoreSettings,
  HttpHooks,
  RequestEvent,
  ResponseEvent,
  RetryEvent,
} from './http-client.js'
export type { ReconcileOptions } from './reconcile-options.js'
export type { RetryOptions } from './retry-policy.js'
export type { SchedulerOptions } from './scheduler.js'
export { Secret } from './secret.js'
export type { StoreFingerprint } from './store-fingerprint.js'
export type {
  DeliveryTarget,
  TargetConfirmContext,
  TargetContext,
  TargetDelivery,
  TargetDescription,
  TargetProgress,
  TargetReceipt,
  TargetRecord,
} from './targets/delivery-target.js'
export type * from './types.js'
