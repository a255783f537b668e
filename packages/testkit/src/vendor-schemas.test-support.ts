// Response schemas written from VENDORS.md, independently of the emulators' code, so the
// emulator tests check the emulators against the documented shapes.
import * as v from 'valibot'

const iso = v.pipe(
  v.string(),
  v.check((text) => !Number.isNaN(Date.parse(text))),
)
const usd = v.number()

/** The spending limit and usage fields OpenRouter reports on a key and on the current key. */
const limitAndUsage = {
  limit: v.nullable(v.number()),
  limit_remaining: v.nullable(v.number()),
  limit_reset: v.nullable(v.string()),
  include_byok_in_limit: v.boolean(),
  usage: usd,
  usage_daily: usd,
  usage_weekly: usd,
  usage_monthly: usd,
  byok_usage: usd,
  byok_usage_daily: usd,
  byok_usage_weekly: usd,
  byok_usage_monthly: usd,
}

export const openRouter = {
  key: v.strictObject({
    hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
    name: v.string(),
    label: v.pipe(v.string(), v.regex(/^sk-or-v1-[0-9a-f]{3}\.\.\.[0-9a-f]{3}$/)),
    disabled: v.boolean(),
    ...limitAndUsage,
    created_at: iso,
    updated_at: v.nullable(iso),
    creator_user_id: v.nullable(v.string()),
    external_user: v.nullable(v.string()),
    workspace_id: v.pipe(v.string(), v.uuid()),
    expires_at: v.optional(v.nullable(iso)),
  }),
  currentKey: v.strictObject({
    label: v.string(),
    ...limitAndUsage,
    is_free_tier: v.boolean(),
    is_management_key: v.boolean(),
    is_provisioning_key: v.boolean(),
    creator_user_id: v.nullable(v.string()),
    organization_id: v.nullable(v.string()),
    workspace_id: v.nullable(v.string()),
    allowed_data_regions: v.array(v.picklist(['global', 'europe', 'us'])),
    free_model_daily_requests: v.strictObject({
      limit: v.number(),
      remaining: v.number(),
      used: v.number(),
    }),
    rate_limit: v.strictObject({ requests: v.number(), interval: v.string(), note: v.string() }),
    expires_at: v.optional(v.nullable(iso)),
  }),
  error: v.strictObject({
    error: v.strictObject({
      code: v.number(),
      message: v.string(),
      metadata: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
    }),
  }),
  secret: /^sk-or-v1-[0-9a-f]{64}$/,
  workspace: v.strictObject({
    id: v.pipe(v.string(), v.uuid()),
    slug: v.string(),
    name: v.string(),
    description: v.nullable(v.string()),
    created_at: iso,
    updated_at: v.nullable(iso),
    created_by: v.nullable(v.string()),
    // The SDK's schema (generated from the spec) and VENDORS.md: a string, never null.
    default_guardrail_id: v.pipe(v.string(), v.uuid()),
    default_text_model: v.nullable(v.string()),
    default_image_model: v.nullable(v.string()),
    default_provider_sort: v.nullable(v.string()),
    include_byok_in_budgets: v.boolean(),
    // Integer key ids in the SDK's schema (spec); VENDORS.md gives no type.
    io_logging_api_key_ids: v.nullable(v.array(v.pipe(v.number(), v.integer()))),
    io_logging_sampling_rate: v.number(),
    is_data_discount_logging_enabled: v.boolean(),
    is_observability_broadcast_enabled: v.boolean(),
    is_observability_io_logging_enabled: v.boolean(),
  }),
  keyAssignment: v.strictObject({
    id: v.string(),
    key_hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
    key_name: v.string(),
    key_label: v.string(),
    guardrail_id: v.string(),
    assigned_by: v.nullable(v.string()),
    created_at: iso,
  }),
  /** `{data, total_count}`, the envelope of the workspace and guardrail lists. */
  counted: <T extends v.GenericSchema>(item: T) =>
    v.strictObject({ data: v.array(item), total_count: v.pipe(v.number(), v.integer()) }),
}

const latitudeAttributes = v.strictObject({
  name: v.optional(v.string()),
  api_version: v.optional(v.string()),
  token: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{36}$/))),
  token_last_slice: v.optional(v.pipe(v.string(), v.length(5))),
  read_only: v.optional(v.nullable(v.boolean())),
  allowed_ips: v.optional(v.nullable(v.array(v.string()))),
  last_used_at: v.optional(v.nullable(iso)),
  user: v.optional(v.strictObject({ id: v.string(), email: v.string() })),
  created_at: v.optional(iso),
  updated_at: v.optional(iso),
})

export const latitude = {
  apiKey: v.strictObject({
    id: v.pipe(v.string(), v.regex(/^tok_[a-zA-Z0-9]{13}$/)),
    type: v.literal('api_keys'),
    attributes: latitudeAttributes,
  }),
  error: v.strictObject({
    errors: v.pipe(
      v.array(
        v.strictObject({
          status: v.string(),
          code: v.nullable(v.string()),
          title: v.string(),
          detail: v.string(),
          source: v.optional(
            v.strictObject({ pointer: v.optional(v.string()), parameter: v.optional(v.string()) }),
          ),
          meta: v.optional(v.record(v.string(), v.unknown())),
        }),
      ),
      v.minLength(1),
    ),
  }),
}

export const noteDx = {
  item: v.strictObject({
    key: v.pipe(v.string(), v.regex(/^((sb|lk)-[0-9a-f]{24}|\*{23}[0-9a-f]{4})$/)),
    type: v.picklist(['sandbox', 'live']),
    status: v.picklist(['active', 'inactive']),
    created_at: v.pipe(v.string(), v.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/)),
    last_used: v.nullable(iso),
    metadata: v.nullable(v.record(v.string(), v.string())),
  }),
  login: v.strictObject({
    user_id: v.string(),
    email: v.string(),
    requires_password_change: v.boolean(),
    id_token: v.string(),
    refresh_token: v.string(),
  }),
  refresh: v.strictObject({
    id_token: v.string(),
    refresh_token: v.optional(v.string()),
    user_id: v.string(),
    email: v.string(),
  }),
  error: v.union([
    v.strictObject({ message: v.string() }),
    v.strictObject({ Message: v.string() }),
    v.strictObject({
      error: v.strictObject({ code: v.unknown(), message: v.string() }),
      details: v.optional(v.unknown()),
    }),
  ]),
}

const voiceableStatus = v.strictObject({ code: v.number(), message: v.string() })
export const voiceable = {
  apiKey: v.strictObject({
    id: v.pipe(v.number(), v.integer()),
    key_type: v.picklist(['private', 'public']),
    name: v.string(),
    key_value: v.nullable(v.string()),
    allowed_origins: v.array(v.string()),
    allowed_assistants: v.array(v.string()),
    transient_assistant: v.boolean(),
    user_id: v.pipe(v.number(), v.integer()),
    user_email: v.string(),
    created_at: iso,
    updated_at: iso,
  }),
  status: voiceableStatus,
  error: v.strictObject({
    status: voiceableStatus,
    error: v.string(),
    errors: v.array(v.string()),
    details: v.string(),
  }),
}
