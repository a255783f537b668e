import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import {
  type CreatedKey,
  fileJournal,
  type KeyStore,
  memoryJournal,
  type RetireMode,
  type RotateKeysOptions,
  type RotationJournal,
  type RotationPlan,
  rotateKeys,
  ValidationError,
} from '@keyway/core'
import { DEFAULT_ROTATION_CONCURRENCY } from '@keyway/core/adapter'
import { type Context, confirm, findKey, type OpenStore, openStore } from '../context.js'
import { DEFAULT_VAR_NAME, type Deliver, deliveryTarget, sharedVariables } from '../deliver.js'
import { EXIT } from '../exit-codes.js'
import {
  checkFieldValues,
  fieldInput,
  globToRegExp,
  OPTIONS,
  settingInput,
  wholeNumber,
} from '../flags.js'
import { deliverWithHistory } from '../history-file.js'
import { withJournalLock } from '../journal-lock.js'
import { lifetimeDays } from '../lifetime.js'
import { printable } from '../output.js'
import { interrupted, isAbort, resumeCommand, shellWord } from '../resume-command.js'
import { SealedSecrets, sealingKeyOf } from '../sealed-secrets.js'
import { defaultRotateJournal } from '../state-dir.js'
import { storeAccounts } from '../store-accounts.js'
import { refuseBesideUnfinished } from '../unfinished-batches.js'
import { UsageError } from '../usage-error.js'
import { planText, progressLine, resultCounts, resultJson, resultTable } from './rotate-output.js'
import { configuredTargets } from './rotate-targets.js'

const DAY_MS = 86_400_000

const RETIRE_MODES: readonly RetireMode[] = ['delete', 'disable', 'keep']

/**
 * `keyway rotate <id> | --all | --name <glob>`: rotates keys the safe way through
 * `rotateKeys`, journalling to a file so that `--batch-id` resumes an interrupted batch
 * (the rule of which keys a rerun covers is the library's).
 */
export async function rotate(context: Context): Promise<number> {
  const { values } = context
  const flags = rotateFlags(context)
  const opened = await openStore(context, settingInput(values, values.provider ?? ''))
  try {
    // A fresh emulator's keys are gone when it stops: its rotations never touch the real journal.
    const journal =
      opened.emulated && values.journal === undefined
        ? { ...memoryJournal(), path: '(in memory: --emulator)' }
        : fileJournal(values.journal ?? defaultRotateJournal(context.io.env))
    // Writes go to the journal file: no other keyway run may use it meanwhile. A dry run writes
    // nothing, and an emulator's journal is in memory.
    const locked = !opened.emulated || values.journal !== undefined
    if (values['dry-run'] || !locked) return await rotateWith(context, flags, opened, journal)
    return await withJournalLock(journal.path, () => rotateWith(context, flags, opened, journal))
  } finally {
    await opened.close()
  }
}

