import type { KeyStore } from '@keyway/core'
import { type Context, confirm, openStore, requireId } from '../context.js'
import { fieldInput } from '../flags.js'
import { json, keyDetails, keyTable } from '../output.js'
import { UsageError } from '../usage-error.js'

/** Runs `work` with the store, closing an embedded emulator afterwards. */
async function withStore<T>(
  context: Context,
  work: (store: KeyStore, vendor: string) => Promise<T>,
): Promise<T> {
  const opened = await openStore(context)
  try {
    return await work(opened.store, opened.provider.vendor)
  } finally {
    await opened.close()
  }
}

export function list(context: Context): Promise<void> {
  if (context.positionals.length > 0) throw new UsageError('list takes no arguments')
  return withStore(context, async (store) => {
    const keys = await store.list({
      includeDisabled: context.values['include-disabled'] ?? true,
      signal: context.signal,
    })
    context.out(context.values.json ? json(keys) : keyTable(keys, context.paint))
  })
}

export function get(context: Context): Promise<void> {
  const id = requireId(context, 'get')
  return withStore(context, async (store) => {
    const key = await store.get(id, { signal: context.signal })
    context.out(context.values.json ? json(key) : keyDetails(key, context.paint))
  })
}

export function create(context: Context): Promise<void> {
  if (context.positionals.length > 0)
    throw new UsageError('create takes no arguments; set fields with flags such as --name')
  return withStore(context, async (store, vendor) => {
    const input = fieldInput(context.values, store.capabilities, 'create', vendor)
    const created = await store.create(input, { signal: context.signal })
    // The one place a secret is printed.
    if (context.values.json) {
      context.out(json({ key: created.key, secret: created.secret.reveal() }))
      return
    }
    context.out(keyDetails(created.key, context.paint))
    context.out('')
    context.out(
      `${context.paint('bold', 'secret')} (shown once, store it now): ${created.secret.reveal()}`,
    )
  })
}

export function update(context: Context): Promise<void> {
  const id = requireId(context, 'update')
  return withStore(context, async (store, vendor) => {
    const input = fieldInput(context.values, store.capabilities, 'update', vendor)
    if (Object.keys(input).length === 0) {
      const takes = store.capabilities.update.join(', ')
      throw new UsageError('nothing to update', `${vendor} can update: ${takes || 'nothing'}`)
    }
    const key = await store.update(id, input, { signal: context.signal })
    context.out(context.values.json ? json(key) : keyDetails(key, context.paint))
  })
}

export function setStatus(status: 'active' | 'disabled') {
  const command = status === 'active' ? 'enable' : 'disable'
  return (context: Context): Promise<void> => {
    const id = requireId(context, command)
    return withStore(context, async (store, vendor) => {
      if (!store.capabilities.disable) {
        throw new UsageError(
          `${command} is not supported by ${vendor}`,
          `${vendor} keys stay active until deleted`,
        )
      }
      const key = await store.update(id, { status }, { signal: context.signal })
      context.out(context.values.json ? json(key) : `${key.id} is now ${key.status}`)
    })
  }
}

export function remove(context: Context): Promise<void> {
  const id = requireId(context, 'delete')
  return withStore(context, async (store, vendor) => {
    if (!(await confirm(context, `Delete ${vendor} key ${id}?`))) {
      context.note('nothing deleted')
      return
    }
    await store.delete(id, { signal: context.signal })
    const outcome =
      store.capabilities.deleted === 'gone' ? 'deleted' : 'deleted (it stays listed as disabled)'
    context.out(context.values.json ? json({ id, deleted: true }) : `${id} ${outcome}`)
  })
}
