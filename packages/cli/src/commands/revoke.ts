import { randomUUID } from 'node:crypto'
import {
  fileJournal,
  type Leak,
  type LeakMatch,
  type LeakSearch,
  type ResumeRevokeResult,
  type RevokePlan,
  type RevokeResult,
  resumeRevoke,
  revokeLeakedKey,
  Secret,
} from '@keyway/core'
import { CancelledError } from '../cli-error.js'
import { ConfigError } from '../config/config-error.js'
import { type Context, confirm } from '../context.js'
import { EXIT } from '../exit-codes.js'
import { withJournalLock } from '../journal-lock.js'
import { json, type Paint, printable } from '../output.js'
import { looksLikeSecret, PROVIDERS } from '../providers.js'
import { resumeCommand } from '../resume-command.js'
import type { SealedSecrets } from '../sealed-secrets.js'
import { storeAccounts } from '../store-accounts.js'
import { UsageError } from '../usage-error.js'
import {
  batchParts,
  journalPath,
  knownBatch,
  progress,
  refuseOtherKind,
  sealedSecrets,
  targetsFor,
  untilInterrupted,
  withSealing,
} from './apply.js'
import { type OpenFleet, openFleet } from './fleet-open.js'
import { targetsOfKey, targetsText } from './plan-targets.js'
import { planText } from './rotate-output.js'

/** The longest secret read from stdin; anything longer is not one secret. */
const MAX_SECRET_LENGTH = 4096

/**
 * `keyway revoke`: a leaked secret (on stdin, never an argument), a hint of it (`--hint`) or
 * its SHA-256 prefix (`--sha256`) is looked for in every store of the config. Exactly one
 * match: it is disabled at once where the vendor can, rotated with delivery to its store's
 * targets, and deleted after the grace period (`--now`: at once). Several matches or none:
 * they are listed and nothing changes (exit 1). Each new secret is sealed beside the journal
 * and the store's account bound to the batch, as `keyway apply` does; `--batch-id` of a
 * revoke the journal holds finishes it (no leak needed: the journal names the key).
 */
export async function revoke(context: Context): Promise<number> {
  refuseArguments(context)
  const given = context.values['batch-id']
  // A leak is checked before the config is read, unless a batch may be resumed.
  const early = given === undefined ? await leakOf(context) : undefined
  const plain = await openFleet(context)
  const journal = fileJournal(journalPath(context, plain))
  const resuming = given !== undefined && (await knownBatch(journal, given, plain.stores))
  if (resuming) await refuseOtherKind(context, journal, given as string, plain.stores, 'revoke')
  const leak = resuming ? undefined : (early ?? (await leakOf(context)))
  const sealed = sealedSecrets(context, journal)
  const opened = await withSealing(plain, sealed)
  const work = () =>
    leak === undefined
      ? resumeWith(context, opened, journal, sealed, given as string)
      : revokeWith(context, opened, journal, sealed, leak)
  if (context.values['dry-run']) return work()
  return withJournalLock(journal.path, work)
}

async function revokeWith(
  context: Context,
  opened: OpenFleet,
  journal: ReturnType<typeof fileJournal>,
  sealed: SealedSecrets,
  leak: Leak,
): Promise<number> {
  const batchId = context.values['batch-id'] ?? `revoke-${randomUUID().slice(0, 8)}`
  context.batchId = batchId
  const targets = targetsOfKey(opened.stores)
  const accounts = storeAccounts(journal.path)
  const result = await untilInterrupted(context, batchId, journal, () =>
    revokeLeakedKey(opened.fleet, leak, {
      vendors: Object.values(PROVIDERS),
      journal,
      targets: targetsFor(opened.stores, context),
      now: context.values.now === true,
      batchId,
      dryRun: context.values['dry-run'] === true,
      signal: context.signal,
      onProgress: progress(context),
      onStep: (step) =>
        context.note(
          step.kind === 'disabled'
            ? `${printable(step.label)}: disabled ${step.keyId}: the leaked secret no longer works there`
            : `${printable(step.label)}: replacing ${step.keyId} (batch ${printable(step.batchId)}; if interrupted, run ${resumeCommand(context.argv, step.batchId)})`,
        ),
      confirm: async (match, plan) => {
        requireDelivery(opened, match, plan)
        context.note(planLines(match, plan, context.paint, targets).join('\n'))
        if (!(await confirm(context, `Revoke ${described(match)}?`))) return false
        // Which account the label meant, recorded before the first write of the batch.
        await accounts.bind(
          batchParts(
            batchId,
            opened.stores.filter((store) => store.config.label === match.label),
          ),
        )
        return true
      },
    }),
  )
  if (result.outcome === 'cancelled') throw new CancelledError('nothing changed')
  await sealed.forgetEnded(
    journal,
    opened.stores.map((store) => store.config.label),
  )
  if (context.values.json) context.out(json(resultJson(result)))
  else {
    const text = resultText(result, context.paint, targets)
    if (text.out.length > 0) context.out(text.out.join('\n'))
    if (text.note.length > 0) context.note(text.note.join('\n'))
  }
  if (result.outcome === 'dry-run') return EXIT.ok
  if (result.outcome !== 'revoked') return EXIT.failure
  return result.successor?.status === 'failed' ? EXIT.failure : EXIT.ok
}