/** The rotation of `rotate`, once its store and journal are open. */
async function rotateWith(
  context: Context,
  flags: RotateFlags,
  opened: OpenStore,
  journal: RotationJournal & { readonly path: string },
): Promise<number> {
  const { values } = context
  const { store } = opened
  const vendor = opened.provider.id
  // A --batch-id the journal does not know starts a batch under that id when keys are named
  // (so the command printed on Ctrl-C works even if the batch had not been written yet).
  if (flags.resuming && flags.selects && (await journal.readBatch(flags.batchId)) === undefined)
    flags.resuming = false
  if (flags.resuming) await refuseRevokeBatch(context, journal, flags.batchId)
  // A batch of this vendor's left part way is finished first.
  if (!flags.resuming && !opened.emulated)
    await refuseBesideUnfinished(
      journal,
      (batchId, record) => (record.provider === vendor ? batchId : undefined),
      {
        keys: (count) => `${count} ${vendor} key(s)`,
        hint: 'finish that batch first with the command below (with the --deliver-to it had)',
        // This command's own flags (its target above all) without its key selection.
        next: (open) =>
          resumeCommand(withJournal(batchArguments(context.argv), journal.path ?? ''), open),
      },
    )
  if (flags.resuming && values['deliver-to'] === undefined && !values['dry-run']) {
    // A batch of one key may print its secret; a batch of many needs somewhere to put them.
    const batch = await journal.readBatch(flags.batchId)
    const endsOldKeys = flags.strategy === 'regenerate' || flags.retire !== 'keep'
    if (batch !== undefined && batch.keyIds.length > 1 && endsOldKeys) throw manyKeysNeedDelivery()
  }
  const found =
    context.positionals[0] === undefined
      ? undefined
      : await findKey(store, context.positionals[0], context.signal)
  const keyId = found?.id
  const deliverTo = values['deliver-to']
  const varName = values['var-name'] ?? DEFAULT_VAR_NAME
  // One key, no --deliver-to: where the fleet config delivers it, if a config is present.
  const configured =
    deliverTo === undefined && found !== undefined && flags.single
      ? await configuredTargets(context, store, vendor, found)
      : undefined
  const shownTarget =
    deliverTo ??
    (configured === undefined
      ? 'printed here, once (no --deliver-to)'
      : `the targets of store ${configured.label} in the config: ${configured.targets.map((target) => target.name).join(', ')}`)
  const options: RotateKeysOptions = {
    ...selection(context, flags, keyId),
    journal,
    concurrency: flags.concurrency,
    ...(flags.strategy === 'regenerate'
      ? { strategy: 'regenerate' }
      : {
          retire: flags.retire,
          graceMs: flags.graceMs,
          input: overrides(context, store, vendor),
        }),
    allowSelf: values['allow-self'] === true,
    signal: context.signal,
    onProgress: (event) => {
      const line = progressLine(event)
      if (line !== undefined) context.note(line)
    },
  }

  if (values['dry-run']) {
    const planned = await run(store, { ...options, dryRun: true }, journal.path)
    if (values.json) context.out(JSON.stringify({ batchId: planned.batchId, plans: planned.plans }))
    else
      context.out(
        planned.plans.length === 0
          ? 'no keys to rotate'
          : planText(planned.plans, shownTarget, context.paint),
      )
    return 0
  }

  const hint = `batch ${flags.batchId}, journal ${journal.path}; if interrupted, run again with --batch-id ${flags.batchId} --journal ${journal.path}`
  // Which account the batch meant: a resume with the vendor's env vars pointed at another
  // account is refused before any request (its journalled ids are the first account's).
  const bindAccount = () =>
    opened.emulated
      ? Promise.resolve()
      : storeAccounts(journal.path).bind([{ journalBatchId: flags.batchId, label: vendor, store }])
  if (flags.resuming) await bindAccount()
  // Each delivery is history beside the vendor's changes (not for a throwaway emulator).
  context.batchId = flags.batchId
  const recorded = (deliver: Deliver, target: string) =>
    opened.emulated ? deliver : deliverWithHistory(context, vendor, store, deliver, target)
  let begun = false
  // Delivered to targets, each new secret is sealed beside the journal until its rotation
  // ends: a run cut off after a target took it resumes with it (see `apply`).
  const sealed =
    configured === undefined || opened.emulated
      ? undefined
      : new SealedSecrets(`${journal.path}.sealed.json`, sealingKeyOf(context.io.env), (line) =>
          context.note(context.paint('yellow', `warning: ${line}`)),
        )
  const rotating = sealed === undefined ? store : await sealed.wrap(store, store.provider)
  const result = await run(
    rotating,
    {
      ...options,
      ...(configured === undefined
        ? {
            deliver: recorded(
              deliverTo === undefined
                ? printAtOnce(context, vendor)
                : deliveryTarget(deliverTo, context.io.env, { varName }),
              deliverTo ?? 'stdout',
            ),
          }
        : { targets: configured.targets }),
      confirm: async (plans) => {
        if (deliverTo !== undefined) checkDistinctTargets(plans, store.provider, deliverTo, varName)
        if (!values.yes) context.note(planText(plans, shownTarget, context.paint))
        const ok = await confirm(context, question(plans, vendor))
        if (ok) await bindAccount()
        if (ok && !opened.emulated) context.note(context.paint('dim', hint))
        begun = ok
        return ok
      },
    },
    journal.path,
  ).catch((error: unknown) => {
    // Keys already began: the same command without --batch-id would start another batch.
    if (begun && isAbort(context.signal) && !opened.emulated)
      throw interrupted(
        withJournal(batchArguments(context.argv), journal.path),
        flags.batchId,
        journal.path,
        error,
      )
    throw error
  })
  if (result.cancelled) {
    context.note('nothing rotated')
    return EXIT.cancelled
  }
  await sealed?.forgetEnded(journal, [store.provider], (record) => record.provider)
  if (values.json) context.out(JSON.stringify(resultJson(result)))
  else if (result.outcomes.length === 0) context.note('no keys to rotate')
  else if (context.terminal) {
    context.out(resultTable(result, context.paint, true))
    context.out(`\n${resultCounts(result)}`)
  } else {
    // Piped: the rows alone on stdout, as gh; the counts are for the person watching.
    context.out(resultTable(result, context.paint, false))
    context.note(resultCounts(result))
  }
  const onlyOneSkipped =
    flags.single && result.skipped === result.outcomes.length && result.skipped > 0
  return result.failed > 0 || onlyOneSkipped ? EXIT.failure : EXIT.ok
}

