import { type ApiKey, type KeyStore, KeyStoreError } from '@keyway/core'
import { CancelledError, CliError } from '../cli-error.js'
import {
  type Context,
  confirm,
  findKey,
  type OpenStore,
  openStore,
  requireKey,
} from '../context.js'
import { checkFieldValues, fieldInput, globToRegExp } from '../flags.js'
import { selectFields } from '../json-fields.js'
import { json, keyDetails, keyTable, printable } from '../output.js'
import { UsageError } from '../usage-error.js'

/** Runs `work` with the store, closing an embedded emulator afterwards. */
async function withStore<T>(
  context: Context,
  work: (store: KeyStore, opened: OpenStore) => Promise<T>,
): Promise<T> {
  const opened = await openStore(context)
  try {
    return await work(opened.store, opened)
  } finally {
    await opened.close()
  }
}

/** A key found or changed: its fields with `--json`, else `text`. */
function showKey(context: Context, key: ApiKey, text: string): void {
  context.out(context.values.json ? json(selectFields(key, context.fields)) : text)
}

/** Ids of the key the store itself authenticates with; none where it cannot tell. */
async function ownKeyIds(store: KeyStore, signal: AbortSignal): Promise<Set<string>> {
  if (store.credentialKeyIds === undefined) return new Set()
  try {
    return new Set(await store.credentialKeyIds({ signal }))
  } catch {
    // Marking is a courtesy: a vendor that cannot say does not stop the listing.
    return new Set()
  }
}

export function list(context: Context): Promise<void> {
  if (context.positionals.length > 0) throw new UsageError('list takes no arguments')
  return withStore(context, async (store, { provider }) => {
    const keys = await store.list({
      includeDisabled: context.values['include-disabled'] ?? true,
      signal: context.signal,
    })
    if (context.values.json) {
      context.out(json(selectFields(keys, context.fields)))
      return
    }
    const text = keyTable(keys, context.paint, {
      terminal: context.terminal,
      columns: provider.columns ?? [],
      expiry: store.capabilities.expiry,
      own: context.terminal ? await ownKeyIds(store, context.signal) : new Set(),
    })
    if (text !== '') context.out(text)
  })
}

export function get(context: Context): Promise<void> {
  const reference = requireKey(context, 'get')
  return withStore(context, async (store, { provider }) => {
    const key = await findKey(store, reference, context.signal)
    showKey(context, key, keyDetails(key, context.paint, provider.columns ?? []))
  })
}

export function create(context: Context): Promise<void> {
  if (context.positionals.length > 0)
    throw new UsageError('create takes no arguments; set fields with flags such as --name')
  checkFieldValues(context.values, context.values.provider)
  return withStore(context, async (store, { provider }) => {
    const input = fieldInput(context.values, store.capabilities, 'create', provider.id)
    if (context.values['dry-run']) {
      dryRun(
        context,
        { action: 'create', provider: provider.id, input },
        `would create a new ${provider.title} key${fieldsText(input)}`,
      )
      return
    }
    const created = await store.create(input, { signal: context.signal })
    // The one place a secret is printed.
    if (context.values.json) {
      context.out(json({ key: created.key, secret: created.secret.reveal() }))
      return
    }
    context.out(keyDetails(created.key, context.paint, provider.columns ?? []))
    context.out('')
    context.out(
      `${context.paint('bold', 'secret')} (shown once, store it now): ${created.secret.reveal()}`,
    )
  })
}

export function update(context: Context): Promise<void> {
  const reference = requireKey(context, 'update')
  checkFieldValues(context.values, context.values.provider)
  return withStore(context, async (store, { provider }) => {
    const input = fieldInput(context.values, store.capabilities, 'update', provider.id)
    if (Object.keys(input).length === 0) {
      const takes = (store.capabilities.update || []).join(', ')
      throw new UsageError('nothing to update', `${provider.id} can update: ${takes || 'nothing'}`)
    }
    const found = await findKey(store, reference, context.signal)
    if (context.values['dry-run']) {
      dryRun(
        context,
        { action: 'update', provider: provider.id, id: found.id, input },
        `would update ${described(found)}${fieldsText(input)}`,
      )
      return
    }
    const key = await store.update(found.id, input, { signal: context.signal })
    showKey(context, key, keyDetails(key, context.paint, provider.columns ?? []))
  })
}

