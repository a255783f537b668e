import { randomUUID } from 'node:crypto'
import { KeyStoreError } from '../errors.js'
import type { StoreFingerprint } from '../store-fingerprint.js'
import type { DeliveryTarget } from '../targets/delivery-target.js'
import type { CreatedKey, KeyStore, UpdateKeyInput } from '../types.js'
import {
  type HistoryAction,
  type HistoryActor,
  type HistoryEntry,
  operatorActor,
} from './history-entry.js'
import type { HistorySink } from './history-sink.js'
import { currentRotationScope } from './rotation-scope.js'

/** Where and as whom the changes of one store (and its targets) are recorded. */
export interface HistoryContext {
  sink: HistorySink
  /** The store's label; the vendor's id where a command names none. */
  label: string
  /**
   * The account the store reaches (see `storeFingerprint`), or a function that gives it, called
   * at the first change only (a digest key may have to be read or made first); `null` where
   * it cannot be told.
   */
  account?: StoreFingerprint | null | (() => Promise<StoreFingerprint | null>)
  /** Who makes the changes. Default: this host and user (`operatorActor()`). */
  actor?: HistoryActor
  /** The batch the changes belong to, read at each change (a batch id may be known only later). */
  batchId?: () => string | null | undefined
  /** The clock entries are dated by. Default: the system clock. */
  now?: () => Date
}

/** What one change is, before it is made. */
export interface ChangeFields {
  action: HistoryAction
  provider: string
  keyId: string | null
  target?: string | null
  rotationId?: string | null
}

/**
 * Makes one change and records it: an attempt before `work` starts (if that cannot be
 * recorded, nothing is done), and its outcome, with the error's code on failure, once it
 * settled. `keyIdOf` reads the key's id from the result (a create's new key).
 */
export async function recordChange<T>(
  context: HistoryContext,
  fields: ChangeFields,
  work: () => Promise<T>,
  keyIdOf?: (result: T) => string | null,
): Promise<T> {
  const scope = currentRotationScope()
  const account = await accountOf(context)
  const attempt: HistoryEntry = {
    change: randomUUID(),
    phase: 'attempt',
    at: (context.now?.() ?? new Date()).toISOString(),
    action: fields.action,
    provider: fields.provider,
    store: context.label,
    account,
    keyId: fields.keyId,
    target: fields.target ?? null,
    batchId: context.batchId?.() ?? null,
    rotationId: fields.rotationId ?? scope?.rotationId ?? null,
    step: scope?.step ?? null,
    actor: context.actor ?? operatorActor(),
  }
  await context.sink.append(attempt)
  const settle = (result: Pick<HistoryEntry, 'outcome' | 'errorCode' | 'keyId'>) =>
    context.sink.append({
      ...attempt,
      ...result,
      phase: 'outcome',
      at: (context.now?.() ?? new Date()).toISOString(),
    })
  let result: T
  try {
    result = await work()
  } catch (error) {
    await settle({ outcome: 'failed', errorCode: errorCode(error), keyId: attempt.keyId }).catch(
      () => {},
    )
    throw error
  }
  await settle({ outcome: 'succeeded', keyId: keyIdOf?.(result) ?? attempt.keyId })
  return result
}

/**
 * The store with every change it makes (create, update, enable, disable, rename, delete,
 * regenerate) recorded in history; reads pass through untouched. Everything else about the
 * store (its account, its rules) is the store's own.
 */
export function recordedStore<S extends KeyStore>(store: S, context: HistoryContext): S {
  const record = <T>(
    action: HistoryAction,
    keyId: string | null,
    work: () => Promise<T>,
    keyIdOf?: (result: T) => string | null,
  ) => recordChange(context, { action, provider: store.provider, keyId }, work, keyIdOf)
  const created = (result: CreatedKey) => result.key.id
  const wrapped: Partial<Record<keyof KeyStore, unknown>> = {
    create: (input: never, options?: never) =>
      record('create', null, () => store.create(input, options), created),
    update: (id: string, patch: UpdateKeyInput, options?: never) =>
      record(updateAction(patch), id, () => store.update(id, patch as never, options)),
    delete: (id: string, options?: never) => record('delete', id, () => store.delete(id, options)),
    regenerate: (id: string, options?: never) =>
      record('regenerate', id, () => store.regenerate(id, options), created),
  }
  return new Proxy(store, {
    get(target, property, receiver) {
      if (typeof property === 'string' && property in wrapped) {
        return wrapped[property as keyof KeyStore]
      }
      const value = Reflect.get(target, property, receiver)
      // A fixed member (the store's hidden account and rules) is handed out as it is.
      if (Object.getOwnPropertyDescriptor(target, property)?.configurable === false) return value
      // A class's methods run on the store itself (its private fields are not the proxy's).
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** A delivery target whose writes and propagations are recorded in history. */
export function recordedTarget(
  target: DeliveryTarget,
  context: HistoryContext & { provider: string },
): DeliveryTarget {
  const fields = (action: HistoryAction, keyId: string, rotationId: string) => ({
    action,
    provider: context.provider,
    keyId,
    target: target.name,
    rotationId,
  })
  const { propagate } = target
  return {
    ...target,
    write: (created, targetContext) =>
      recordChange(context, fields('write', targetContext.newKeyId, targetContext.rotationId), () =>
        target.write(created, targetContext),
      ),
    ...(propagate === undefined
      ? {}
      : {
          propagate: (targetContext) =>
            recordChange(
              context,
              fields('propagate', targetContext.newKeyId, targetContext.rotationId),
              () => propagate.call(target, targetContext),
            ),
        }),
    confirm: (confirmContext) => target.confirm(confirmContext),
  }
}

/** A `deliver` function whose every delivery is recorded as a write to `name`. */
export function recordedDeliver(
  deliver: (created: CreatedKey) => void | Promise<void>,
  name: string,
  context: HistoryContext & { provider: string },
): (created: CreatedKey) => Promise<void> {
  return (created) =>
    recordChange(
      context,
      { action: 'write', provider: context.provider, keyId: created.key.id, target: name },
      async () => {
        await deliver(created)
      },
    )
}

/** What an update does, in history's words. */
function updateAction(patch: UpdateKeyInput): HistoryAction {
  const fields = Object.entries(patch ?? {}).filter(([, value]) => value !== undefined)
  if (fields.length === 1 && patch.status === 'active') return 'enable'
  if (fields.length === 1 && patch.status === 'disabled') return 'disable'
  if (fields.length === 1 && patch.name !== undefined) return 'rename'
  return 'update'
}

/** A failure's stable code, never its message (which may quote what was sent). */
function errorCode(error: unknown): string {
  const code = KeyStoreError.is(error) ? error.code : (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(code)) return code
  const name = error instanceof Error ? error.name : 'Error'
  return /^[A-Za-z0-9_]{1,64}$/.test(name) ? name : 'Error'
}

const accounts = new WeakMap<HistoryContext, Promise<StoreFingerprint | null>>()

/** The context's account, asked once; one that cannot be told is `null`. */
function accountOf(context: HistoryContext): Promise<StoreFingerprint | null> {
  const given = context.account
  if (typeof given !== 'function') return Promise.resolve(given ?? null)
  let known = accounts.get(context)
  if (known === undefined) {
    known = given().catch(() => null)
    accounts.set(context, known)
  }
  return known
}
