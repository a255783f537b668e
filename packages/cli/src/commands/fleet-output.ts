import type {
  AuditEntry,
  AuditReport,
  FleetPlan,
  FleetPlanEntry,
  FleetRotateResult,
  FleetStoreError,
  KeySpend,
} from '@keyway/core'
import type { LastUse } from '@keyway/core/adapter'
import type { FindingKind } from '../config/fleet-settings.js'
import { shownDate } from '../dates.js'
import { type Paint, printable, shownStatus, type TableOptions, table } from '../output.js'
import { deliveryLines, type TargetsOfKey, targetsText } from './plan-targets.js'
import { countsJson, planText, resultCounts, resultJson, statusCell } from './rotate-output.js'

/** A date as tables show it: UTC, marked `Z`. */
const day = (value: Date | string | null) => (value === null ? '-' : shownDate(new Date(value)))

/** A text for a person and, piped, the table's rows alone for scripts (the rest for stderr). */
export interface Shown {
  /** What goes to stdout: the whole text on a terminal; piped, tab-separated rows only. */
  out: string
  /** Piped: the findings, counts and notes, for stderr. Empty on a terminal. */
  note: string
}

/**
 * Long ids (OpenRouter's are 64 characters) shortened for tables on a terminal; piped tables
 * and `--json` have them whole.
 */
export function shortId(id: string, options: TableOptions = { terminal: true }): string {
  return printable(options.terminal && id.length > 20 ? `${id.slice(0, 12)}…` : id)
}

/** `1 key`, `2 keys`. */
export function count(number: number, noun: string): string {
  return `${number} ${noun}${number === 1 ? '' : 's'}`
}

function money(amount: number): string {
  return `$${amount.toFixed(2)}`
}

/** `$1.20 of $10.00`, `$1.20`, or `-` where the vendor reports no spend. */
function spent(spend: KeySpend | undefined): string {
  if (spend === undefined) return '-'
  return spend.limit === null ? money(spend.used) : `${money(spend.used)} of ${money(spend.limit)}`
}

/** Whether an entry has a finding of a kind that fails the audit. */
export function failing(entry: AuditEntry, failOn: readonly FindingKind[]): boolean {
  return entry.findings.some((finding) => (failOn as readonly string[]).includes(finding.kind))
}

/**
 * The audit as a table of every key, the findings in words, the failed stores, and counts.
 * Piped (as gh): the rows alone, tab-separated, without header, full ids; the rest in `note`.
 */
export function auditText(
  report: AuditReport,
  failOn: readonly FindingKind[],
  paint: Paint,
  options: TableOptions = { terminal: true },
): Shown {
  // Only where a vendor has workspaces (OpenRouter), last, so the other columns keep their place.
  const workspaces = report.entries.some((entry) => entry.key.workspace !== undefined)
  const rows = report.entries.map((entry) => [
    printable(entry.label),
    shortId(entry.key.id, options),
    printable(entry.key.name ?? '-'),
    shownStatus(entry.key, paint, report.at),
    entry.ageDays === null ? '-' : `${entry.ageDays}d`,
    lastUseText(entry.lastUse),
    day(entry.key.expiresAt),
    spent(entry.key.spend),
    entry.key.spend?.remaining == null ? '-' : money(entry.key.spend.remaining),
    entry.findings
      .map((finding) =>
        (failOn as readonly string[]).includes(finding.kind)
          ? paint('red', finding.kind)
          : paint('dim', finding.kind),
      )
      .join(','),
    ...(workspaces ? [printable(entry.key.workspace ?? '-')] : []),
  ])
  const lines = [
    report.entries.length === 0
      ? paint('dim', 'no keys')
      : table(
          [
            'STORE',
            'KEY',
            'NAME',
            'STATUS',
            'AGE',
            'LAST USED',
            'EXPIRES',
            'SPENT',
            'LEFT',
            'FINDINGS',
            ...(workspaces ? ['WORKSPACE'] : []),
          ],
          rows,
          paint,
          options,
        ),
  ]
  const withFindings = report.entries.filter((entry) => entry.findings.length > 0)
  if (withFindings.length > 0) lines.push('', paint('bold', 'Findings'))
  for (const entry of withFindings) {
    const mark = failing(entry, failOn) ? paint('red', '!') : paint('dim', '-')
    const name = entry.key.name === null ? '' : ` ${printable(entry.key.name)}`
    lines.push(`${mark} ${printable(entry.label)}${name} (${shortId(entry.key.id)})`)
    for (const finding of entry.findings)
      lines.push(`    ${finding.kind}: ${printable(finding.message)}`)
  }
  lines.push(...errorLines(report.errors, paint), '', auditSummary(report, failOn))
  return split(lines, report.entries.length > 0, options)
}

