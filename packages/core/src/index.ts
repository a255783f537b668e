/**
 * keyway's user API: the `KeyStore` interface and key model, `Secret`, the typed errors,
 * rotation with its journals, fleets and audits, and delivery targets. Adapter, target and
 * engine authors build on `@keyway/core/adapter`.
 *
 * @packageDocumentation
 */
export * from './both-entries.js'
export { createFleet } from './fleet/create-fleet.js'
export type {
  AuditEntry,
  AuditFinding,
  AuditFindingKind,
  AuditPolicy,
  AuditReport,
  Fleet,
  FleetAuditOptions,
  FleetKey,
  FleetPlan,
  FleetPlanEntry,
  FleetRotateOptions,
  FleetRotateResult,
  FleetRotateStoreResult,
  FleetRotationSettings,
  FleetStore,
  FleetStoreError,
  KeySelector,
} from './fleet/fleet-types.js'
export {
  dueKeys,
  type HistoryAccounts,
  type LastRotationSource,
  type RotationHistory,
  type RotationSchedule,
  rotationHistory,
  type ScheduledKey,
  type ScheduledKeyInput,
  type ScheduleKeys,
  type ScheduleOptions,
  type ScheduleState,
  scheduledKeys,
} from './fleet/rotation-schedule.js'
export {
  HISTORY_ACTIONS,
  type HistoryAction,
  type HistoryActor,
  type HistoryChange,
  type HistoryContext,
  type HistoryEntry,
  type HistorySink,
  historyChanges,
  jsonLinesHistory,
  memoryHistory,
  operatorActor,
  readHistory,
  recordedDeliver,
  recordedStore,
  recordedTarget,
} from './history/index.js'
export {
  type FindLeakedKeysOptions,
  findLeakedKeys,
  type LeakMatch,
  type LeakMatchKind,
  type LeakSearch,
  type LeakStoreSearch,
  type LeakVendor,
} from './leak/find-leaked-keys.js'
export type { Leak } from './leak/leak-input.js'
export {
  type ResumeRevokeOptions,
  type ResumeRevokeResult,
  type RevokeLeakedKeyOptions,
  type RevokePlan,
  type RevokeResult,
  type RevokeStep,
  resumeRevoke,
  revokeLeakedKey,
} from './leak/revoke-leaked-key.js'
export type {
  RotateKeysOutcome,
  RotateKeysProgress,
} from './rotation/batch-outcome.js'
export { type RotateKeyOptions, rotateKey } from './rotation/rotate-key.js'
export {
  type RotateKeysOptions,
  type RotateKeysResult,
  rotateKeys,
} from './rotation/rotate-keys.js'
export {
  type BatchKind,
  type BatchRecord,
  fileJournal,
  memoryJournal,
  type RotationJournal,
  type RotationRecord,
  type RotationState,
} from './rotation/rotation-journal.js'
export type {
  RetireMode,
  RotationEvent,
  RotationOptions,
  RotationStrategy,
  RotationWait,
  TargetsFor,
  VerifyFunction,
} from './rotation/rotation-options.js'
export type { CredentialMatch, PlannedTarget, RotationPlan } from './rotation/rotation-plan.js'
export type { RotationResult, TimedStep } from './rotation/rotation-run.js'
export { callbackTarget } from './targets/callback-target.js'
export { type CommandTargetSettings, createCommandTarget } from './targets/command-target.js'
export type { TargetPhase, TargetStep } from './targets/delivery-target.js'
export { createDotenvTarget, type DotenvTargetSettings } from './targets/dotenv-target.js'
export { probeTargets, type TargetProbe } from './targets/probe-targets.js'
