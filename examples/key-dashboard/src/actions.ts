import { randomUUID } from 'node:crypto'
import {
  type ApiKey,
  type CreateKeyInput,
  callbackTarget,
  createFleet,
  type DeliveryTarget,
  memoryJournal,
  type RotateKeysOutcome,
  type RotationJournal,
} from '@keyway/core'
import type { DashboardStore } from './open-stores.js'

/** What the dashboard's forms can ask for. */
export const ACTIONS = ['create', 'enable', 'disable', 'rotate', 'delete'] as const

/** One of `ACTIONS`. */
export type Action = (typeof ACTIONS)[number]

/** A secret minted by an action, for the one response that shows it. */
export interface Minted {
  label: string
  keyId: string
  secret: string
}

/** What an action did: a line for the page, and the new secret where one was minted. */
export interface ActionOutcome {
  notice: string
  minted?: Minted
}

/**
 * The dashboard's rotations while it runs: their journal, and the batch of each key whose
 * rotation did not finish, so that rotating the key again finishes that rotation (the new key
 * it made, the targets that did not confirm) instead of making another key.
 */
export interface Rotations {
  journal: RotationJournal
  /** `label\nkeyId` → the batch id of its unfinished rotation. */
  unfinished: Map<string, string>
}

/** A dashboard's rotations, none begun. */
export function newRotations(): Rotations {
  return { journal: memoryJournal(), unfinished: new Map() }
}

/** Whether `value` names an action. */
export function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value)
}

/**
 * Where a new secret goes when no target of the config takes the key: the answer to the
 * rotate, shown there once.
 */
export const PAGE_TARGET: DeliveryTarget = {
  ...callbackTarget(() => {}, 'this-page'),
  description: {
    kind: 'page',
    location: 'this page, shown once (no target of the config takes this key)',
    propagate: 'nothing: you put it where it is used',
    confirm: 'the answer page was made',
    cannotConfirm: 'where you put the secret',
  },
}

/** The targets a rotation of the key delivers to: the config's, else this page. */
export function rotationTargets(entry: DashboardStore, keyId: string, key: ApiKey | null) {
  const targets = entry.targetsOf(keyId, key)
  return targets.length === 0 ? [PAGE_TARGET] : targets
}

/**
 * Runs one action against a store. Errors are keyway's typed errors, which never hold a
 * secret; a new key's secret leaves only through the returned `minted`, and a rotated key's
 * only where no delivery target takes it.
 */
export async function runAction(
  entry: DashboardStore,
  action: Action,
  form: { id?: string; name?: string },
  rotations: Rotations,
): Promise<ActionOutcome> {
  const { store, label } = entry
  if (action === 'create') {
    const input: CreateKeyInput = {}
    const name = form.name?.trim()
    if (store.capabilities.names && name) input.name = name
    const created = await store.create(input)
    return {
      notice: `${label}: created ${created.key.id}`,
      minted: { label, keyId: created.key.id, secret: created.secret.reveal() },
    }
  }
  const id = form.id ?? ''
  switch (action) {
    case 'enable':
    case 'disable': {
      const key = await store.update(id, { status: action === 'enable' ? 'active' : 'disabled' })
      return { notice: `${label}: ${key.id} is now ${key.status}` }
    }
    case 'delete':
      await store.delete(id)
      return {
        notice:
          store.capabilities.deleted === 'gone'
            ? `${label}: deleted ${id}`
            : `${label}: deleted ${id} (${entry.descriptor.title} keeps it listed as disabled)`,
      }
    case 'rotate':
      return rotate(entry, id, rotations)
  }
}

/**
 * Rotates one key as `keyway apply` does: the store's rotation settings from the config, the
 * new secret to each of the key's delivery targets, the old key retired only after every
 * target confirmed. A key whose last rotation did not finish has that rotation resumed.
 */
async function rotate(
  entry: DashboardStore,
  id: string,
  rotations: Rotations,
): Promise<ActionOutcome> {
  const { label } = entry
  const slot = `${label}\n${id}`
  const batchId = rotations.unfinished.get(slot) ?? randomUUID()
  const result = await createFleet([entry.fleetStore]).rotate({
    batchId,
    keyIds: { [label]: [id] },
    journal: rotations.journal,
    targets: ({ keyId, key }) => rotationTargets(entry, keyId, key),
  })
  const failed = result.stores.some(
    (store) => store.error !== undefined || (store.result?.failed ?? 0) > 0,
  )
  if (failed) rotations.unfinished.set(slot, batchId)
  else rotations.unfinished.delete(slot)
  const store = result.stores[0]
  if (store?.error) throw new ActionError(`${label}: ${store.error.name}: ${store.error.message}`)
  const outcome = store?.result?.outcomes[0] as RotateKeysOutcome | undefined
  if (outcome === undefined) {
    const reason = store?.result?.plans[0]?.reason ?? 'the rotation planned nothing'
    throw new ActionError(`${label}: ${id} was not rotated: ${reason}`)
  }
  if (outcome.status === 'skipped')
    throw new ActionError(`${label}: ${id} was not rotated: ${outcome.reason}`)
  // A rotation's error says which target holds which key, and how to finish it.
  if (outcome.status === 'failed')
    throw new ActionError(
      `${label}: rotating ${id} failed: ${outcome.error.name}: ${outcome.error.message}`,
    )
  const rotated = outcome.result
  const delivered = rotated.deliveries.filter((delivery) => delivery.target !== PAGE_TARGET.name)
  const notice = `${label}: rotated ${rotated.oldKeyId} to ${rotated.newKeyId} (${
    rotated.verified ? 'verified' : 'not verified'
  }, old key ${rotated.retired})${
    delivered.length === 0
      ? ''
      : `; delivered to ${delivered.map((delivery) => `${delivery.target} (${delivery.progress})`).join(', ')}`
  }`
  // The secret is shown only where the page was its one target.
  if (delivered.length > 0 || rotated.secret === null) return { notice }
  return {
    notice,
    minted: { label, keyId: rotated.newKeyId, secret: rotated.secret.reveal() },
  }
}

/** A rotation that did not happen, with why in words safe to show (never a secret). */
export class ActionError extends Error {
  override name = 'ActionError'
}