/**
 * On a terminal all of it for stdout. Piped: the table's rows (the first line, when there are
 * rows) for stdout, the rest for stderr.
 */
function split(lines: readonly string[], hasRows: boolean, options: TableOptions): Shown {
  if (options.terminal) return { out: lines.join('\n'), note: '' }
  const [first = '', ...rest] = lines
  return {
    out: hasRows ? first : '',
    note: (hasRows ? rest : lines).join('\n').replace(/^\n+/, ''),
  }
}

function auditSummary(report: AuditReport, failOn: readonly FindingKind[]): string {
  const stores = new Set(report.entries.map((entry) => entry.label)).size
  const counts = new Map<string, number>()
  for (const entry of report.entries)
    for (const finding of entry.findings)
      counts.set(finding.kind, (counts.get(finding.kind) ?? 0) + 1)
  const kinds = [...counts].map(([kind, count]) => `${count} ${kind}`).join(', ')
  const failingKeys = report.entries.filter((entry) => failing(entry, failOn)).length
  return [
    `${count(report.entries.length, 'key')} at ${count(stores, 'store')}; ${counts.size === 0 ? 'no findings' : `findings: ${kinds}`}`,
    `${count(failingKeys, 'key')} fail the audit (fail on: ${failOn.length === 0 ? 'nothing' : failOn.join(', ')})`,
    ...(report.errors.length === 0
      ? []
      : [`${count(report.errors.length, 'store')} could not be read`]),
  ].join('\n')
}

/** The audit for scripts: the report as is (dates ISO), with what fails it. Never a secret. */
export function auditJson(report: AuditReport, failOn: readonly FindingKind[]) {
  return {
    at: report.at,
    failOn,
    failing: report.entries.filter((entry) => failing(entry, failOn)).length,
    entries: report.entries,
    errors: report.errors,
  }
}

/** The LAST USED cell: a date, the period spending shows, `never` where the vendor says so, else `unknown`. */
function lastUseText(use: LastUse): string {
  switch (use.kind) {
    case 'at':
      return day(use.at)
    case 'within':
      return use.period
    case 'never':
      return 'never'
    default:
      return 'unknown'
  }
}

/** What `apply` would do, store by store: each key, why, and its dry-run detail. */
export function fleetPlanText(plan: FleetPlan, targets: TargetsOfKey, paint: Paint): string {
  const lines: string[] = []
  const labels = [...new Set([...plan.entries, ...plan.skipped].map((entry) => entry.label))]
  for (const label of labels) {
    const entries = [...plan.entries, ...plan.skipped].filter((entry) => entry.label === label)
    const provider = entries[0]?.provider ?? ''
    lines.push(paint('bold', `== ${printable(label)} (${provider}) ==`))
    for (const entry of entries) lines.push(entryText(entry, targets, paint))
  }
  lines.push(...errorLines(plan.errors, paint))
  if (lines.length > 0) lines.push('')
  lines.push(planSummary(plan))
  return lines.join('\n')
}

function entryText(entry: FleetPlanEntry, targets: TargetsOfKey, paint: Paint): string {
  const [first = '', ...rest] = planText(
    [entry.plan],
    targetsText(targets(entry.label, entry.key.id, entry.key), paint),
    paint,
  ).split('\n')
  const why = entry.reasons.map((reason) => `${reason.kind}: ${printable(reason.message)}`)
  return [first, `  why:            ${why.join('; ') || '-'}`, ...rest].join('\n')
}

/** `apply would rotate 3 keys at 2 stores; 1 skipped`. */
export function planSummary(plan: FleetPlan): string {
  const stores = new Set(plan.entries.map((entry) => entry.label)).size
  return [
    plan.entries.length === 0
      ? 'nothing to rotate'
      : `apply would rotate ${count(plan.entries.length, 'key')} at ${count(stores, 'store')}`,
    ...(plan.skipped.length === 0 ? [] : [`${plan.skipped.length} due but skipped`]),
    ...(plan.errors.length === 0
      ? []
      : [`${count(plan.errors.length, 'store')} could not be read`]),
  ].join('; ')
}

