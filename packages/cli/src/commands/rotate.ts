import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import {
  type ApiKey,
  fileJournal,
  type KeyStore,
  type RetireMode,
  type RotateKeysOutcome,
  type RotationRecord,
  rotateKeys,
  type Secret,
} from '@keyway/core'
import { type Context, confirm, openStore } from '../context.js'
import { deliveryTarget } from '../deliver.js'
import { globToRegExp, positiveInteger } from '../flags.js'
import { json, table } from '../output.js'
import { UsageError } from '../usage-error.js'

const RETIRE_MODES: readonly RetireMode[] = ['delete', 'disable', 'keep']

export const DEFAULT_JOURNAL = '.keyway-rotations.json'

/**
 * `keyway rotate <id> | --all | --name <glob>`: rotates keys the safe way, journalling to a
 * file so that running the same batch again (`--batch-id`) resumes it.
 */
export async function rotate(context: Context): Promise<number> {
  const { values } = context
  const selectors = [
    context.positionals.length > 0,
    values.all === true,
    values.name !== undefined,
  ].filter(Boolean)
  if (selectors.length !== 1) {
    throw new UsageError('rotate needs exactly one of: a key id, --all, --name <glob>')
  }
  if (context.positionals.length > 1)
    throw new UsageError('rotate takes one key id; use --all or --name for more')
  const retire = (values.retire ?? 'delete') as RetireMode
  if (!RETIRE_MODES.includes(retire))
    throw new UsageError(`--retire takes delete, disable or keep, not "${values.retire}"`)
  const strategy = values.strategy ?? 'create'
  if (strategy !== 'create' && strategy !== 'regenerate') {
    throw new UsageError(`--strategy takes create or regenerate, not "${strategy}"`)
  }
  const graceMs = positiveInteger(values['grace-ms'], 'grace-ms', 0)
  const concurrency = positiveInteger(values.concurrency, 'concurrency', 2) || 1
  const deliver =
    values['deliver-to'] === undefined
      ? undefined
      : deliveryTarget(values['deliver-to'], context.io.env)
  const journalPath = resolve(values.journal ?? DEFAULT_JOURNAL)
  const journal = fileJournal(journalPath)
  const resuming = values['batch-id'] !== undefined
  const batchId = values['batch-id'] ?? randomUUID().slice(0, 8)

  const opened = await openStore(context)
  try {
    const { store } = opened
    const vendor = opened.provider.vendor
    if (retire === 'disable' && !store.capabilities.disable) {
      throw new UsageError(
        `--retire disable is not supported by ${vendor}`,
        'use --retire delete or keep',
      )
    }
    if (strategy === 'regenerate' && !store.capabilities.regenerate) {
      throw new UsageError(`--strategy regenerate is not supported by ${vendor}`)
    }
    const batch = (await journal.list()).filter((record) =>
      record.rotationId.startsWith(`${batchId}/`),
    )
    if (resuming && batch.length > 0)
      context.note(context.paint('dim', `resuming batch ${batchId}`))
    const keyIds = await selectKeys(context, store, batch)
    if (keyIds.length === 0) {
      context.out(
        values.json
          ? json({ batchId, rotated: 0, failed: 0, skipped: 0, outcomes: [] })
          : 'no keys to rotate',
      )
      return 0
    }

    const pending = keyIds.filter(
      (id) => !batch.some((record) => record.oldKeyId === id && record.state === 'done'),
    )
    if (pending.length > 0) {
      const what =
        retire === 'delete'
          ? 'delete the old ones'
          : retire === 'disable'
            ? 'disable the old ones'
            : 'keep the old ones'
      const warning =
        strategy === 'regenerate' ? ' (in place: each old secret stops working at once)' : ''
      if (
        !(await confirm(
          context,
          `Rotate ${pending.length} ${vendor} key(s) and ${what}${warning}?`,
        ))
      ) {
        context.note('nothing rotated')
        return 1
      }
    }
    context.note(
      context.paint(
        'dim',
        `batch ${batchId}, journal ${journalPath}; if interrupted, run again with --batch-id ${batchId}`,
      ),
    )

    // Secrets not delivered elsewhere are printed once, at the end.
    const minted = new Map<string, Secret>()
    const result = await rotateKeys(store, {
      keyIds,
      batchId,
      journal,
      concurrency,
      retire,
      strategy,
      graceMs,
      allowSelf: values['allow-self'] === true,
      signal: context.signal,
      deliver: async (created) => {
        if (deliver !== undefined) await deliver(created)
        else minted.set(created.key.id, created.secret)
      },
      onProgress: ({ done, total, outcome }) => {
        if (total > 1) context.note(`[${done}/${total}] ${describe(outcome)}`)
      },
    })

    const rows = result.outcomes.map((outcome) => ({
      keyId: outcome.keyId,
      status: outcome.status,
      newKeyId: outcome.status === 'rotated' ? outcome.result.newKeyId : null,
      retired: outcome.status === 'rotated' ? outcome.result.retired : null,
      ...(outcome.status === 'rotated' && minted.has(outcome.result.newKeyId)
        ? { secret: minted.get(outcome.result.newKeyId)?.reveal() }
        : {}),
      ...(outcome.status === 'failed' ? { error: outcome.error } : {}),
      ...(outcome.status === 'skipped' ? { reason: outcome.reason } : {}),
    }))
    if (values.json) {
      context.out(
        json({
          batchId,
          rotated: result.rotated,
          failed: result.failed,
          skipped: result.skipped,
          outcomes: rows,
        }),
      )
    } else {
      context.out(
        table(
          ['KEY', 'RESULT', 'NEW KEY', 'DETAIL'],
          rows.map((row) => [
            row.keyId,
            row.status === 'rotated'
              ? context.paint('green', 'rotated')
              : row.status === 'failed'
                ? context.paint('red', 'failed')
                : 'skipped',
            row.newKeyId ?? '-',
            row.error?.message ?? row.reason ?? `old key ${row.retired}`,
          ]),
          context.paint,
        ),
      )
      const secrets = rows.filter((row) => row.secret !== undefined)
      if (secrets.length > 0) {
        context.out('')
        context.out(context.paint('bold', 'New secrets (shown once, store them now):'))
        for (const row of secrets) context.out(`${row.newKeyId}  ${row.secret}`)
      }
      context.out(`\n${result.rotated} rotated, ${result.failed} failed, ${result.skipped} skipped`)
    }
    return result.failed > 0 ? 1 : 0
  } finally {
    await opened.close()
  }
}

