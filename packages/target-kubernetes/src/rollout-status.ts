import { ProviderError } from '@keyway/core/adapter'
import type { Deployment } from './kubernetes-schemas.js'

/**
 * Whether a Deployment's rollout is complete, by the checks `kubectl rollout status` makes:
 * the controller saw the latest spec, every replica is updated, no old replica is left, and
 * every updated replica is available. A rollout past its progress deadline throws.
 */
export function rolloutComplete(deployment: Deployment, name: string): boolean {
  const status = deployment.status
  if (status === undefined || status.observedGeneration < deployment.metadata.generation) {
    return false
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing')
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    throw new ProviderError({
      provider: 'kubernetes',
      operation: 'confirm',
      message: `kubernetes confirm: the rollout of deployment ${name} exceeded its progress deadline; the Secret is written, but its pods may still run with the old key`,
    })
  }
  const wanted = deployment.spec.replicas
  if (wanted !== undefined && status.updatedReplicas < wanted) return false
  if (status.replicas > status.updatedReplicas) return false
  return status.availableReplicas >= status.updatedReplicas
}
