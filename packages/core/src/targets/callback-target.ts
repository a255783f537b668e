import type { CreatedKey } from '../types.js'
import type { DeliveryTarget } from './delivery-target.js'

/**
 * The `deliver` callback as a target: it writes by calling back, propagates nothing, and
 * counts as confirmed once the callback returned (what it did with the secret is the
 * caller's to know). Named `'deliver'`.
 */
export function callbackTarget(
  deliver: (created: CreatedKey) => void | Promise<void>,
  name = 'deliver',
): DeliveryTarget {
  return {
    name,
    description: {
      kind: 'callback',
      location: 'the deliver function',
      propagate: "nothing: the callback's own job",
      confirm: 'the callback returned',
      cannotConfirm: 'what the callback did with the secret',
    },
    async write(created) {
      await deliver(created)
      return undefined
    },
    async confirm() {},
  }
}
