import type {
  RetryEvent,
  RotateKeysOutcome,
  RotateKeysProgress,
  RotateKeysResult,
  RotationPlan,
} from '@keyway/core'
import { SETTING_FLAGS } from '../flags.js'
import { type Paint, printable, table } from '../output.js'

function value(item: unknown): string {
  if (item instanceof Date) return item.toISOString()
  if (Array.isArray(item)) return item.map(value).join(',')
  if (item !== null && typeof item === 'object') {
    return Object.entries(item)
      .map(([field, inner]) => `${field}:${value(inner)}`)
      .join(',')
  }
  return printable(String(item))
}

// The library speaks of its settings; an operator sets flags and env vars.
const OPERATOR_TERMS: ReadonlyArray<readonly [string, string]> = [
  [
    "give successors a lifetime (the store's rotation expiresInDays)",
    'give new keys a lifetime with --expires-in (rotation.expiresIn in the config)',
  ],
  [
    'give the new key an expiresAt to rotate it anyway',
    'give the new key a lifetime with --expires-in to rotate it anyway',
  ],
  ['pass allowSelf', 'pass --allow-self'],
  ["(the store's credentialKeyIds names it)", '(the vendor says so)'],
  ['(it has no credentialKeyIds)', '(the vendor does not say)'],
  ['(it has no useCredential)', '(keyway cannot switch to a new credential here)'],
  // A store's setting for its own key, as the flag its descriptor gives it.
  ...SETTING_FLAGS.map(
    ({ setting }) =>
      [
        `name that key in the store's settings (${setting.setting}`,
        `name that key (--${setting.flag}`,
      ] as const,
  ),
]

/** A rotation's reason or warning, with library setting names replaced by flags and env vars. */
export function operatorText(text: string): string {
  let told = text
  for (const [library, operator] of OPERATOR_TERMS) told = told.replaceAll(library, operator)
  return printable(told)
}

const CREDENTIAL: Record<RotationPlan['credential'], string> = {
  own: "yes, it may be the store's own credential",
  unknown: 'cannot tell (the store does not say which key it uses)',
  other: 'no',
}

/** The plan of each key as a few labelled lines: what a dry run prints and a confirmation shows. */
export function planText(plans: readonly RotationPlan[], deliverTo: string, paint: Paint): string {
  return plans
    .map((plan) => {
      const age = plan.ageDays === null ? 'age unknown' : `${plan.ageDays} days old`
      // An empty value (no metadata, no allowed IPs) carries nothing worth a word.
      const carried = Object.entries(plan.input)
        .map(([field, item]) => [field, value(item)] as const)
        .filter(([, shown]) => shown !== '')
        .map(([field, shown]) => `${field}=${shown}`)
        .join(', ')
      const action =
        plan.action === 'rotate'
          ? paint('green', 'rotate')
          : plan.action === 'done'
            ? 'done already'
            : paint('yellow', 'skip')
      const lines = [
        `${paint('bold', printable(plan.keyId))} ${printable(plan.name ?? '(no name)')}, ${age}: ${action}${plan.reason ? ` (${operatorText(plan.reason)})` : ''}`,
      ]
      if (plan.action !== 'done') {
        lines.push(
          `  carried over:   ${plan.strategy === 'regenerate' ? 'the same key (regenerated in place)' : carried || '(nothing to carry)'}`,
          `  not carried:    ${plan.warnings.length === 0 ? '-' : plan.warnings.map(printable).join('; ')}`,
          `  own credential: ${CREDENTIAL[plan.credential]}${plan.switchesCredential ? '; the store switches to the new key first' : ''}`,
          `  delivered to:   ${deliverTo}`,
          `  old key:        ${plan.retire === 'replaced' ? 'its secret dies in place' : plan.retire}`,
        )
      }
      return lines.join('\n')
    })
    .join('\n')
}

/** One stderr line for a batch event: a key's outcome, or a pause. */
export function progressLine(event: RotateKeysProgress): string | undefined {
  if (event.kind === 'waiting') {
    const why =
      event.reason === 'grace'
        ? 'grace period before the old keys are retired'
        : `before checking the new secret of ${event.keyId} again`
    return `waiting ${seconds(event.ms)}: ${why}`
  }
  if (event.total <= 1) return undefined
  return `[${event.done}/${event.total}] ${describe(event.outcome)}`
}

/** One stderr line for a retry the store waits for (backoff, or the vendor's Retry-After). */
export function retryLine(event: RetryEvent): string {
  return `waiting ${seconds(event.delayMs)}: ${event.provider} ${event.operation} ${event.reason}, then attempt ${event.attempt + 1}`
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
}

/** One line for a key's outcome: rotated, failed or skipped, and why. */
export function describe(outcome: RotateKeysOutcome): string {
  if (outcome.status === 'rotated') return `rotated ${outcome.keyId} -> ${outcome.result.newKeyId}`
  if (outcome.status === 'failed')
    return `failed ${outcome.keyId}: ${printable(outcome.error.message)}`
  return `skipped ${outcome.keyId}: ${operatorText(outcome.reason)}`
}

/** The outcome of each key as a table, with warnings (aligned on a terminal, tab-separated otherwise). */
export function resultTable(result: RotateKeysResult, paint: Paint, terminal: boolean): string {
  const rows = result.outcomes.map((outcome) => [
    printable(outcome.keyId),
    statusCell(outcome, paint),
    outcome.status === 'rotated' ? outcome.result.newKeyId : '-',
    operatorText(
      outcome.status === 'rotated'
        ? [`old key ${outcome.result.retired}`, ...outcome.result.warnings].join('; ')
        : outcome.status === 'failed'
          ? outcome.error.message
          : outcome.reason,
    ),
  ])
  return table(['KEY', 'RESULT', 'NEW KEY', 'DETAIL'], rows, paint, { terminal })
}

/** A batch and how many of its keys rotated, failed and were skipped: one store's or a fleet's. */
type Counts = Pick<RotateKeysResult, 'batchId' | 'rotated' | 'failed' | 'skipped'>

/** An outcome's RESULT cell: rotated in green, failed in red, or skipped. */
export function statusCell(outcome: RotateKeysResult['outcomes'][number], paint: Paint): string {
  if (outcome.status === 'rotated') return paint('green', 'rotated')
  return outcome.status === 'failed' ? paint('red', 'failed') : 'skipped'
}

/** The counts line under the table. */
export function resultCounts(result: Counts): string {
  return `${result.rotated} rotated, ${result.failed} failed, ${result.skipped} skipped`
}

/** The head of a result for scripts: the batch id and the counts. */
export function countsJson({ batchId, rotated, failed, skipped }: Counts) {
  return { batchId, rotated, failed, skipped }
}

/** The result for scripts: ids, states and messages, never a secret. */
export function resultJson(result: RotateKeysResult): Record<string, unknown> {
  return {
    ...countsJson(result),
    outcomes: result.outcomes.map((outcome) => ({
      keyId: outcome.keyId,
      status: outcome.status,
      ...(outcome.status === 'rotated'
        ? {
            newKeyId: outcome.result.newKeyId,
            retired: outcome.result.retired,
            verified: outcome.result.verified,
            warnings: outcome.result.warnings,
          }
        : {}),
      ...(outcome.status === 'failed' ? { error: outcome.error } : {}),
      ...(outcome.status === 'skipped' ? { reason: outcome.reason } : {}),
    })),
  }
}
