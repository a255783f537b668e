import { failOnOf } from '../config/fleet-settings.js'
import type { Context } from '../context.js'
import { json } from '../output.js'
import { openFleet } from './fleet-open.js'
import { auditJson, auditText, failing } from './fleet-output.js'

/** Exit code of `keyway audit` when keys have findings of the `--fail-on` kinds. */
export const FINDINGS_EXIT_CODE = 8

/**
 * `keyway audit`: every key of every store of the config, with age, last use, expiry, status,
 * spend where reported, and the policy's findings. Exits 0 when no key has a finding of the
 * `--fail-on` kinds, 8 when some do, 1 when a store could not be read (the audit is incomplete).
 */
export async function audit(context: Context): Promise<number> {
  const { fleet, loaded, policy } = await openFleet(context)
  const failOn = failOnOf(loaded.config, context.values, context.io.env)
  const report = await fleet.audit(policy, { signal: context.signal })
  context.out(
    context.values.json
      ? json(auditJson(report, failOn))
      : auditText(report, failOn, context.paint),
  )
  if (report.errors.length > 0) return 1
  return report.entries.some((entry) => failing(entry, failOn)) ? FINDINGS_EXIT_CODE : 0
}
