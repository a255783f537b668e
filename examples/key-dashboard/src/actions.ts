import { type CreatedKey, type CreateKeyInput, rotateKey } from '@keyway/core'
import type { VendorStore } from './open-stores.js'

/** What the dashboard's forms can ask for. */
export const ACTIONS = ['create', 'enable', 'disable', 'rotate', 'delete'] as const

/** One of `ACTIONS`. */
export type Action = (typeof ACTIONS)[number]

/** A secret minted by an action, for the one response that shows it. */
export interface Minted {
  vendor: string
  keyId: string
  secret: string
}

/** What an action did: a line for the page, and the new secret where one was minted. */
export interface ActionOutcome {
  notice: string
  minted?: Minted
}

/** Whether `value` names an action. */
export function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value)
}

/**
 * Runs one action against a vendor's store. Errors are keyway's typed errors, which never
 * hold a secret; the secret of a new key leaves only through the returned `minted`.
 */
export async function runAction(
  entry: VendorStore,
  action: Action,
  form: { id?: string; name?: string },
): Promise<ActionOutcome> {
  const { store, title } = entry
  if (action === 'create') {
    const input: CreateKeyInput = {}
    const name = form.name?.trim()
    if (store.capabilities.names && name) input.name = name
    const created = await store.create(input)
    return reveal(entry, created, `${title}: created ${created.key.id}`)
  }
  const id = form.id ?? ''
  switch (action) {
    case 'enable':
    case 'disable': {
      const key = await store.update(id, { status: action === 'enable' ? 'active' : 'disabled' })
      return { notice: `${title}: ${key.id} is now ${key.status}` }
    }
    case 'delete':
      await store.delete(id)
      return {
        notice:
          store.capabilities.deleted === 'gone'
            ? `${title}: deleted ${id}`
            : `${title}: deleted ${id} (${title} keeps it listed as disabled)`,
      }
    case 'rotate': {
      let delivered: CreatedKey | undefined
      const result = await rotateKey(store, {
        keyId: id,
        // Delivery is this response: the page shows the new secret once.
        deliver: (created) => {
          delivered = created
        },
        ...(entry.verify ? { verify: entry.verify } : {}),
        verifyIntervalMs: 250,
      })
      const notice = `${title}: rotated ${result.oldKeyId} to ${result.newKeyId} (${
        result.verified ? 'verified' : 'not verified'
      }, old key ${result.retired})`
      return delivered ? reveal(entry, delivered, notice) : { notice }
    }
  }
}

function reveal(entry: VendorStore, created: CreatedKey, notice: string): ActionOutcome {
  return {
    notice,
    minted: { vendor: entry.title, keyId: created.key.id, secret: created.secret.reveal() },
  }
}