/**
 * The leak as given, checked before the config is read or anything sent: `--hint`,
 * `--sha256`, or the secret on stdin. A secret given as an argument is refused unread.
 */
async function leakOf(context: Context): Promise<Leak> {
  const { values } = context
  const hint = values.hint
  const sha256 = values.sha256
  if (hint !== undefined && sha256 !== undefined)
    throw new UsageError('give --hint or --sha256, not both')
  if (hint !== undefined) {
    if (looksLikeSecret(hint))
      throw new UsageError(
        '--hint holds a whole secret; it was not sent or printed',
        'pipe the secret on stdin instead (keyway revoke < file), and replace it: it is now in your shell history',
      )
    if (!/…|\.\.\./.test(hint) && hint.length < 4)
      throw new UsageError('--hint shows too little', 'give start…end, start… or …end')
    return { hint }
  }
  if (sha256 !== undefined) return { sha256 }
  if (context.io.stdin.isTTY)
    throw new UsageError(
      'revoke reads the leaked secret from stdin, which is a terminal here',
      'pipe it (keyway revoke < file), or give --hint <start…end> or --sha256 <hex>',
    )
  const secret = (await readAll(context.io.stdin)).replace(/\r?\n$/, '')
  if (secret === '')
    throw new UsageError(
      'no secret on stdin',
      'pipe the leaked secret (keyway revoke < file), or give --hint or --sha256',
    )
  if (secret.length > MAX_SECRET_LENGTH || /\s/.test(secret))
    throw new UsageError('stdin holds more than one secret; give one secret alone')
  return { secret: new Secret(secret) }
}

/** A secret given as an argument is refused unread, before the config is read. */
function refuseArguments(context: Context): void {
  if (context.positionals.length > 0)
    throw new UsageError(
      `revoke takes no arguments; argument 1 was not sent or printed`,
      'pipe a leaked secret on stdin (keyway revoke < file), or give --hint <start…end> or --sha256 <hex>',
    )
}

/**
 * Finishes an interrupted revoke: the key the journal holds for the batch, replaced (although
 * it is disabled) and retired as the revoke would. Shows what is left, asks, finishes it.
 */
async function resumeWith(
  context: Context,
  opened: OpenFleet,
  journal: ReturnType<typeof fileJournal>,
  sealed: SealedSecrets,
  batchId: string,
): Promise<number> {
  context.batchId = batchId
  // A label pointed at another account since the revoke began is refused before any request.
  await storeAccounts(journal.path).bind(batchParts(batchId, opened.stores))
  const base = {
    journal,
    batchId,
    targets: targetsFor(opened.stores, context),
    now: context.values.now === true,
    signal: context.signal,
  }
  const preview = await resumeRevoke(opened.fleet, { ...base, dryRun: true })
  const open = preview.rotation.plans.filter((plan) => plan.action !== 'done')
  context.note(`resuming revoke batch ${printable(batchId)} (journal ${journal.path})`)
  const first = open[0]
  if (first !== undefined)
    context.note(
      planText(
        open,
        targetsText(targetsOfKey(opened.stores)(preview.label, first.keyId, null), context.paint),
        context.paint,
      ),
    )
  if (context.values['dry-run']) {
    context.note('dry run: nothing changed, nothing written')
    return EXIT.ok
  }
  if (first !== undefined && !(await confirm(context, `Finish the revoke of batch ${batchId}?`)))
    throw new CancelledError('nothing changed')
  const result = await untilInterrupted(context, batchId, journal, () =>
    resumeRevoke(opened.fleet, { ...base, onProgress: progress(context) }),
  )
  await sealed.forgetEnded(
    journal,
    opened.stores.map((store) => store.config.label),
  )
  if (context.values.json)
    context.out(
      json({
        outcome: 'resumed',
        label: result.label,
        batchId,
        ...(result.successor === undefined ? {} : { successor: successorJson(result) }),
      }),
    )
  else context.out(resumedText(result, batchId))
  return result.successor?.status === 'failed' ? EXIT.failure : EXIT.ok
}

