import * as v from 'valibot'

/** Field names that would change an object's prototype or shadow its constructor: refused, never dropped. */
const RESERVED_FIELDS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** An object made by `{…}`, `JSON.parse` or `Object.create(null)`: not an array, date, map or class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** A plain object whose own field names are all allowed; each reserved one is an issue at its path. */
const plainFields = v.pipe(
  v.custom<Record<string, unknown>>(isPlainObject, 'expected a plain object'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    for (const field of Object.keys(dataset.value)) {
      if (!RESERVED_FIELDS.has(field)) continue
      addIssue({
        message: `the field name "${field}" is not allowed`,
        path: [
          {
            type: 'object',
            origin: 'value',
            input: dataset.value,
            key: field,
            value: dataset.value[field],
          },
        ],
      })
    }
  }),
)

/**
 * `v.looseObject(entries)` that first refuses anything but a plain object (an array would
 * pass `looseObject`) and reserved field names (which `looseObject` drops silently).
 */
export function plainObject<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.pipe(plainFields, v.looseObject(entries))
}

/** A plain object of strings, such as metadata; arrays and reserved keys are refused. */
export const stringRecord = v.pipe(plainFields, v.record(v.string(), v.string()))
