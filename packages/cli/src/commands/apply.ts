import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import {
  type ApiKey,
  type BatchKind,
  createFleet,
  type FleetPlan,
  type FleetRotateResult,
  type FleetStore,
  fileJournal,
  type RotateKeysProgress,
  type RotationJournal,
  readHistory,
} from '@keyway/core'
import { storeBatchId } from '@keyway/core/adapter'
import { ConfigError } from '../config/config-error.js'
import { OVERRIDES, override } from '../config/fleet-settings.js'
import type { ConfiguredStore } from '../config/fleet-stores.js'
import { keyTargets } from '../config/store-targets.js'
import { type Context, confirm } from '../context.js'
import { EXIT } from '../exit-codes.js'
import { withJournalLock } from '../journal-lock.js'
import { json, printable } from '../output.js'
import { interrupted, isAbort, resumeCommand, shellWord } from '../resume-command.js'
import { SealedSecrets, sealingKeyOf } from '../sealed-secrets.js'
import { defaultFleetJournal } from '../state-dir.js'
import { type BatchPart, readOrCreateKey, storeAccounts } from '../store-accounts.js'
import { refuseBesideUnfinished } from '../unfinished-batches.js'
import { UsageError } from '../usage-error.js'
import { nowOf, type OpenFleet, openFleet, unreadableCode } from './fleet-open.js'
import { count, fleetPlanText, fleetResultJson, fleetResultText } from './fleet-output.js'
import { targetsOfKey, targetsText } from './plan-targets.js'
import { describe, planText, progressLine } from './rotate-output.js'

/**
 * `keyway apply`: rotates exactly what `keyway plan` shows (after a confirmation, unless
 * `--yes`), delivering each new secret to its key's targets; an old key is retired only
 * once every target of its key confirmed. `--batch-id <id>` resumes that
 * batch when the journal knows it (exactly its unfinished keys), and otherwise starts a new
 * batch under that id, so a nightly job can name its batch by date and simply run again.
 * Exits 0 when every key rotated, 1 when a key or a store failed, 2 when the prompt was
 * declined or interrupted, 4 when no store could be read because each refused its credential.
 */
export async function apply(context: Context): Promise<number> {
  const plain = await openFleet(context)
  const journal = fileJournal(journalPath(context, plain))
  const sealed = sealedSecrets(context, journal)
  const opened = await withSealing(plain, sealed)
  // A dry run writes nothing: it may read the journal while another run holds it.
  if (context.values['dry-run']) return applyWith(context, opened, journal, sealed)
  return withJournalLock(journal.path, () => applyWith(context, opened, journal, sealed))
}

async function applyWith(
  context: Context,
  opened: OpenFleet,
  journal: RotationJournal & { readonly path: string },
  sealed: SealedSecrets,
): Promise<number> {
  const given = context.values['batch-id']
  const batchId = given ?? randomUUID().slice(0, 8)
  context.batchId = batchId
  const resuming = given !== undefined && (await knownBatch(journal, given, opened.stores))
  if (resuming) await refuseOtherKind(context, journal, given as string, opened.stores, 'rotate')
  if (!resuming) {
    // A batch part way over these stores' keys is finished first.
    const labels = opened.stores.map((store) => store.config.label)
    await refuseBesideUnfinished(
      journal,
      (recordBatchId) => {
        const label = labels.find((candidate) => recordBatchId.endsWith(`:${candidate}`))
        return label === undefined ? undefined : recordBatchId.slice(0, -(label.length + 1))
      },
      {
        keys: (keys) => count(keys, 'key'),
        hint: 'finish that batch first with the command below, then run this one again',
        // A revoke's batch is finished by revoke (apply would refuse it).
        next: async (open) =>
          (await batchKind(journal, open, opened.stores)) === 'revoke'
            ? commandFor(context.argv, 'revoke', open)
            : resumeCommand(context.argv, open),
      },
    )
  }
  const batch = { context, opened, journal, batchId, accounts: storeAccounts(journal.path) }
  const outcome = resuming ? await resume(batch) : await start(batch)
  if (outcome === 'cancelled') {
    context.note('nothing rotated')
    return EXIT.cancelled
  }
  if (outcome === 'dry-run') return EXIT.ok
  if ('nothingDue' in outcome) return nothingDue(context, opened, outcome.nothingDue)
  const { result, unreadable } = outcome
  // A rotation that ended needs its sealed secret no more.
  await sealed.forgetEnded(
    journal,
    opened.stores.map((store) => store.config.label),
  )
  if (context.values.json) context.out(json(fleetResultJson(result)))
  else {
    const shown = fleetResultText(result, context.paint, { terminal: context.terminal })
    if (shown.out !== '') context.out(shown.out)
    if (shown.note !== '') context.note(shown.note)
  }
  const storeFailed = result.stores.some((store) => store.error !== undefined)
  return result.failed > 0 || storeFailed || unreadable > 0 ? EXIT.failure : EXIT.ok
}

