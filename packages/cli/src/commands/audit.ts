import { probeTargets, type TargetProbe } from '@keyway/core'
import { failOnOf } from '../config/fleet-settings.js'
import type { ConfiguredStore } from '../config/fleet-stores.js'
import type { Context } from '../context.js'
import { EXIT } from '../exit-codes.js'
import { json, type Paint, printable } from '../output.js'
import { openFleet, unreadableCode } from './fleet-open.js'
import { auditJson, auditText, failing } from './fleet-output.js'

/** Exit code of `keyway audit` when keys have findings of the `--fail-on` kinds. */
export const FINDINGS_EXIT_CODE = EXIT.findings

/**
 * `keyway audit`: every key of every store of the config, with age, last use, expiry, status,
 * spend where reported, and the policy's findings; and every delivery target, probed without
 * writing. Exits 0 when no key has a finding of the `--fail-on` kinds, 8 when some do, 1 when
 * a store could not be read (the audit is incomplete) or a target cannot be reached or written,
 * 4 when no store could be read because each refused its credential.
 */
export async function audit(context: Context): Promise<number> {
  const { fleet, loaded, policy, stores } = await openFleet(context)
  const failOn = failOnOf(loaded.config, context.values, context.io.env)
  const report = await fleet.audit(policy, { signal: context.signal })
  const targets = await probeStoreTargets(stores, context.signal)
  if (context.values.json) context.out(json({ ...auditJson(report, failOn), targets }))
  else {
    const shown = auditText(report, failOn, context.paint, { terminal: context.terminal })
    if (shown.out !== '') context.out(shown.out)
    if (shown.note !== '') context.note(shown.note)
    if (targets.length > 0) {
      const lines = targetLines(targets, context.paint)
      if (context.terminal) context.out(lines)
      else context.note(lines)
    }
  }
  if (report.errors.length > 0) return unreadableCode(report.errors, fleet.stores.length)
  // A target that cannot be reached or written fails the audit as an unread store does.
  if (targets.some((target) => target.status === 'failed')) return EXIT.failure
  return report.entries.some((entry) => failing(entry, failOn)) ? FINDINGS_EXIT_CODE : EXIT.ok
}

/** One store's delivery target as an audit found it. */
type AuditedTarget = TargetProbe & { label: string; path: string; where: string }

/**
 * Every delivery target of every store, probed without writing a secret (a permissions
 * read, the project and its variables' listing): reachable, failed, or unchecked where the
 * kind has no probe (a file, a command).
 */
async function probeStoreTargets(
  stores: readonly ConfiguredStore[],
  signal: AbortSignal,
): Promise<AuditedTarget[]> {
  const audited: AuditedTarget[] = []
  for (const store of stores) {
    const probes = await probeTargets(
      store.targets.map((target) => target.probe),
      { signal },
    )
    probes.forEach((probe, index) => {
      const target = store.targets[index]
      if (target === undefined) return
      audited.push({
        ...probe,
        label: store.config.label,
        path: target.path,
        where: target.kind.where(target.config as never),
      })
    })
  }
  return audited
}

function targetLines(targets: readonly AuditedTarget[], paint: Paint): string {
  const status = (target: AuditedTarget) =>
    target.status === 'reachable'
      ? paint('green', 'reachable (its probe passed)')
      : target.status === 'failed'
        ? paint('red', `failed: ${printable(target.error?.message ?? '')}`)
        : paint('dim', 'unchecked (nothing to probe without writing)')
  return [
    '',
    paint('bold', 'Delivery targets'),
    ...targets.map(
      (target) =>
        `${printable(target.label)} ${target.kind} ${printable(target.where)}: ${status(target)}`,
    ),
  ].join('\n')
}
