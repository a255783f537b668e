/**
 * The CommonJS build loads ESM-only dependencies (ky) through Node's require(esm).
 * esbuild's interop then hands over the whole module namespace where the default export
 * was imported; this unwraps it. The ESM build gets the function itself and keeps it.
 */
export function defaultExport<T>(imported: T): T {
  const namespace = imported as { default?: T }
  return typeof imported === 'function' || namespace.default === undefined
    ? imported
    : namespace.default
}