export function setStatus(status: 'active' | 'disabled') {
  const command = status === 'active' ? 'enable' : 'disable'
  return (context: Context): Promise<void> => {
    const byName = command === 'disable' ? namedKeys(context, command) : undefined
    const reference = byName === undefined ? requireKey(context, command) : ''
    return withStore(context, async (store, { provider }) => {
      if (!store.capabilities.disable) {
        throw new UsageError(
          `${command} is not supported by ${provider.id}`,
          `${provider.id} keys stay active until deleted`,
        )
      }
      if (byName !== undefined) return changeNamed(context, store, provider, byName, 'disable')
      const found = await findKey(store, reference, context.signal)
      if (context.values['dry-run']) {
        const already = found.status === status ? ` (it is ${status} already)` : ''
        dryRun(
          context,
          { action: command, provider: provider.id, id: found.id, status },
          `would ${command} ${described(found)}${already}`,
        )
        return
      }
      const key = await store.update(found.id, { status }, { signal: context.signal })
      showKey(context, key, `${key.id} is now ${key.status}`)
    })
  }
}

/** How a key is named in a question: its name and id. */
function described(key: ApiKey): string {
  return key.name === null ? printable(key.id) : `"${printable(key.name)}" (${printable(key.id)})`
}

export function remove(context: Context): Promise<void> {
  const byName = namedKeys(context, 'delete')
  const reference = byName === undefined ? requireKey(context, 'delete') : ''
  return withStore(context, async (store, { provider }) => {
    if (byName !== undefined) return changeNamed(context, store, provider, byName, 'delete')
    const key = await findKey(store, reference, context.signal)
    if (context.values['dry-run']) {
      dryRun(
        context,
        { action: 'delete', provider: provider.id, id: key.id },
        `would delete ${provider.title} key ${described(key)}`,
      )
      return
    }
    if (!(await confirm(context, `Delete ${provider.title} key ${described(key)}?`)))
      throw new CancelledError('nothing deleted')
    await store.delete(key.id, { signal: context.signal })
    const outcome =
      store.capabilities.deleted === 'gone' ? 'deleted' : 'deleted (it stays listed as disabled)'
    context.out(context.values.json ? json({ id: key.id, deleted: true }) : `${key.id} ${outcome}`)
  })
}

/** The `--name <glob>` of a bulk `disable`/`delete`, or `undefined` for one key by reference. */
function namedKeys(context: Context, command: string): RegExp | undefined {
  const glob = context.values.name
  if (glob === undefined) return undefined
  if (context.positionals.length > 0)
    throw new UsageError(
      `${command} takes a key or --name <glob>, not both`,
      `keyway ${command} --name '<glob>' --provider <vendor>`,
    )
  if (glob === '') throw new UsageError('--name needs a glob', "e.g. --name 'ci-*'")
  return globToRegExp(glob)
}

/**
 * Disables or deletes every key whose name `pattern` matches: lists each first (a dry run
 * stops there), asks once, then changes them one by one; a key that fails is reported and
 * the others go on. None matching sends nothing.
 */
