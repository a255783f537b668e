import type { ApiKey, PlannedTarget, TargetDelivery } from '@keyway/core'
import { deliveryHolds } from '@keyway/core/adapter'
import type { ConfiguredStore } from '../config/fleet-stores.js'
import { keyTargets } from '../config/store-targets.js'
import { type Paint, printable } from '../output.js'

/** The delivery targets of a key of a store, as a plan shows them; `undefined`: the store has none. */
export type TargetsOfKey = (
  label: string,
  keyId: string,
  key: ApiKey | null,
) => PlannedTarget[] | undefined

/** Each key's targets, from the stores of the config. Makes the targets; sends nothing. */
export function targetsOfKey(stores: readonly ConfiguredStore[]): TargetsOfKey {
  const byLabel = new Map(stores.map((store) => [store.config.label, store]))
  return (label, keyId, key) => {
    const store = byLabel.get(label)
    if (store === undefined || store.targets.length === 0) return undefined
    return keyTargets(store.targets, keyId, key).map((target) => ({
      name: target.name,
      ...target.description,
    }))
  }
}

/** Lines under `delivered to:`: one per target, then what it propagates, confirms, cannot confirm. */
const FIRST = ''
const NEXT = ' '.repeat(18)
const DETAIL = ' '.repeat(20)

/**
 * What happens at each target, for a plan: where the secret is written, what propagates it
 * (a redeploy that is waited for), how it is confirmed and what cannot be.
 */
export function targetsText(targets: readonly PlannedTarget[] | undefined, paint: Paint): string {
  if (targets === undefined)
    return paint('red', 'nowhere: the store has no "targets" or "deliver" in the config')
  if (targets.length === 0) return paint('red', 'nowhere: no target of the store takes this key')
  return targets
    .map((target, index) =>
      [
        `${index === 0 ? FIRST : NEXT}${printable(target.location)} (${printable(target.kind)})`,
        `${DETAIL}then:    ${printable(target.propagate)}`,
        `${DETAIL}confirm: ${printable(target.confirm)}`,
        ...(target.cannotConfirm === null
          ? []
          : [`${DETAIL}${paint('yellow', 'cannot confirm')}: ${printable(target.cannotConfirm)}`]),
      ].join('\n'),
    )
    .join('\n')
}

/** Where each target stands after a failed rotation, one line each. */
export function deliveryLines(deliveries: readonly TargetDelivery[]): string[] {
  return deliveries.map(
    (delivery) =>
      `${printable(delivery.target)}: ${deliveryHolds(delivery)}${delivery.failure === null ? '' : `; ${printable(delivery.failure)}`}`,
  )
}