type Outcome =
  | 'cancelled'
  | 'dry-run'
  | { nothingDue: FleetPlan }
  | { result: FleetRotateResult; unreadable: number }

/** What starting or resuming a batch works with. */
interface Batch {
  context: Context
  opened: OpenFleet
  journal: RotationJournal
  batchId: string
  accounts: ReturnType<typeof storeAccounts>
}

/** A new batch: plan under the policy, show it, ask, rotate exactly the planned keys. */
async function start({ context, opened, journal, batchId, accounts }: Batch): Promise<Outcome> {
  const { fleet, policy, stores } = opened
  // Schedules count from the vendor's creation times, and from history where only it knows.
  const now = nowOf(context)
  const history = await readHistory(opened.history)
  // History counts for a label only where it names the account the label reaches now, by the
  // digest key its fingerprints were made with (made with the first entry: none without one).
  const planned = await fleet.plan(policy, {
    signal: context.signal,
    now,
    history,
    ...(history.length === 0
      ? {}
      : { historyDigestKey: await readOrCreateKey(`${opened.history}.key`) }),
  })
  requireDelivery(opened, planned)
  checkDistinctVariables(opened, planned)
  if (planned.entries.length === 0) {
    // Nothing is due: no batch, no journal entry, no write.
    return { nothingDue: planned }
  }
  if (context.values['dry-run']) {
    context.out(fleetPlanText(planned, targetsOfKey(stores), context.paint))
    context.note('dry run: nothing rotated, nothing written')
    return 'dry-run'
  }
  context.note(fleetPlanText(planned, targetsOfKey(stores), context.paint))
  const keyIds: Record<string, string[]> = {}
  for (const entry of planned.entries)
    keyIds[entry.label] = [...(keyIds[entry.label] ?? []), entry.key.id]
  const storeCount = Object.keys(keyIds).length
  if (
    !(await confirm(
      context,
      `Rotate ${count(planned.entries.length, 'key')} at ${count(storeCount, 'store')} as shown?`,
    ))
  )
    return 'cancelled'
  // Which account each label meant, recorded before the first write of the batch.
  await accounts.bind(
    batchParts(
      batchId,
      stores.filter((store) => Object.hasOwn(keyIds, store.config.label)),
    ),
  )
  context.note(context.paint('dim', resumeHint(batchId, journal)))
  const result = await untilInterrupted(context, batchId, journal, () =>
    fleet.rotate({
      batchId,
      journal,
      keyIds,
      targets: targetsFor(stores, context),
      onProgress: progress(context),
      signal: context.signal,
      now,
    }),
  )
  // The keys the plan skipped are skipped by this run too: the summary counts them.
  const skipped = result.skipped + planned.skipped.length
  return { result: { ...result, skipped }, unreadable: planned.errors.length }
}