function resumedText(result: ResumeRevokeResult, batchId: string): string {
  const successor = result.successor
  const head = `${printable(result.label)}: revoke of batch ${printable(batchId)}`
  if (successor === undefined) return `${head}: done already; nothing to send`
  if (successor.status === 'rotated')
    return `${head}: ${successor.keyId} replaced by ${successor.result.newKeyId}, delivered; old key ${successor.result.retired}`
  if (successor.status === 'failed')
    return `${head}: the successor failed: ${printable(successor.error.message)}`
  return `${head}: no successor: ${printable(successor.reason)}`
}

function successorJson(result: Pick<RevokeResult, 'successor'>): Record<string, unknown> | null {
  const successor = result.successor
  if (successor === undefined) return null
  return successor.status === 'rotated'
    ? {
        status: 'rotated',
        newKeyId: successor.result.newKeyId,
        retired: successor.result.retired,
      }
    : successor.status === 'failed'
      ? { status: 'failed', error: successor.error }
      : { status: 'skipped', reason: successor.reason }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')
    if (text.length > MAX_SECRET_LENGTH + 2) break
  }
  return text
}

/** A key whose successor has nowhere to go is refused before anything is written. */
function requireDelivery(opened: OpenFleet, match: LeakMatch, plan: RevokePlan): void {
  if (plan.successor?.action !== 'rotate') return
  const store = opened.stores.find((candidate) => candidate.config.label === match.label)
  if (store === undefined) return
  if (!store.targets.some((target) => target.takes(match.key.id, match.key)))
    throw new ConfigError(
      opened.loaded.file,
      `stores[${store.index}].targets`,
      `no target takes key ${match.key.id} of ${printable(match.label)}, so its successor would have nowhere to go; nothing was changed`,
      'add a target for it, or disable the key with keyway disable',
    )
}

/** How a key is named: store, name, id. */
function described(match: LeakMatch): string {
  const name = match.key.name === null ? '' : ` "${printable(match.key.name)}"`
  return `${match.provider} key${name} ${match.key.id} of ${printable(match.label)}`
}

function planLines(
  match: LeakMatch,
  plan: RevokePlan,
  paint: Paint,
  targets: ReturnType<typeof targetsOfKey>,
): string[] {
  const disable = {
    disable: 'disable it now (the leaked secret stops working at once)',
    already: 'it is disabled already',
    cannot: `${match.provider} cannot disable keys: it works until it is deleted`,
    'own-credential': 'it is the store’s own credential: it is retired by its rotation only',
  }[plan.disable]
  const grace =
    plan.graceMs === 0 ? 'at once' : `after the grace period (${Math.round(plan.graceMs / 1000)} s)`
  const retire = {
    delete: `then delete the old key ${grace}`,
    disable: `then leave the old key disabled (${match.provider} cannot delete keys)`,
    keep: 'then keep the old key (it can be neither disabled nor deleted)',
  }[plan.retire]
  const lines = [
    paint('bold', `found ${described(match)} (by ${matchedBy(match)})`),
    ...(match.note === undefined ? [] : [`  note: ${printable(match.note)}`]),
    `  ${disable}`,
  ]
  if (plan.successor === null || plan.successor.action === 'skip')
    lines.push(
      `  no successor: ${printable(plan.successor?.reason ?? 'the rotation could not be planned')}`,
    )
  else
    lines.push(
      '  replace it:',
      planText(
        [plan.successor],
        targetsText(targets(match.label, match.key.id, match.key), paint),
        paint,
      ),
      `  ${retire}`,
    )
  for (const line of plan.cannot) lines.push(`  ${printable(line)}`)
  return lines
}

function matchedBy(match: LeakMatch): string {
  return {
    'key-id': 'the key id the secret gives',
    hint: 'the part of the secret the vendor shows',
    sha256: 'the SHA-256 its id holds',
  }[match.by]
}

