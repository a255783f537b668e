import { UnsupportedOperationError } from '../errors.js'
import type { KeyStore } from '../types.js'
import type { RotationStrategy } from './rotation-options.js'

/** Whether a rotation with `strategy` can make the new key at this store. */
export function canMint(store: KeyStore<never>, strategy: RotationStrategy): boolean {
  return strategy === 'regenerate' || store.capabilities.create !== false
}

/**
 * Why a store that cannot create keys cannot rotate them, and what it can still do:
 * "anthropic cannot create keys through its API: audit and disable only".
 */
export function cannotMintReason(store: KeyStore<never>): string {
  const { capabilities } = store
  const can = [
    'audit',
    ...(capabilities.disable || capabilities.archive === true ? ['disable'] : []),
    ...(capabilities.deleted === false ? [] : ['delete']),
  ]
  const listed = can.length === 1 ? can[0] : `${can.slice(0, -1).join(', ')} and ${can.at(-1)}`
  return `${store.provider} cannot create keys through its API: ${listed} only`
}

/** The refusal of a rotation at a store that cannot create keys, thrown before any request. */
export function cannotMintError(store: KeyStore<never>): UnsupportedOperationError {
  return new UnsupportedOperationError({
    provider: store.provider,
    operation: 'rotate',
    feature: 'create',
    message: cannotMintReason(store),
  })
}
