import { errorReader, isoDate, lenient } from '@keyway/core/adapter'
import * as v from 'valibot'

/** An Anthropic API key as the Admin API shows it: never its secret, only a hint. */
export const anthropicApiKeySchema = v.looseObject({
  id: v.string(),
  name: v.nullable(v.string()),
  created_at: isoDate,
  expires_at: v.optional(v.nullable(isoDate)),
  status: v.picklist(['active', 'inactive', 'archived', 'expired']),
  partial_key_hint: v.optional(v.nullable(v.string())),
  scope: v.optional(
    v.nullable(
      v.looseObject({ type: v.string(), workspace_id: v.optional(v.nullable(v.string())) }),
    ),
  ),
})
/** The vendor record in `ApiKey.raw` for Anthropic keys. */
export type AnthropicApiKey = v.InferOutput<typeof anthropicApiKeySchema>

/** One page of `GET /v1/organizations/api_keys`. */
export const listResponseSchema = v.looseObject({
  data: v.array(anthropicApiKeySchema),
  has_more: v.boolean(),
  first_id: v.nullable(v.string()),
  last_id: v.nullable(v.string()),
})

const errorBodySchema = v.looseObject({
  error: lenient(v.looseObject({ type: lenient(v.string()), message: lenient(v.string()) })),
})

/** Reads Anthropic's `{type: "error", error: {type, message}}`; `error.type` is the code. */
export const readAnthropicError = errorReader(errorBodySchema, (body) => ({
  message: body.error?.message,
  code: body.error?.type,
}))
