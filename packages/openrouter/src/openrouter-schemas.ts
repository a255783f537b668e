import { errorReader, isoDate, lenient } from '@keyway/core/adapter'
import * as v from 'valibot'

/** An OpenRouter key record as `/keys` returns it. Only the fields keyway reads are checked. */
export const openRouterKeySchema = v.looseObject({
  hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  name: v.string(),
  label: v.string(),
  disabled: v.boolean(),
  limit: v.nullable(v.number()),
  /** What is left of `limit` in its current period. */
  limit_remaining: v.nullable(v.number()),
  limit_reset: v.nullable(v.string()),
  include_byok_in_limit: v.boolean(),
  /** USD spent over the key's life. */
  usage: v.number(),
  /** USD spent this month. */
  usage_monthly: v.number(),
  /** USD spent today and this week (UTC), where the answer has them. */
  usage_daily: v.optional(v.number()),
  usage_weekly: v.optional(v.number()),
  created_at: isoDate,
  updated_at: v.nullable(isoDate),
  expires_at: v.optional(v.nullable(isoDate)),
  /** Every key lives in a workspace. */
  workspace_id: v.string(),
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
/** `GET /key`: the key that made the call. Fields every answer has are checked, so a body of another shape is not taken for a yes. */
export const currentKeyResponseSchema = v.looseObject({
  data: v.looseObject({
    label: v.string(),
    limit: v.nullable(v.number()),
    usage: v.number(),
    is_management_key: v.boolean(),
  }),
})

/** `{data, total_count}`: the envelope of OpenRouter's workspace and guardrail lists. */
const counted = <T extends v.GenericSchema>(item: T) =>
  v.looseObject({
    data: v.array(item),
    total_count: v.pipe(v.number(), v.integer(), v.minValue(0)),
  })

/** `GET /workspaces`. */
export const workspacesResponseSchema = counted(v.looseObject({ id: v.string() }))
/** `GET /guardrails/assignments/keys`: which guardrail each key holds. */
export const keyAssignmentsResponseSchema = counted(
  v.looseObject({ key_hash: v.string(), guardrail_id: v.string() }),
)
/** `POST /guardrails/{id}/assignments/keys`. */
export const assignResponseSchema = v.looseObject({
  assigned_count: v.pipe(v.number(), v.integer(), v.minValue(0)),
})

const errorBodySchema = v.looseObject({
  error: v.looseObject({
    code: lenient(v.union([v.number(), v.string()])),
    message: lenient(v.string()),
  }),
})

/** Reads OpenRouter's `{"error": {"code", "message", "metadata"?}}`. */
export const readOpenRouterError = errorReader(errorBodySchema, ({ error }) => ({
  message: error.message,
  code: error.code === undefined ? undefined : String(error.code),
}))

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
  workspaceId: v.optional(v.pipe(v.string(), v.uuid())),
  // Goes into a URL path: a plain id, such as OpenRouter's UUIDs.
  guardrailId: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_:-]{0,127}$/, 'a guardrail id')),
  ),
  expiresAt: v.optional(
    v.pipe(
      v.date(),
      v.check((date) => date.getTime() > Date.now(), 'a date in the future'),
    ),
  ),
})

export const updateInputSchema = v.looseObject(limitFields)
