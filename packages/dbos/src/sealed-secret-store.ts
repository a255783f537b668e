import type { CreateKeyInput, KeyStore } from '@keyway/core'
import { NotFoundError, openSealedSecret, sealingStore, sealSecret } from '@keyway/core/adapter'
import type { Pool } from 'pg'
import { KEYWAY_SCHEMA } from './keyway-tables.js'

/**
 * A key that seals new secrets while a rotation holds them: 32 random bytes, base64. Every
 * worker of one fleet uses the same one (for example from a secret manager), so a rotation
 * picked up on another machine can verify the secret the first one delivered. Sealed with
 * core's `sealSecret` (AES-256-GCM).
 */
export type SealingKey = string

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
  return sealingStore(store, {
    keep: async (created) => {
      await pool.query(
        `INSERT INTO ${KEYWAY_SCHEMA}.sealed_secrets (rotation_id, key_id, sealed)
         VALUES ($1, $2, $3)
         ON CONFLICT (rotation_id, key_id) DO UPDATE SET sealed = EXCLUDED.sealed`,
        [currentRotation('seal'), created.key.id, sealSecret(created.secret, sealingKey)],
      )
    },
    reveal: async (id) => {
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
    },
  })
}

/** Drops every sealed secret of a rotation that ended: nothing needs them any more. */
export async function forgetSealedSecrets(pool: Pool, rotationId: string): Promise<void> {
  await pool.query(`DELETE FROM ${KEYWAY_SCHEMA}.sealed_secrets WHERE rotation_id = $1`, [
    rotationId,
  ])
}
