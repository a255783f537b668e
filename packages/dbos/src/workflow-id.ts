/** The prefix of every rotation workflow's id. */
export const ROTATION_WORKFLOW_PREFIX = 'keyway-rotate/'

/**
 * The id of the workflow that rotates one key in one batch: derived from the batch, the
 * store's label and the key's id, so starting it twice (on any worker) is a no-op. Each
 * part is URL-encoded, so no two triples share an id. `attempt` (from 2 on) names a later
 * attempt of a policy at a key whose earlier attempt failed: `…/<key id>/<attempt>`.
 */
export function rotationWorkflowId(
  batchId: string,
  label: string,
  keyId: string,
  attempt = 1,
): string {
  const base = `${ROTATION_WORKFLOW_PREFIX}${[batchId, label, keyId].map(encodeURIComponent).join('/')}`
  return attempt === 1 ? base : `${base}/${attempt}`
}

/**
 * The store label a rotation's workflow id names, or `undefined` for an id that is not a
 * rotation's.
 */
export function storeLabelOf(workflowId: string): string | undefined {
  if (!workflowId.startsWith(ROTATION_WORKFLOW_PREFIX)) return undefined
  const parts = workflowId.slice(ROTATION_WORKFLOW_PREFIX.length).split('/')
  if (parts.length < 3 || parts.length > 4) return undefined
  try {
    return decodeURIComponent(parts[1] as string)
  } catch {
    return undefined
  }
}

/** The attempt a rotation's workflow id names: 1 for the first (no suffix). */
export function attemptOf(workflowId: string): number {
  const parts = workflowId.slice(ROTATION_WORKFLOW_PREFIX.length).split('/')
  return parts.length === 4 ? Number(parts[3]) : 1
}

/** The queue a store's rotations wait in: one per store label. */
export function rotationQueueName(label: string): string {
  return `keyway-${label}`
}
