import type { Secret } from '../secret.js'
import type { CreatedKey, CreateKeyInput, KeyStore, RequestOptions } from '../types.js'

/** Where a sealing store keeps what it seals, and how it reads it back. */
export interface SecretKeeper {
  /** Keeps the secret of a key just made (or regenerated), before the caller goes on. */
  keep(created: CreatedKey): Promise<void>
  /**
   * The secret kept for this key id. Throws `NotFoundError` when none is kept (the rotation
   * then treats the secret as lost), or another error when it must not go on. Left out, the
   * store's own `reveal` (if any) stays: what is kept is never read back.
   */
  reveal?(id: string, options?: RequestOptions): Promise<Secret>
}

/**
 * The store with each secret it mints (a create, or a regenerate in place) kept by `keeper`
 * before the answer is given, and `reveal` reading it back: what lets a rotation cut off after
 * delivery resume with the secret its targets already hold, instead of minting another key.
 * Every other member is the store's own.
 */
export function sealingStore<C extends CreateKeyInput>(
  store: KeyStore<C>,
  keeper: SecretKeeper,
): KeyStore<C> {
  const keep = async (created: CreatedKey): Promise<CreatedKey> => {
    await keeper.keep(created)
    return created
  }
  const create: KeyStore<C>['create'] = async (input, options) =>
    keep(await store.create(input, options))
  const regenerate: KeyStore<C>['regenerate'] = async (id, options) =>
    keep(await store.regenerate(id, options))
  const reveal = keeper.reveal?.bind(keeper)
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'create') return create
      if (property === 'regenerate' && typeof target.regenerate === 'function') return regenerate
      if (property === 'reveal' && reveal !== undefined) return reveal
      const value = Reflect.get(target, property, receiver)
      // A frozen property (the store's fingerprint) must be given as it is.
      const own = Object.getOwnPropertyDescriptor(target, property)
      if (own !== undefined && !own.configurable && !own.writable) return value
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
