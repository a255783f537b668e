/**
 * The kit adapter, delivery-target and rotation-engine authors build on: `defineKeyStore`,
 * the HTTP client with its retry and error readers, pagination, input and settings checks,
 * credentials, create markers and reconcile, descriptors, and the errors a store throws.
 * Applications use the main entry, `@keyway/core`.
 *
 * @packageDocumentation
 */
export * from './both-entries.js'
export {
  assertCapability,
  assertFields,
  type CapabilityClaims,
  type CapabilityContext,
  defineCapabilities,
} from './capabilities.js'
export { createMarker } from './create-marker.js'
export { type CreateMarking, defaultKeyName, MARKER_SEPARATOR } from './create-marking.js'
export {
  createWithReconcile,
  type ReconcileCreateOptions,
} from './create-with-reconcile.js'
export {
  type CredentialOption,
  type CredentialSetting,
  invalidSetting,
  missingCredential,
  type ResolvedCredential,
  readCredential,
  resolveCredential,
  resolveCredentialAlternatives,
  settingOrEnv,
} from './credentials.js'
export { defineKeyStore, type KeyStoreDefinition } from './define-key-store.js'
export { errorReader } from './error-reader.js'
export type {
  AmbiguousCreateErrorOptions,
  CreateSettleErrorOptions,
  FingerprintMismatchErrorOptions,
  KeyStoreErrorOptions,
  NetworkErrorOptions,
  RateLimitErrorOptions,
  ResponseValidationErrorOptions,
  RotationErrorOptions,
  SameAccountErrorOptions,
  UnsupportedOperationErrorOptions,
  ValidationErrorOptions,
} from './errors.js'
export { rotationStore } from './fleet/fleet-plan.js'
export { storeBatchId } from './fleet/fleet-rotate.js'
export { checkAuditPolicy } from './fleet/fleet-schemas.js'
export { globsCannotOverlap, matchesSelector } from './fleet/key-selector.js'
export { type LastUse, lastUse } from './fleet/last-use.js'
export {
  describeSchedule,
  lastRotation,
  rotationScheduleSchema,
  scheduleKeysSchema,
  scheduleLengthMs,
  scheduleList,
  scheduleOf,
  scheduleState,
  storeSchedulesSchema,
} from './fleet/rotation-schedule.js'
export {
  type ChangeFields,
  currentRotationScope,
  inRotationScope,
  type RotationScope,
  recordChange,
} from './history/index.js'
export {
  createHttpClient,
  createStoreClient,
  DEFAULT_TIMEOUT_MS,
  type HttpClient,
  type HttpClientSettings,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type ParsedBody,
  type StoreClientOptions,
} from './http-client.js'
export type { ErrorBodyReader, VendorErrorDetails } from './http-errors.js'
export {
  choiceFixedAtCreate,
  descriptorEnv,
  fieldTakenBy,
  hintParts,
  type KeyColumn,
  type KeyField,
  type KeyFieldKind,
  type KeyFieldOperation,
  type KeyStoreDescriptor,
  type LeakRules,
  type SettingFlag,
} from './key-store-descriptor.js'
export { TLS_FAILURE_CODES } from './network-errors.js'
export {
  type CursorPage,
  type CursorPaginationOptions,
  collect,
  nextAfterId,
  type OffsetPage,
  type OffsetPaginationOptions,
  paginateCursor,
  paginateOffset,
} from './paginate.js'
export { type ParseContext, parseResponse } from './parse-response.js'
export { isPlainObject, plainObject, stringRecord } from './plain-object.js'
export { probeSecret } from './probe-secret.js'
export {
  defaultReconcileOptions,
  type ResolvedReconcileOptions,
} from './reconcile-options.js'
export { REDACTED, Redactor } from './redact.js'
export {
  checkOptions,
  createOptionsSchema,
  listOptionsSchema,
  requestOptionsSchema,
} from './request-options.js'
export { requireMembers } from './require-members.js'
export { parseRetryAfter, secondsToMs } from './retry-after.js'
export {
  defaultRetryOptions,
  mayHaveTakenEffect,
  RETRYABLE_STATUSES,
  type ResolvedRetryOptions,
  type RetryOperation,
  retryOperationOf,
  retryOptionsSchema,
} from './retry-policy.js'
export { deliveryHolds } from './rotation/delivery-holds.js'
export { openRotation } from './rotation/rotate-key.js'
export { DEFAULT_ROTATION_CONCURRENCY } from './rotation/rotate-keys.js'
export {
  FORWARD_STATES,
  hasReached,
  isPastCreate,
  PART_WAY_STATES,
  ROTATION_STATES,
} from './rotation/rotation-states.js'
export type { SteppedRotation } from './rotation/stepped-rotation.js'
export {
  type RequestKind,
  Scheduler,
  schedulerOptionsSchema,
} from './scheduler.js'
export {
  checkSealingKey,
  openSealedSecret,
  type SealingKey,
  type SecretKeeper,
  sealingKeyBytes,
  sealingStore,
  sealSecret,
  storeSealingKey,
} from './sealing/index.js'
export { MAX_TIMER_MS } from './setting-schemas.js'
export {
  assertSameAccount,
  fingerprintChange,
  storeFingerprint,
} from './store-fingerprint.js'
export { checkKeyId, type StoreRules, storeRules } from './store-rules.js'
export { validateStoreSettings } from './store-settings.js'
export { defaultSuccessorPlan, readRawKey } from './successor-plan.js'
export { type PollOptions, pollUntil } from './targets/poll-until.js'
export { checkTargetSettings, invalidTargetSetting } from './targets/target-kit.js'
export { writeTokenOf } from './targets/write-token.js'
export {
  baseCreateInputSchema,
  baseUpdateInputSchema,
  encodeId,
  type InputContext,
  MAX_NAME_LENGTH,
  readEnv,
  resolveBaseUrl,
  validateInput,
} from './validate.js'
export { isoDate, lenient } from './vendor-schemas.js'
export type { VendorSettings } from './vendor-settings.js'