/** The plan for scripts: ids, reasons and rotation plans. Never a secret. */
export function fleetPlanJson(
  plan: FleetPlan,
  targets: TargetsOfKey,
  deliverTo: ReadonlyMap<string, string>,
) {
  const entry = (item: FleetPlanEntry) => ({
    label: item.label,
    provider: item.provider,
    keyId: item.key.id,
    name: item.key.name,
    reasons: item.reasons,
    deliverTo: deliverTo.get(item.label) ?? null,
    plan: { ...item.plan, targets: targets(item.label, item.key.id, item.key) ?? [] },
  })
  return {
    at: plan.at,
    entries: plan.entries.map(entry),
    skipped: plan.skipped.map(entry),
    errors: plan.errors,
  }
}

/**
 * Every store's outcomes as one table, what could not be carried (once each), the failed
 * stores, then the counts. Piped (as gh): the rows alone on stdout, the rest in `note`.
 */
export function fleetResultText(
  result: FleetRotateResult,
  paint: Paint,
  options: TableOptions = { terminal: true },
): Shown {
  const notes = new Map<string, Set<string>>()
  const rows = result.stores.flatMap((store) =>
    (store.result?.outcomes ?? []).map((outcome) => {
      if (outcome.status === 'rotated')
        for (const warning of outcome.result.warnings) {
          const labels = notes.get(warning) ?? new Set<string>()
          notes.set(warning, labels.add(store.label))
        }
      return [
        printable(store.label),
        shortId(outcome.keyId, options),
        statusCell(outcome, paint),
        outcome.status === 'rotated' ? shortId(outcome.result.newKeyId, options) : '-',
        printable(
          outcome.status === 'rotated'
            ? `old key ${outcome.result.retired}`
            : outcome.status === 'failed'
              ? outcome.error.message
              : outcome.reason,
        ),
      ]
    }),
  )
  const errors: FleetStoreError[] = result.stores.flatMap((store) =>
    store.error === undefined
      ? []
      : [{ label: store.label, provider: store.provider, error: store.error }],
  )
  const deliveries = result.stores.flatMap((store) =>
    (store.result?.outcomes ?? []).flatMap((outcome) =>
      outcome.status === 'failed' && outcome.error.deliveries !== undefined
        ? [
            `${printable(store.label)} ${printable(outcome.keyId)}:`,
            ...deliveryLines(outcome.error.deliveries).map((line) => `  ${line}`),
          ]
        : [],
    ),
  )
  const lines = [
    rows.length === 0
      ? 'nothing rotated'
      : table(['STORE', 'KEY', 'RESULT', 'NEW KEY', 'DETAIL'], rows, paint, options),
    ...(notes.size === 0
      ? []
      : [
          '',
          paint('bold', 'Not carried over'),
          ...[...notes].map(
            ([warning, labels]) =>
              `- ${[...labels].map(printable).join(', ')}: ${printable(warning)}`,
          ),
        ]),
    ...(deliveries.length === 0
      ? []
      : ['', paint('bold', 'Where each new secret is (the old keys still work)'), ...deliveries]),
    ...errorLines(errors, paint),
    '',
    `batch ${printable(result.batchId)}: ${resultCounts(result)}${errors.length === 0 ? '' : `, ${count(errors.length, 'store')} failed`}`,
  ]
  return split(lines, rows.length > 0, options)
}

/** The result for scripts: ids, states and messages per store, never a secret. */
export function fleetResultJson(result: FleetRotateResult) {
  return {
    ...countsJson(result),
    stores: result.stores.map((store) => ({
      label: store.label,
      provider: store.provider,
      result: store.result === null ? null : resultJson(store.result),
      ...(store.error === undefined ? {} : { error: store.error }),
    })),
  }
}

function errorLines(errors: readonly FleetStoreError[], paint: Paint): string[] {
  if (errors.length === 0) return []
  return [
    '',
    ...errors.map(
      (failure) =>
        `${paint('red', 'error')} ${printable(failure.label)}: ${failure.error.name}: ${printable(failure.error.message)}`,
    ),
  ]
}
