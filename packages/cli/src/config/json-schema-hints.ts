import type * as v from 'valibot'

/**
 * What `keyway.config.schema.json` says for a valibot check it cannot read (a check is a
 * function), written beside the check. The schema's generator reads these; a check without
 * one stops the generator, so none is left out by mistake.
 */
export type JsonSchemaHint =
  /** JSON Schema keywords that say the same (a `pattern`, `not`, `anyOf`, `required`…). */
  | { readonly json: Readonly<Record<string, unknown>> }
  /** The value must match none of these (secret shapes); flags other than `i` are refused. */
  | { readonly refuses: readonly RegExp[] }
  /** A rule JSON Schema cannot say: kept as a `$comment`, checked by keyway alone. */
  | { readonly keywayOnly: string }
  /** Describe the value as this schema does (a lazy schema that reads the value's shape first). */
  | { readonly like: v.GenericSchema }

const HINTS = new WeakMap<object, JsonSchemaHint>()

/** `item` (a check, or a schema), with what the JSON Schema says for it. */
export function withJsonSchema<T extends object>(item: T, hint: JsonSchemaHint): T {
  HINTS.set(item, hint)
  return item
}

/** The hint given for a check or schema, if any. */
export function jsonSchemaHint(item: object): JsonSchemaHint | undefined {
  return HINTS.get(item)
}
