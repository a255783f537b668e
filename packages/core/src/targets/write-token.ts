import { createHash } from 'node:crypto'

/**
 * A UUID-shaped token derived from a rotation, a target and the new key: the same three give
 * the same token, so a write sent again after a lost answer is recognisable as the same write.
 */
export function writeTokenOf(rotationId: string, target: string, newKeyId: string): string {
  const hex = createHash('sha256')
    .update(JSON.stringify([rotationId, target, newKeyId]))
    .digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
