import { errorReader, isoDate, lenient } from '@keyway/core/adapter'
import * as v from 'valibot'

/** A NoteDx key: `sb-` (sandbox) or `lk-` (live) and 24 lowercase hex. */
export const NOTEDX_KEY_PATTERN = /^(sb|lk)-[0-9a-f]{24}$/

/** One key as NoteDx lists it. */
export const itemSchema = v.looseObject({
  key: v.string(),
  type: v.picklist(['sandbox', 'live']),
  status: v.picklist(['active', 'inactive']),
  created_at: v.optional(v.nullable(isoDate)),
  last_used: v.optional(v.nullable(isoDate)),
  metadata: v.optional(v.nullable(v.record(v.string(), v.string()))),
})
/** The vendor record in `ApiKey.raw` for NoteDx keys, with the key masked. */
export type NoteDxItem = v.InferOutput<typeof itemSchema>

/** `showFull=true` must give full keys: a masked one cannot be identified. */
export const fullListResponseSchema = v.looseObject({
  api_keys: v.array(
    v.looseObject({ ...itemSchema.entries, key: v.pipe(v.string(), v.regex(NOTEDX_KEY_PATTERN)) }),
  ),
  unmasked: v.literal(true),
})

export const createResponseSchema = v.looseObject({
  api_key: v.pipe(v.string(), v.regex(NOTEDX_KEY_PATTERN)),
  key_type: v.picklist(['sandbox', 'live']),
  metadata: v.optional(v.nullable(v.record(v.string(), v.string()))),
})

export const messageResponseSchema = v.looseObject({ message: v.optional(v.string()) })

export const loginResponseSchema = v.looseObject({
  id_token: v.pipe(v.string(), v.minLength(1)),
  refresh_token: v.pipe(v.string(), v.minLength(1)),
})

export const refreshResponseSchema = v.looseObject({
  id_token: v.pipe(v.string(), v.minLength(1)),
  refresh_token: v.optional(v.pipe(v.string(), v.minLength(1))),
})

const errorBodySchema = v.looseObject({
  error: lenient(
    v.looseObject({
      code: lenient(v.union([v.string(), v.number()])),
      message: lenient(v.string()),
    }),
  ),
  message: lenient(v.string()),
  Message: lenient(v.string()),
})

/** Reads NoteDx's three error shapes: `{message}`, `{Message}` (API Gateway), `{error: {code, message}}`. */
export const readNoteDxError = errorReader(errorBodySchema, (body) => ({
  message: body.error?.message ?? body.message ?? body.Message,
  code: body.error?.code === undefined ? undefined : String(body.error.code),
}))