async function changeNamed(
  context: Context,
  store: KeyStore,
  provider: OpenStore['provider'],
  pattern: RegExp,
  action: 'disable' | 'delete',
): Promise<void> {
  const listed = await store.list({ signal: context.signal })
  let keys = listed.filter(
    (key) =>
      key.name !== null &&
      pattern.test(key.name) &&
      // A key already disabled needs no disable; a deleted NoteDx key stays listed as disabled.
      (action === 'delete' || key.status !== 'disabled'),
  )
  const glob = printable(context.values.name ?? '')
  // The key the store authenticates with is never taken by a glob: the rest would fail after it.
  const own = await ownKeyIds(store, context.signal)
  for (const key of keys.filter((candidate) => own.has(candidate.id)))
    context.note(`${key.id}: the credential this store authenticates with; left alone`)
  keys = keys.filter((key) => !own.has(key.id))
  if (keys.length === 0) {
    if (context.values.json) context.out(json({ action, provider: provider.id, keys: [] }))
    else
      context.out(
        `no ${provider.title} key${action === 'disable' ? ' to disable' : ''} has a name matching "${glob}"; nothing sent`,
      )
    return
  }
  const lines = keys.map((key) => `  ${described(key)} ${key.status}`)
  if (context.values['dry-run']) {
    if (context.values.json)
      context.out(
        json({ dryRun: true, action, provider: provider.id, ids: keys.map((key) => key.id) }),
      )
    else
      context.out(
        [
          `would ${action} ${keys.length} ${provider.title} key${keys.length === 1 ? '' : 's'}:`,
          ...lines,
          'dry run, nothing sent',
        ].join('\n'),
      )
    return
  }
  context.note(
    [
      `${keys.length} ${provider.title} key${keys.length === 1 ? '' : 's'} named "${glob}":`,
      ...lines,
    ].join('\n'),
  )
  const verb = action === 'disable' ? 'Disable' : 'Delete'
  if (!(await confirm(context, `${verb} these ${keys.length} ${provider.title} keys?`)))
    throw new CancelledError(`nothing ${action === 'disable' ? 'disabled' : 'deleted'}`)
  const done: string[] = []
  const failed: Array<{ id: string; error: string }> = []
  for (const key of keys) {
    try {
      // Read again just before the write: a key renamed since the listing is left alone.
      const current = await store.get(key.id, { signal: context.signal })
      if (current.name === null || !pattern.test(current.name)) {
        context.note(`${key.id}: its name no longer matches "${glob}"; left alone`)
        continue
      }
      if (action === 'disable')
        await store.update(key.id, { status: 'disabled' }, { signal: context.signal })
      else await store.delete(key.id, { signal: context.signal })
      done.push(key.id)
      if (!context.values.json)
        context.out(`${key.id} ${action === 'disable' ? 'disabled' : 'deleted'}`)
    } catch (error) {
      if (context.signal.aborted) throw error
      const message = KeyStoreError.is(error) ? error.message : 'failed'
      failed.push({ id: key.id, error: message })
      if (!context.values.json) context.note(`${key.id}: ${printable(message)}`)
    }
  }
  if (context.values.json) context.out(json({ action, provider: provider.id, done, failed }))
  if (failed.length > 0)
    throw new CliError(
      'PartlyDone',
      `${done.length} of ${keys.length} keys ${action === 'disable' ? 'disabled' : 'deleted'}; ${failed.length} failed`,
      { hint: 'run the same command again for the rest' },
    )
}

/** What a `--dry-run` would have done: on stdout (JSON with `--json`), with a note that nothing was sent. */
function dryRun(context: Context, plan: Record<string, unknown>, text: string): void {
  context.out(
    context.values.json ? json({ dryRun: true, ...plan }) : `${text}; dry run, nothing sent`,
  )
}

/** ` with name=ci, limit=5`: the fields set, empty ones left out. */
function fieldsText(input: Record<string, unknown>): string {
  const shown = Object.entries(input)
    .map(([field, value]) => [field, fieldText(value)] as const)
    .filter(([, text]) => text !== '')
    .map(([field, text]) => `${field}=${text}`)
  return shown.length === 0 ? '' : ` with ${shown.join(', ')}`
}

function fieldText(value: unknown): string {
  if (value === null) return 'none'
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(fieldText).join(',')
  if (typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .map(([key, inner]) => `${printable(key)}:${fieldText(inner)}`)
      .join(',')
  return printable(String(value))
}