/** A batch the journal knows: show what is unfinished, ask, finish exactly that. */
async function resume({ context, opened, journal, batchId, accounts }: Batch): Promise<Outcome> {
  const { fleet, stores } = opened
  // A label pointed at another account since the batch began is refused before any request:
  // the journalled key ids are the first account's.
  await accounts.bind(batchParts(batchId, stores))
  const base = {
    batchId,
    resume: true,
    journal,
    targets: targetsFor(stores, context),
    signal: context.signal,
  }
  const preview = await fleet.rotate({ ...base, dryRun: true })
  const targets = targetsOfKey(stores)
  const open = preview.stores.flatMap((store) =>
    (store.result?.plans ?? [])
      .filter((plan) => plan.action !== 'done')
      .map((plan) => ({ label: store.label, plan })),
  )
  context.note(`resuming batch ${printable(batchId)} (journal ${journal.path ?? ''})`)
  for (const store of preview.stores) {
    const plans = (store.result?.plans ?? []).filter((plan) => plan.action !== 'done')
    if (plans.length === 0) continue
    context.note(context.paint('bold', `== ${printable(store.label)} (${store.provider}) ==`))
    for (const plan of plans)
      context.note(
        planText(
          [plan],
          targetsText(targets(store.label, plan.keyId, null), context.paint),
          context.paint,
        ),
      )
  }
  if (open.length === 0)
    context.note(`every key of batch ${printable(batchId)} is done already; nothing to send`)
  else if (context.values['dry-run']) {
    context.note('dry run: nothing rotated, nothing written')
    return 'dry-run'
  } else if (!(await confirm(context, `Finish ${count(open.length, 'key')} of batch ${batchId}?`)))
    return 'cancelled'
  const result = await untilInterrupted(context, batchId, journal, () =>
    fleet.rotate({ ...base, onProgress: progress(context) }),
  )
  return { result, unreadable: 0 }
}

/**
 * Runs a batch that has begun; a Ctrl-C ends it with the command that finishes it, as the
 * last line, since the same command without `--batch-id` would start another batch.
 */
export async function untilInterrupted<T>(
  context: Context,
  batchId: string,
  journal: RotationJournal,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (isAbort(context.signal)) throw interrupted(context.argv, batchId, journal.path ?? '', error)
    throw error
  }
}

/** No key is due: says so (and which stores could not be read), sends nothing. */
function nothingDue(context: Context, opened: OpenFleet, planned: FleetPlan): number {
  if (context.values.json)
    context.out(
      json({
        batchId: null,
        rotated: 0,
        failed: 0,
        skipped: planned.skipped.length,
        stores: [],
        errors: planned.errors,
      }),
    )
  else context.out(fleetPlanText(planned, () => undefined, context.paint))
  return unreadableCode(planned.errors, opened.stores.length)
}

/**
 * Flags and env vars resolve from here; the file's `journal` from the file's folder; by
 * default, keyway's state folder (never the current folder, often a git work tree).
 */
export function journalPath(context: Context, opened: OpenFleet): string {
  const given = override(OVERRIDES.journal, context.values, context.io.env)
  if (given !== undefined) return resolve(given)
  const configured = opened.loaded.config.journal
  if (configured !== undefined) return resolve(opened.loaded.folder, configured)
  return defaultFleetJournal(context.io.env)
}

/** Whether the journal holds this batch for any of the stores (each store's part is `storeBatchId(id, label)`). */
export async function knownBatch(
  journal: RotationJournal,
  batchId: string,
  stores: readonly ConfiguredStore[],
): Promise<boolean> {
  for (const store of stores)
    if ((await journal.readBatch(storeBatchId(batchId, store.config.label))) !== undefined)
      return true
  return false
}

/** The flags `apply` and `revoke` share that say where a batch is (and how to ask), with whether each takes a value. */
const SHARED_FLAGS: Readonly<Record<string, boolean>> = {
  '-c': true,
  '--config': true,
  '--store': true,
  '--journal': true,
  '--history': true,
  '-y': false,
  '--yes': false,
  '--json': false,
  '--dry-run': false,
}

