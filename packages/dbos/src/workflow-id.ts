/** The prefix of every rotation workflow's id. */
export const ROTATION_WORKFLOW_PREFIX = 'keyway-rotate/'

/**
 * The id of the workflow that rotates one key in one batch: derived from the batch, the
 * store's label and the key's id, so starting it twice (on any worker) is a no-op. Each
 * part is URL-encoded, so no two triples share an id.
 */
export function rotationWorkflowId(batchId: string, label: string, keyId: string): string {
  return `${ROTATION_WORKFLOW_PREFIX}${[batchId, label, keyId].map(encodeURIComponent).join('/')}`
}

/** The queue a store's rotations wait in: one per store label. */
export function rotationQueueName(label: string): string {
  return `keyway-${label}`
}
