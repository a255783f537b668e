import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import {
  type CreatedKey,
  type FleetPlan,
  type FleetRotateResult,
  type FleetStore,
  fileJournal,
  type RotateKeysProgress,
  type RotationJournal,
  storeBatchId,
} from '@keyway/core'
import { CliError } from '../cli-error.js'
import { ConfigError } from '../config/config-error.js'
import { OVERRIDES, override } from '../config/fleet-settings.js'
import type { ConfiguredStore } from '../config/fleet-stores.js'
import { type Context, confirm } from '../context.js'
import { variableOf } from '../deliver.js'
import { EXIT } from '../exit-codes.js'
import { json, printable } from '../output.js'
import { interrupted, isAbort, resumeCommand } from '../resume-command.js'
import { defaultFleetJournal } from '../state-dir.js'
import { type BatchPart, storeAccounts } from '../store-accounts.js'
import { unfinishedBatches } from '../unfinished-batches.js'
import { UsageError } from '../usage-error.js'
import { type OpenFleet, openFleet, unreadableCode } from './fleet-open.js'
import { count, fleetPlanText, fleetResultJson, fleetResultText } from './fleet-output.js'
import { describe, planText, progressLine } from './rotate-output.js'

/**
 * `keyway apply`: rotates exactly what `keyway plan` shows (after a confirmation, unless
 * `--yes`), delivering each new secret to its store's target. `--batch-id <id>` resumes that
 * batch when the journal knows it (exactly its unfinished keys), and otherwise starts a new
 * batch under that id, so a nightly job can name its batch by date and simply run again.
 * Exits 0 when every key rotated, 1 when a key or a store failed, 2 when the prompt was
 * declined or interrupted, 4 when no store could be read because each refused its credential.
 */
export async function apply(context: Context): Promise<number> {
  const opened = await openFleet(context)
  const journal = fileJournal(journalPath(context, opened))
  const accounts = storeAccounts(journal.path)
  const given = context.values['batch-id']
  const batchId = given ?? randomUUID().slice(0, 8)
  context.batchId = batchId
  const resuming = given !== undefined && (await knownBatch(journal, given, opened.stores))
  if (!resuming) await refuseBesideUnfinished(context, opened, journal)
  const outcome = resuming
    ? await resume(context, opened, journal, batchId, accounts)
    : await start(context, opened, journal, batchId, accounts)
  if (outcome === 'cancelled') {
    context.note('nothing rotated')
    return EXIT.cancelled
  }
  if (outcome === 'dry-run') return EXIT.ok
  if ('nothingDue' in outcome) return nothingDue(context, opened, outcome.nothingDue)
  const { result, unreadable } = outcome
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

/** A new batch: plan under the policy, show it, ask, rotate exactly the planned keys. */
async function start(
  context: Context,
  opened: OpenFleet,
  journal: RotationJournal,
  batchId: string,
  accounts: StoreAccounts,
): Promise<Outcome> {
  const { fleet, policy, stores } = opened
  const planned = await fleet.plan(policy, { signal: context.signal })
  requireDelivery(opened, planned)
  checkDistinctVariables(opened, planned)
  if (planned.entries.length === 0) {
    // Nothing is due: no batch, no journal entry, no write.
    return { nothingDue: planned }
  }
  if (context.values['dry-run']) {
    context.out(fleetPlanText(planned, targetsOf(stores), context.paint))
    context.note('dry run: nothing rotated, nothing written')
    return 'dry-run'
  }
  context.note(fleetPlanText(planned, targetsOf(stores), context.paint))
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
      deliver: deliverer(stores),
      onProgress: progress(context),
      signal: context.signal,
    }),
  )
  // The keys the plan skipped are skipped by this run too: the summary counts them.
  const skipped = result.skipped + planned.skipped.length
  return { result: { ...result, skipped }, unreadable: planned.errors.length }
}