interface RotateFlags {
  single: boolean
  retire: RetireMode
  strategy: 'create' | 'regenerate'
  graceMs: number
  concurrency: number
  batchId: string
  resuming: boolean
  /** Whether keys are named (an id, --all, --name), not only a batch to resume. */
  selects: boolean
}

/** The rotation flags, checked: usage errors before anything is read or sent. */
function rotateFlags(context: Context): RotateFlags {
  const { values, positionals } = context
  const resuming = values['batch-id'] !== undefined
  const selectors = [positionals.length > 0, values.all === true, values.name !== undefined].filter(
    Boolean,
  ).length
  if (selectors > 1 || (selectors === 0 && !resuming)) {
    throw new UsageError(
      'rotate needs exactly one of: a key id, --all, --name <glob> (or --batch-id to resume)',
    )
  }
  if (positionals.length > 1) {
    throw new UsageError('rotate takes one key id; use --all or --name for more')
  }
  const retire = (values.retire ?? 'delete') as RetireMode
  if (!RETIRE_MODES.includes(retire)) {
    throw new UsageError(
      `--retire takes delete, disable or keep, not "${printable(values.retire ?? '')}"`,
    )
  }
  const strategy = values.strategy ?? 'create'
  if (strategy !== 'create' && strategy !== 'regenerate') {
    throw new UsageError(`--strategy takes create or regenerate, not "${printable(strategy)}"`)
  }
  if (
    strategy === 'regenerate' &&
    (values.retire !== undefined || values['grace-ms'] !== undefined)
  ) {
    throw new UsageError(
      '--retire and --grace-ms do not apply to --strategy regenerate',
      'a regenerate replaces the secret in place: the old one dies at once',
    )
  }
  settingInput(values, values.provider ?? '')
  const single = positionals.length === 1
  const endsOldKeys = strategy === 'regenerate' || retire !== 'keep'
  // A resume (--batch-id and no key) is checked against the batch's own keys once it is read.
  const resumeOnly = positionals.length === 0 && values['batch-id'] !== undefined
  if (
    !single &&
    !resumeOnly &&
    endsOldKeys &&
    values['deliver-to'] === undefined &&
    !values['dry-run']
  )
    throw manyKeysNeedDelivery()
  checkFieldValues(values, values.provider)
  if (values['expires-in'] !== undefined) {
    if (values['expires-at'] !== undefined)
      throw new UsageError('--expires-in and --expires-at both set the new key’s expiry; pass one')
    lifetimeDays(values['expires-in'], '--expires-in')
  }
  const concurrency = wholeNumber(
    values.concurrency,
    'concurrency',
    DEFAULT_ROTATION_CONCURRENCY,
    1,
  )
  return {
    single,
    retire,
    strategy,
    graceMs: wholeNumber(values['grace-ms'], 'grace-ms', 0),
    concurrency,
    batchId: values['batch-id'] ?? randomUUID().slice(0, 8),
    resuming,
    selects: selectors > 0,
  }
}

/** Which keys: a resumed batch's own (the library's rule), one id, a glob over names, or all. */
function selection(
  context: Context,
  flags: RotateFlags,
  keyId: string | undefined,
): Partial<RotateKeysOptions> {
  const { values } = context
  const keyIds = keyId === undefined ? {} : { keyIds: [keyId] }
  if (flags.resuming) return { batchId: flags.batchId, resume: true, ...keyIds }
  if (keyId !== undefined) return { batchId: flags.batchId, ...keyIds }
  const pattern = values.name === undefined ? undefined : globToRegExp(values.name)
  return {
    batchId: flags.batchId,
    ...(pattern === undefined
      ? {}
      : { filter: (key) => key.name !== null && pattern.test(key.name) }),
  }
}

/** Vendor flags (`--read-only`, `--allowed-ip`, `--limit`…) as overrides on top of each old key's settings. */
function overrides(context: Context, store: KeyStore, vendor: string): Record<string, unknown> {
  // `--name` selects keys here; it does not rename them.
  const { name: _selector, ...fields } = context.values
  const input = fieldInput(fields, store.capabilities, 'create', vendor)
  const lifetime = context.values['expires-in']
  if (lifetime === undefined) return input
  const days = lifetimeDays(lifetime, '--expires-in')
  return { ...input, expiresAt: new Date(Date.now() + days * DAY_MS) }
}

