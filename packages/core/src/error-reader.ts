import * as v from 'valibot'
import type { ErrorBodyReader, VendorErrorDetails } from './http-errors.js'

/**
 * Builds a vendor's error-body reader from a schema of its error body (make every field the
 * reader can do without `lenient`) and a function that picks the details out of a body that
 * matches. Empty fields are left out; a body that does not match, or yields nothing, gives
 * `undefined`, so core falls back to its generic reading.
 */
export function errorReader<TSchema extends v.GenericSchema>(
  schema: TSchema,
  pick: (body: v.InferOutput<TSchema>) => VendorErrorDetails,
): ErrorBodyReader {
  return (body) => {
    const parsed = v.safeParse(schema, body)
    if (!parsed.success) return undefined
    const details: VendorErrorDetails = {}
    for (const [field, value] of Object.entries(pick(parsed.output))) {
      if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0))
        continue
      Object.assign(details, { [field]: value })
    }
    // Nothing found: core falls back to its generic reading of the body.
    return Object.keys(details).length > 0 ? details : undefined
  }
}