/**
 * Refuses, before any request, a batch the other command started (`BatchRecord.kind`): a
 * revoke resumed by `apply` would not replace the disabled key, and a rotation resumed by
 * `revoke` would replace a key no one disabled. The hint is the command that finishes it: this
 * one's config, stores, journal and answers under the other command. A batch journalled before
 * the mark was kept is resumed as before.
 */
/** The command that started batch `batchId` over these stores, where the journal says. */
async function batchKind(
  journal: RotationJournal,
  batchId: string,
  stores: readonly ConfiguredStore[],
): Promise<BatchKind | undefined> {
  for (const store of stores) {
    const kind = (await journal.readBatch(storeBatchId(batchId, store.config.label)))?.kind
    if (kind !== undefined) return kind
  }
  return undefined
}

export async function refuseOtherKind(
  context: Context,
  journal: RotationJournal,
  batchId: string,
  stores: readonly ConfiguredStore[],
  kind: BatchKind,
): Promise<void> {
  const started = await batchKind(journal, batchId, stores)
  if (started === undefined || started === kind) return
  const other = started === 'revoke' ? 'revoke' : 'apply'
  throw new UsageError(
    started === 'revoke'
      ? `batch ${printable(batchId)} in ${journal.path ?? 'the journal'} was started by keyway revoke: apply would not finish it (the leaked key is replaced only by revoke); nothing was sent`
      : `batch ${printable(batchId)} in ${journal.path ?? 'the journal'} was started by keyway apply, not revoke: revoke would replace keys no one disabled; nothing was sent`,
    commandFor(context.argv, other, batchId),
  )
}

/** `keyway <command>` with the flags of `argv` that say where the batch is, and `--batch-id`. */
function commandFor(argv: readonly string[], command: string, batchId: string): string {
  const kept: string[] = []
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] as string
    const flag = word.split('=')[0] as string
    const takesValue = SHARED_FLAGS[flag]
    if (takesValue === undefined) continue
    kept.push(word)
    if (takesValue && !word.includes('=') && index + 1 < argv.length)
      kept.push(argv[++index] as string)
  }
  return ['keyway', command, ...kept, '--batch-id', batchId].map(shellWord).join(' ')
}

/**
 * Every key to rotate must have somewhere to go: a store with no target, or a key that no
 * target of its store takes, is refused before anything is written.
 */
function requireDelivery(opened: OpenFleet, planned: FleetPlan): void {
  for (const entry of planned.entries) {
    const store = opened.stores.find((candidate) => candidate.config.label === entry.label)
    if (store === undefined) continue
    if (store.targets.length === 0)
      throw new ConfigError(
        opened.loaded.file,
        `stores[${store.index}].targets`,
        `required to apply: ${printable(entry.label)} has keys to rotate and nowhere to put their new secrets`,
        'add "targets": [{ "kind": "github" | "vercel" | "dotenv" | "exec", … }] (or "deliver"), or leave the store out with --store',
      )
    if (!store.targets.some((target) => target.takes(entry.key.id, entry.key)))
      throw new ConfigError(
        opened.loaded.file,
        `stores[${store.index}].targets`,
        `no target takes key ${entry.key.id} (${printable(entry.key.name ?? 'no name')}) of ${printable(entry.label)}, which is due; nothing was rotated`,
        'widen a target\'s "keys", or add a target for it',
      )
  }
}

/**
 * Two planned keys whose variable would be one at one place (a dotenv file, a repository's
 * secrets, a Vercel project) are refused before anything is written: the second secret would
 * overwrite the first while both old keys are retired. So is a key whose variable cannot be
 * named where it must stay the same from rotation to rotation.
 */
