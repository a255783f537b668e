export {
  type DeliveryContext,
  type DeliveryTarget,
  type DurableRotationOptions,
  type DurableRotationSummary,
  defineKeywayRotations,
  type EnqueueOptions,
  type KeywayRotations,
  type KeywayRotationsOptions,
  type PolicyRunSummary,
  type RotationCheckpoint,
  type RotationQueueLimits,
  type RotationStoreEntry,
  type TargetCheckpoint,
} from './keyway-rotations.js'
export {
  ensureKeywayTables,
  KEYWAY_SCHEMA,
  SCHEMA_VERSION,
  SchemaVersionError,
} from './keyway-tables.js'
export { postgresHistory, readPostgresHistory } from './postgres-history.js'
export { postgresJournal, RotationMovedOnError } from './postgres-journal.js'
export { isDue, type RotationPolicy } from './rotation-policy.js'
export {
  forgetSealedSecrets,
  type SealingKey,
  withSealedSecrets,
} from './sealed-secret-store.js'
export { checkSealingKey, openSealedSecret, sealSecret } from './secret-seal.js'
export type { TakeoverEvent, TakeoverOptions } from './worker-takeover.js'
export { ROTATION_WORKFLOW_PREFIX, rotationQueueName, rotationWorkflowId } from './workflow-id.js'
