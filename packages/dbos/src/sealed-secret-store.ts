import {
  type CreatedKey,
  type CreateKeyInput,
  type KeyStore,
  NotFoundError,
  type Secret,
} from '@keyway/core'
import type { Pool } from 'pg'
import { KEYWAY_SCHEMA } from './keyway-tables.js'
import { openSealedSecret, type SealingKey, sealSecret } from './secret-seal.js'

/**
 * The store as rotations on many workers see it: each secret it mints (a create, or a
 * regenerate in place) is sealed into Postgres before the rotation goes on, and `reveal` reads
 * it back. So a rotation interrupted after delivery resumes on any worker at verification with
 * the secret it delivered, instead of minting and delivering another key (or, for a
 * regenerate, failing for want of the secret). Every other method is the store's own.
 *
 * A sealed secret belongs to one rotation (`rotationId`, the workflow running now) and the
 * key's id: a rotation reveals only what it sealed itself, never a secret another rotation
 * (at another account of the same vendor, where ids repeat) sealed under the same id. Outside
 * a rotation nothing is sealed or revealed. `beforeReveal` runs before each reveal (the
 * account check: a secret is never revealed to a store that reaches another account).
 */
export function withSealedSecrets<C extends CreateKeyInput>(
  store: KeyStore<C>,
  pool: Pool,
  sealingKey: SealingKey,
  rotationId: () => string | undefined,
  beforeReveal: (rotationId: string) => Promise<void> = async () => {},
): KeyStore<C> {
  const provider = store.provider
  const currentRotation = (operation: string): string => {
    const id = rotationId()
    if (id === undefined) {
      throw new Error(`${provider} ${operation}: sealed secrets are kept for rotations only`)
    }
    return id
  }
  const seal = async (created: CreatedKey): Promise<CreatedKey> => {
    await pool.query(
      `INSERT INTO ${KEYWAY_SCHEMA}.sealed_secrets (rotation_id, key_id, sealed)
       VALUES ($1, $2, $3)
       ON CONFLICT (rotation_id, key_id) DO UPDATE SET sealed = EXCLUDED.sealed`,
      [currentRotation('seal'), created.key.id, sealSecret(created.secret, sealingKey)],
    )
    return created
  }
  const create: KeyStore<C>['create'] = async (input, options) =>
    seal(await store.create(input, options))
  // A regenerated secret replaces the old one in place: once delivered, a rotation resumed
  // elsewhere must verify it, never regenerate again.
  const regenerate: KeyStore<C>['regenerate'] = async (id, options) =>
    seal(await store.regenerate(id, options))
  const reveal = async (id: string): Promise<Secret> => {
    const rotation = currentRotation('reveal')
    await beforeReveal(rotation)
    const result = await pool.query<{ sealed: string }>(
      `SELECT sealed FROM ${KEYWAY_SCHEMA}.sealed_secrets WHERE rotation_id = $1 AND key_id = $2`,
      [rotation, id],
    )
    const row = result.rows[0]
    if (row === undefined) {
      throw new NotFoundError({
        provider,
        operation: 'reveal',
        message: `${provider} reveal ${id}: no sealed secret is kept for this key in rotation ${rotation}`,
      })
    }
    return openSealedSecret(row.sealed, sealingKey)
  }
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'create') return create
      if (property === 'regenerate') return regenerate
      if (property === 'reveal') return reveal
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** Drops every sealed secret of a rotation that ended: nothing needs them any more. */
export async function forgetSealedSecrets(pool: Pool, rotationId: string): Promise<void> {
  await pool.query(`DELETE FROM ${KEYWAY_SCHEMA}.sealed_secrets WHERE rotation_id = $1`, [
    rotationId,
  ])
}
