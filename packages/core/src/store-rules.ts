import { assertFields } from './capabilities.js'
import { NotFoundError } from './errors.js'
import type { KeyStore } from './types.js'
import { baseCreateInputSchema, encodeId, type InputContext, validateInput } from './validate.js'

/**
 * The checks a store makes on its own calls, and the redaction its own errors get, for code
 * that acts on a store's keys without making each of those calls first (rotation, fleets,
 * durable engines). An id `checkId` refuses is refused by the store's `get`, `update` and
 * `delete` alike; an error passed through `redact` holds no secret the store knows.
 */
export interface StoreRules {
  /** Checks a key id as the store's own calls do (a `ValidationError` that never quotes it); returns it URL-encoded. */
  checkId(id: unknown, operation: string): string
  /**
   * Checks create input, or a part of it (a rotation's overrides), by the store's create
   * rules: a `ValidationError` for a bad value, `UnsupportedOperationError` for a field the
   * vendor lacks.
   */
  checkCreateInput(input: unknown, operation: string): void
  /** Whether the text holds a secret the store knows, or a telling part of one. */
  holdsSecret(text: string): boolean
  /** The same error, with every secret the store knows scrubbed from it and its causes. */
  redact<T>(error: T): T
}

const RULES = Symbol.for('keyway.storeRules')

/** Gives a store built by `defineKeyStore` its rules, where `storeRules` finds them. */
export function attachStoreRules(store: object, rules: StoreRules): void {
  Object.defineProperty(store, RULES, { value: rules, enumerable: false })
}

/**
 * A store's own rules. A store not built by `defineKeyStore` gets the checks every store
 * makes (no vendor id pattern, the base create fields, its declared create fields) and no
 * redaction beyond what its own errors had.
 */
export function storeRules(store: KeyStore): StoreRules {
  const attached = (store as unknown as Record<symbol, StoreRules | undefined>)[RULES]
  if (attached !== undefined) return attached
  const context = (operation: string): InputContext => ({ provider: store.provider, operation })
  return {
    checkId: (id, operation) => encodeId(id, context(operation)),
    checkCreateInput(input, operation) {
      const checked = validateInput(baseCreateInputSchema, input, context(operation))
      assertFields(checked, store.capabilities.create || [], context(operation))
    },
    holdsSecret: () => false,
    redact: (error) => error,
  }
}

/**
 * Checks a key id by the store's own rules (the check its `get`, `update` and `delete`
 * make), before anything is sent: a `ValidationError` that never quotes the id, also for a
 * secret the store knows (its credential, a key it minted) given where an id belongs.
 * Returns the id URL-encoded.
 */
export function checkKeyId(store: KeyStore, id: unknown, operation = 'get'): string {
  return storeRules(store).checkId(id, operation)
}

/** "No key with this id", as a store whose `get` scans the listing says it. */
export function noKeyWithId(provider: string, id: string): NotFoundError {
  return new NotFoundError({
    provider,
    operation: 'get',
    status: 404,
    message: `${provider} get failed: no key with id ${id}`,
  })
}

/** Runs `work`; an error it throws leaves through the store's redaction. */
export async function redacting<T>(store: KeyStore, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw storeRules(store).redact(error)
  }
}