/** Without `--deliver-to`, each new secret is printed the moment it exists, before its old key is touched. */
function printAtOnce(context: Context, vendor: string): (created: CreatedKey) => Promise<void> {
  return async (created) => {
    context.note(
      context.paint(
        'bold',
        `new secret of ${vendor} key ${created.key.id}, shown once; store it now:`,
      ),
    )
    const secret = created.secret.reveal()
    const line = context.values.json
      ? JSON.stringify({ provider: vendor, newKeyId: created.key.id, secret })
      : secret
    await new Promise<void>((resolve, reject) =>
      context.io.stdout.write(`${line}\n`, (error) => (error ? reject(error) : resolve())),
    )
  }
}

/**
 * A dotenv target stores each secret under a variable made from the `--var-name` template;
 * names are not unique at a vendor, so two keys that make one variable are refused before
 * anything is written: the second secret would overwrite the first while both old keys are
 * retired.
 */
function checkDistinctTargets(
  plans: readonly RotationPlan[],
  provider: string,
  deliverTo: string,
  varName: string,
): void {
  if (deliverTo.startsWith('exec:')) return
  const keys = plans
    .filter((plan) => plan.action === 'rotate')
    .map((plan) => ({ provider, id: plan.keyId, name: plan.name }))
  const clashes = sharedVariables(keys, varName)
  if (clashes.length === 0) return
  throw new UsageError(
    `keys would share a variable in ${deliverTo}: ${clashes.map(([variable, ids]) => `${variable} (${ids.join(', ')})`).join('; ')}; nothing was rotated`,
    'put {ID} in --var-name, give the keys distinct names, or rotate them one at a time',
  )
}

function question(plans: readonly RotationPlan[], vendor: string): string {
  const count = plans.filter((plan) => plan.action === 'rotate').length
  return `Rotate ${count} ${vendor} key(s) as shown?`
}

/** The arguments with `--journal`, so a resume finds the same journal whatever the env then. */
function withJournal(argv: readonly string[], path: string): string[] {
  const named = argv.some((word) => word === '--journal' || word.startsWith('--journal='))
  return named ? [...argv] : [...argv, '--journal', path]
}

/**
 * The arguments without the key selection (the key id, `--all`, `--name`): a resumed batch
 * rotates exactly its journalled keys, and a name may by then match the new key too.
 */
function batchArguments(argv: readonly string[]): string[] {
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    allowPositionals: true,
    allowNegative: true,
    strict: false,
    tokens: true,
  })
  const dropped = new Set<number>()
  let positionals = 0
  for (const token of tokens) {
    if (token.kind === 'positional' && positionals++ === 1) dropped.add(token.index)
    if (token.kind === 'option' && (token.name === 'all' || token.name === 'name')) {
      dropped.add(token.index)
      if (token.value !== undefined && !token.inlineValue) dropped.add(token.index + 1)
    }
  }
  return argv.filter((_word, index) => !dropped.has(index))
}

/**
 * A revoke's batch (a store's part of it, `<batch>:<label>`) is refused before any request:
 * resumed by `rotate` it would not replace the disabled key. The hint is the revoke that
 * finishes it.
 */
async function refuseRevokeBatch(
  context: Context,
  journal: RotationJournal & { readonly path: string },
  batchId: string,
): Promise<void> {
  if ((await journal.readBatch(batchId))?.kind !== 'revoke') return
  const revokeBatch = batchId.includes(':') ? batchId.slice(0, batchId.lastIndexOf(':')) : batchId
  const yes = context.values.yes === true ? ['--yes'] : []
  throw new UsageError(
    `batch ${printable(batchId)} in ${journal.path} was started by keyway revoke: rotate would not finish it (the leaked key is replaced only by revoke); nothing was sent`,
    ['keyway', 'revoke', ...yes, '--journal', journal.path, '--batch-id', revokeBatch]
      .map(shellWord)
      .join(' '),
  )
}

/** Runs the batch; an unknown `--batch-id` is a usage error naming the journal. */
async function run(store: KeyStore, options: RotateKeysOptions, journalPath: string) {
  try {
    return await rotateKeys(store, options)
  } catch (error) {
    if (
      error instanceof ValidationError &&
      error.issues.some((issue) => issue.path === 'batchId')
    ) {
      throw new UsageError(
        error.message,
        `the batches are in ${journalPath}; leave out --batch-id to start a new one`,
      )
    }
    throw error
  }
}

function manyKeysNeedDelivery(): UsageError {
  return new UsageError(
    'rotating many keys needs --deliver-to, so that each new secret is stored before its old key goes',
    'pass --deliver-to <file.env | exec:command>, or --retire keep, or rotate one key id at a time',
  )
}