function checkDistinctVariables(opened: OpenFleet, planned: FleetPlan): void {
  // Fleet-wide: stores share places, and key ids repeat across accounts, so each variable is
  // held by a label and a key id.
  const holders = new Map<string, string[]>()
  for (const entry of planned.entries) {
    const store = opened.stores.find((candidate) => candidate.config.label === entry.label)
    if (store === undefined) continue
    for (const target of store.targets) {
      if (!target.takes(entry.key.id, entry.key)) continue
      const named = target.variableFor(entry.key)
      if ('problem' in named)
        throw new ConfigError(
          opened.loaded.file,
          `${target.path}.variable`,
          `${printable(entry.label)}: ${printable(named.problem)}; nothing was rotated`,
        )
      if (target.place === undefined) continue
      const place = `${target.place}\n${named.variable}`
      const held = [...(holders.get(place) ?? []), `${printable(entry.label)} ${entry.key.id}`]
      holders.set(place, held)
      if (held.length > 1)
        throw new ConfigError(
          opened.loaded.file,
          `${target.path}.variable`,
          `keys would share ${named.variable} in ${printable(target.kind.where(target.config as never))}: ${held.join(', ')}; nothing was rotated`,
          'put {NAME} or {LABEL} in the variable template, give the keys distinct names, select them apart with "keys", or leave a store out with --store',
        )
    }
  }
}

/** Each store's part of a fleet batch, as the journal names it. */
export function batchParts(batchId: string, stores: readonly ConfiguredStore[]): BatchPart[] {
  return stores.map((store) => ({
    journalBatchId: storeBatchId(batchId, store.config.label),
    label: store.config.label,
    store: store.fleetStore.store,
  }))
}

/**
 * Each new secret is sealed beside the journal until its rotation ends, so a run cut off
 * after a target took the secret resumes with it: every target is written once, and no
 * interim key is minted. Sealed with a key derived from each store's credential, or with
 * `KEYWAY_SEALING_KEY` where it is set.
 */
export function sealedSecrets(context: Context, journal: { readonly path: string }): SealedSecrets {
  return new SealedSecrets(`${journal.path}.sealed.json`, sealingKeyOf(context.io.env), (line) =>
    context.note(context.paint('yellow', `warning: ${line}`)),
  )
}

/** The fleet with each store sealing what it mints. */
export async function withSealing(opened: OpenFleet, sealed: SealedSecrets): Promise<OpenFleet> {
  const stores = await Promise.all(
    opened.stores.map(async (store) => ({
      ...store,
      fleetStore: {
        ...store.fleetStore,
        store: await sealed.wrap(store.fleetStore.store, store.config.label),
      },
    })),
  )
  return { ...opened, stores, fleet: createFleet(stores.map((store) => store.fleetStore)) }
}

/**
 * Each key's delivery targets, from its store's entries. A target that propagates (a
 * redeploy) may be waited for a long time: the wait is a line on stderr.
 */
export function targetsFor(stores: readonly ConfiguredStore[], context: Context) {
  const byLabel = new Map(stores.map((store) => [store.config.label, store]))
  return ({ keyId, key }: { keyId: string; key: ApiKey | null }, fleetStore: FleetStore) =>
    keyTargets(byLabel.get(fleetStore.label)?.targets ?? [], keyId, key).map((target) =>
      target.propagate === undefined
        ? target
        : {
            ...target,
            confirm: (confirming: Parameters<typeof target.confirm>[0]) => {
              context.note(
                context.paint(
                  'dim',
                  `${printable(fleetStore.label)}: waiting for ${printable(target.name)} to confirm the new key ${confirming.newKeyId} of ${keyId}: ${printable(target.description.confirm)}`,
                ),
              )
              return target.confirm(confirming)
            },
          },
    )
}

/** Each key's outcome and each pause on stderr, tagged with the store's label. */
export function progress(context: Context) {
  return (event: RotateKeysProgress & { label: string }) => {
    const line =
      event.kind === 'key'
        ? `[${event.done}/${event.total}] ${describe(event.outcome)}`
        : progressLine(event)
    if (line !== undefined) context.note(`${printable(event.label)}: ${line}`)
  }
}

function resumeHint(batchId: string, journal: RotationJournal): string {
  return `batch ${batchId}, journal ${journal.path ?? ''}; if interrupted, run again with --batch-id ${batchId}`
}
