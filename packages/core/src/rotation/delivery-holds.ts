import type { TargetDelivery } from '../targets/delivery-target.js'

/**
 * What a delivery target holds after a rotation stopped, in words: `holds the new key k2
 * (written)`, `may hold the new key k2 (a write's answer was lost)`, or `holds the old key`.
 * Rotation errors and the CLI say it the same way.
 */
export function deliveryHolds(delivery: TargetDelivery): string {
  if (delivery.holds === 'new') return `holds the new key ${delivery.keyId} (${delivery.progress})`
  if (delivery.holds === 'unknown') {
    return `may hold the new key ${delivery.keyId} (a write's answer was lost)`
  }
  return 'holds the old key'
}
