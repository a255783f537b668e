import * as v from 'valibot'

/** A date-time string `Date.parse` understands, as vendors send ISO 8601 dates. */
export const isoDate = v.pipe(
  v.string(),
  v.check((text) => !Number.isNaN(Date.parse(text)), 'an ISO 8601 date'),
)

/**
 * A field that is read when it has the expected shape and ignored otherwise: missing, `null`
 * or any other shape parses as `undefined` and never fails the object around it. For the
 * fields of a vendor's error body, which must never cost the vendor's message.
 */
export function lenient<TSchema extends v.GenericSchema>(schema: TSchema) {
  return v.fallback(v.optional(schema), undefined)
}