/**
 * The keys a batch covers. A resumed batch keeps its own keys and leaves out the new keys
 * it made, so nothing is rotated twice.
 */
async function selectKeys(
  context: Context,
  store: KeyStore,
  batch: RotationRecord[],
): Promise<string[]> {
  const made = new Set(
    batch.map((record) => record.newKeyId).filter((id): id is string => id !== null),
  )
  const already = batch.map((record) => record.oldKeyId)
  if (context.positionals.length === 1) return [context.positionals[0] as string]
  const pattern = context.values.name === undefined ? undefined : globToRegExp(context.values.name)
  const matches = (key: ApiKey) =>
    pattern === undefined || (key.name !== null && pattern.test(key.name))
  const current = (await store.list({ includeDisabled: false, signal: context.signal }))
    .filter((key) => matches(key) && !made.has(key.id) && !already.includes(key.id))
    .map((key) => key.id)
  return [...already, ...current]
}

function describe(outcome: RotateKeysOutcome): string {
  if (outcome.status === 'rotated') return `rotated ${outcome.keyId} -> ${outcome.result.newKeyId}`
  if (outcome.status === 'failed') return `failed ${outcome.keyId}: ${outcome.error.message}`
  return `skipped ${outcome.keyId}: ${outcome.reason}`
}