function candidateLine(match: LeakMatch): string {
  const name = match.key.name === null ? 'no name' : printable(match.key.name)
  return `  ${printable(match.label)} (${match.provider})  ${match.key.id}  ${name}  ${match.key.status}`
}

function searchLines(search: LeakSearch): string[] {
  return [
    ...search.stores.map(
      (store) =>
        `  ${printable(store.label)}: ${store.by === 'skipped' ? `not searched: ${printable(store.reason ?? '')}` : `searched by ${store.by}`}`,
    ),
    ...search.errors.map(
      (error) =>
        `  could not search store ${printable(error.label)}: ${printable(error.error.message)}`,
    ),
  ]
}

function resultText(
  result: RevokeResult,
  paint: Paint,
  targets: ReturnType<typeof targetsOfKey>,
): { out: string[]; note: string[] } {
  const { search } = result
  switch (result.outcome) {
    case 'none':
      return {
        out: [
          search.errors.length === 0
            ? 'no key of the fleet matches; nothing changed'
            : `no key of the stores searched matches, but ${search.errors.length === 1 ? 'a store' : `${search.errors.length} stores`} could not be searched; nothing changed`,
        ],
        note: searchLines(search),
      }
    case 'several':
      return {
        out: [
          `${search.matches.length} keys match; nothing changed. Candidates:`,
          ...search.matches.map(candidateLine),
        ],
        note: ['give more of the secret (the whole secret on stdin, or a longer --hint)'],
      }
    case 'cannot': {
      const match = result.match as LeakMatch
      return {
        out: [
          `nothing changed: ${described(match)} can be neither disabled nor replaced here; the leaked secret still works`,
          ...planLines(match, result.plan as RevokePlan, paint, targets),
        ],
        note: [
          result.plan?.disable === 'own-credential'
            ? 'it is the store’s own credential: rotate it with "rotation": { "allowSelf": true } in the config, or revoke it in the vendor’s console'
            : 'revoke it in the vendor’s console',
        ],
      }
    }
    case 'unsure':
      return {
        out: [
          'one key may match, but not surely (a store that could also hold it could not be read, or only the part of the secret the vendor shows matched); nothing changed. Candidate:',
          ...search.matches.map(candidateLine),
        ],
        note: searchLines(search),
      }
    case 'dry-run': {
      const match = result.match as LeakMatch
      return {
        out: planLines(match, result.plan as RevokePlan, paint, targets),
        note: ['dry run: nothing changed, nothing written'],
      }
    }
    default: {
      const match = result.match as LeakMatch
      const plan = result.plan as RevokePlan
      const out = [`revoked ${described(match)}`]
      if (result.disabled) out.push('  disabled at once')
      const successor = result.successor
      if (successor === undefined)
        out.push(`  no successor: ${printable(plan.successor?.reason ?? 'none planned')}`)
      else if (successor.status === 'rotated')
        out.push(
          `  replaced by ${successor.result.newKeyId}, delivered`,
          `  old key ${successor.result.retired}`,
        )
      else if (successor.status === 'failed')
        out.push(`  the successor failed: ${printable(successor.error.message)}`)
      else out.push(`  no successor: ${printable(successor.reason)}`)
      for (const line of plan.cannot) out.push(`  ${printable(line)}`)
      return { out, note: [] }
    }
  }
}

function resultJson(result: RevokeResult): Record<string, unknown> {
  const candidate = (match: LeakMatch) => ({
    label: match.label,
    provider: match.provider,
    id: match.key.id,
    name: match.key.name,
    status: match.key.status,
    by: match.by,
    ...(match.note === undefined ? {} : { note: match.note }),
  })
  return {
    outcome: result.outcome,
    form: result.search.form,
    shapes: result.search.shapes,
    matches: result.search.matches.map(candidate),
    stores: result.search.stores,
    errors: result.search.errors,
    disabled: result.disabled,
    ...(result.plan === undefined
      ? {}
      : {
          plan: {
            disable: result.plan.disable,
            successor: result.plan.successor?.action ?? null,
            reason: result.plan.successor?.reason ?? null,
            retire: result.plan.retire,
            graceMs: result.plan.graceMs,
            cannot: result.plan.cannot,
          },
        }),
    ...(result.successor === undefined ? {} : { successor: successorJson(result) }),
    batchId: result.rotation?.batchId ?? null,
  }
}
