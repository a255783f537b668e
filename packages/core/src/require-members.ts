/**
 * Returns `store` typed with optional members it is known to have (a vendor's `reveal`,
 * `credentialKeyIds`), after checking that it has them: callers of that vendor's factory
 * then need no `?.` or `!`. A missing member is a bug in the adapter and throws a `TypeError`.
 */
export function requireMembers<S extends object, K extends keyof S & string>(
  store: S,
  names: readonly K[],
): S & Required<Pick<S, K>> {
  for (const name of names) {
    if (typeof store[name] !== 'function') {
      throw new TypeError(`the store has no ${name}(), though its adapter promises one`)
    }
  }
  return store as S & Required<Pick<S, K>>
}
