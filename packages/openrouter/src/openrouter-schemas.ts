import type { VendorErrorDetails } from '@keyway/core'
import * as v from 'valibot'

const isoDate = v.pipe(
  v.string(),
  v.check((text) => !Number.isNaN(Date.parse(text)), 'an ISO 8601 date'),
)

/** An OpenRouter key record as `/keys` returns it. Only the fields keyway reads are checked. */
export const openRouterKeySchema = v.looseObject({
  hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  name: v.string(),
  label: v.string(),
  disabled: v.boolean(),
  limit: v.nullable(v.number()),
  limit_reset: v.nullable(v.string()),
  include_byok_in_limit: v.boolean(),
  created_at: isoDate,
  updated_at: v.nullable(isoDate),
  expires_at: v.optional(v.nullable(isoDate)),
})
/** The vendor record in `ApiKey.raw` for OpenRouter keys. */
export type OpenRouterKey = v.InferOutput<typeof openRouterKeySchema>

export const listResponseSchema = v.looseObject({ data: v.array(openRouterKeySchema) })
export const keyResponseSchema = v.looseObject({ data: openRouterKeySchema })
/** The secret comes once, at the top level, beside `data`. */
export const createResponseSchema = v.looseObject({
  data: openRouterKeySchema,
  key: v.pipe(v.string(), v.startsWith('sk-or-')),
})
export const deleteResponseSchema = v.looseObject({ deleted: v.literal(true) })
/** `GET /key`: the key that made the call. */
export const currentKeyResponseSchema = v.looseObject({
  data: v.looseObject({ label: v.string() }),
})

const errorBodySchema = v.looseObject({
  error: v.looseObject({
    code: v.optional(v.union([v.number(), v.string()])),
    message: v.optional(v.string()),
  }),
})

/** Reads OpenRouter's `{"error": {"code", "message", "metadata"?}}`. */
export function readOpenRouterError(body: unknown): VendorErrorDetails | undefined {
  const parsed = v.safeParse(errorBodySchema, body)
  if (!parsed.success) return undefined
  const { code, message } = parsed.output.error
  return {
    ...(message === undefined ? {} : { message }),
    ...(code === undefined ? {} : { code: String(code) }),
  }
}

/** When an OpenRouter spending limit resets. */
export const LIMIT_RESETS = ['daily', 'weekly', 'monthly'] as const
/** When an OpenRouter spending limit resets. */
export type LimitReset = (typeof LIMIT_RESETS)[number]

const limitFields = {
  limit: v.optional(v.nullable(v.pipe(v.number(), v.finite(), v.minValue(0)))),
  limitReset: v.optional(v.nullable(v.picklist(LIMIT_RESETS))),
  includeByokInLimit: v.optional(v.boolean()),
}

/** OpenRouter's own rules for create input, checked before sending. */
export const createInputSchema = v.looseObject({
  ...limitFields,
  expiresAt: v.optional(
    v.pipe(
      v.date(),
      v.check((date) => date.getTime() > Date.now(), 'a date in the future'),
    ),
  ),
})

export const updateInputSchema = v.looseObject(limitFields)
