import { failOnOf } from '../config/fleet-settings.js'
import type { Context } from '../context.js'
import { EXIT } from '../exit-codes.js'
import { json } from '../output.js'
import { openFleet, unreadableCode } from './fleet-open.js'
import { auditJson, auditText, failing } from './fleet-output.js'

/** Exit code of `keyway audit` when keys have findings of the `--fail-on` kinds. */
export const FINDINGS_EXIT_CODE = EXIT.findings

/**
 * `keyway audit`: every key of every store of the config, with age, last use, expiry, status,
 * spend where reported, and the policy's findings. Exits 0 when no key has a finding of the
 * `--fail-on` kinds, 8 when some do, 1 when a store could not be read (the audit is incomplete),
 * 4 when no store could be read because each refused its credential.
 */
export async function audit(context: Context): Promise<number> {
  const { fleet, loaded, policy } = await openFleet(context)
  const failOn = failOnOf(loaded.config, context.values, context.io.env)
  const report = await fleet.audit(policy, { signal: context.signal })
  if (context.values.json) context.out(json(auditJson(report, failOn)))
  else {
    const shown = auditText(report, failOn, context.paint, { terminal: context.terminal })
    if (shown.out !== '') context.out(shown.out)
    if (shown.note !== '') context.note(shown.note)
  }
  if (report.errors.length > 0) return unreadableCode(report.errors, fleet.stores.length)
  return report.entries.some((entry) => failing(entry, failOn)) ? FINDINGS_EXIT_CODE : EXIT.ok
}
