import { readHistory } from '@keyway/core'
import type { Context } from '../context.js'
import { json } from '../output.js'
import { nowOf, openFleet, unreadableCode } from './fleet-open.js'
import { fleetPlanJson, fleetPlanText } from './fleet-output.js'
import { targetsOfKey } from './plan-targets.js'

/**
 * `keyway plan`: what `keyway apply` would rotate and why (the policy finding behind each
 * key), with each rotation's dry-run detail and, for every key, each delivery target and what
 * happens there (what is written where, what is redeployed and waited for, what cannot be
 * confirmed). Reads only. Exits 1 when a store could not be read,
 * 4 when no store could be read because each refused its credential.
 */
export async function plan(context: Context): Promise<number> {
  const { fleet, stores, policy, history } = await openFleet(context)
  const planned = await fleet.plan(policy, {
    signal: context.signal,
    now: nowOf(context),
    history: await readHistory(history),
  })
  const targets = targetsOfKey(stores)
  const deliverTo = new Map(
    stores.flatMap((store) =>
      store.config.deliver === undefined ? [] : [[store.config.label, store.config.deliver.to]],
    ),
  )
  context.out(
    context.values.json
      ? json(fleetPlanJson(planned, targets, deliverTo))
      : fleetPlanText(planned, targets, context.paint),
  )
  return unreadableCode(planned.errors, stores.length)
}