/** A batch the journal knows: show what is unfinished, ask, finish exactly that. */
async function resume(
  context: Context,
  opened: OpenFleet,
  journal: RotationJournal,
  batchId: string,
  accounts: StoreAccounts,
): Promise<Outcome> {
  const { fleet, stores } = opened
  // A label pointed at another account since the batch began is refused before any request:
  // the journalled key ids are the first account's.
  await accounts.bind(batchParts(batchId, stores))
  const base = {
    batchId,
    resume: true,
    journal,
    deliver: deliverer(stores),
    signal: context.signal,
  }
  const preview = await fleet.rotate({ ...base, dryRun: true })
  const targets = targetsOf(stores)
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
    context.note(planText(plans, targets.get(store.label) ?? '-', context.paint))
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
async function untilInterrupted<T>(
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

/**
 * Refuses a new batch while the journal holds one for these stores that left rotations part
 * way: a new batch would rotate those old keys again, leaving two live successors and one
 * delivered secret. The refusal ends with the command that finishes the open batch.
 */
async function refuseBesideUnfinished(
  context: Context,
  opened: OpenFleet,
  journal: RotationJournal,
): Promise<void> {
  const labels = opened.stores.map((store) => store.config.label)
  const open = await unfinishedBatches(journal, (recordBatchId) => {
    const label = labels.find((candidate) => recordBatchId.endsWith(`:${candidate}`))
    return label === undefined ? undefined : recordBatchId.slice(0, -(label.length + 1))
  })
  const first = open[0]
  if (first === undefined) return
  throw new CliError(
    'UnfinishedBatch',
    `batch ${first.batchId} in ${journal.path ?? 'the journal'} left ${count(first.keyIds.length, 'key')} part way (${first.keyIds.join(', ')}); a new batch would rotate them again, so nothing was started`,
    {
      hint: 'finish that batch first with the command below, then run this one again',
      next: resumeCommand(context.argv, first.batchId),
    },
  )
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
  else context.out(fleetPlanText(planned, new Map(), context.paint))
  return unreadableCode(planned.errors, opened.stores.length)
}

/**
 * Flags and env vars resolve from here; the file's `journal` from the file's folder; by
 * default, keyway's state folder (never the current folder, often a git work tree).
 */
function journalPath(context: Context, opened: OpenFleet): string {
  const given = override(OVERRIDES.journal, context.values, context.io.env)
  if (given !== undefined) return resolve(given)
  const configured = opened.loaded.config.journal
  if (configured !== undefined) return resolve(opened.loaded.folder, configured)
  return defaultFleetJournal(context.io.env)
}

/** Whether the journal holds this batch for any of the stores (each store's part is `storeBatchId(id, label)`). */
async function knownBatch(
  journal: RotationJournal,
  batchId: string,
  stores: readonly ConfiguredStore[],
): Promise<boolean> {
  for (const store of stores)
    if ((await journal.readBatch(storeBatchId(batchId, store.config.label))) !== undefined)
      return true
  return false
}

/** A store with keys to rotate must say where their new secrets go. */
function requireDelivery(opened: OpenFleet, planned: FleetPlan): void {
  for (const entry of planned.entries) {
    const store = opened.stores.find((candidate) => candidate.config.label === entry.label)
    if (store !== undefined && store.deliver === undefined)
      throw new ConfigError(
        opened.loaded.file,
        `stores[${store.index}].deliver`,
        `required to apply: ${printable(entry.label)} has keys to rotate and nowhere to put their new secrets`,
        'add "deliver": { "to": "<file.env | exec:command>" }, or leave the store out with --store',
      )
  }
}

/**
 * Two planned keys of one store whose variable template makes one name in a dotenv target are
 * refused before anything is written: the second secret would overwrite the first while both
 * old keys are retired.
 */
function checkDistinctVariables(opened: OpenFleet, planned: FleetPlan): void {
  // Fleet-wide: stores of one file share its variables, and key ids repeat across accounts,
  // so each variable is held by a label and a key id.
  const holders = new Map<string, { store: ConfiguredStore; holders: string[] }>()
  for (const store of opened.stores) {
    const target = store.target
    if (target === undefined || target.startsWith('exec:')) continue
    const label = store.config.label
    for (const entry of planned.entries) {
      if (entry.label !== label) continue
      const variable = variableOf(entry.key, store.config.deliver?.variable, label)
      const place = `${resolve(opened.loaded.folder, target)}\n${variable}`
      const held = holders.get(place) ?? { store, holders: [] }
      held.holders.push(`${printable(label)} ${entry.key.id}`)
      holders.set(place, held)
      if (held.holders.length > 1)
        throw new ConfigError(
          opened.loaded.file,
          `stores[${store.index}].deliver.variable`,
          `keys would share ${variable} in ${target}: ${held.holders.join(', ')}; nothing was rotated`,
          'put {ID} or {LABEL} in the variable template, give the keys distinct names, or leave a store out with --store',
        )
    }
  }
}

type StoreAccounts = ReturnType<typeof storeAccounts>

/** Each store's part of a fleet batch, as the journal names it. */
function batchParts(batchId: string, stores: readonly ConfiguredStore[]): BatchPart[] {
  return stores.map((store) => ({
    journalBatchId: storeBatchId(batchId, store.config.label),
    label: store.config.label,
    store: store.fleetStore.store,
  }))
}

function targetsOf(stores: readonly ConfiguredStore[]): Map<string, string> {
  return new Map(
    stores.flatMap(
      (store): Array<[string, string]> =>
        store.target === undefined ? [] : [[store.config.label, store.target]],
    ),
  )
}

function deliverer(stores: readonly ConfiguredStore[]) {
  const byLabel = new Map(stores.map((store) => [store.config.label, store]))
  return (created: CreatedKey, fleetStore: FleetStore) => {
    const deliver = byLabel.get(fleetStore.label)?.deliver
    if (deliver === undefined)
      throw new Error(`store ${fleetStore.label} has no delivery target in the config`)
    return deliver(created)
  }
}

/** Each key's outcome and each pause on stderr, tagged with the store's label. */
function progress(context: Context) {
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
