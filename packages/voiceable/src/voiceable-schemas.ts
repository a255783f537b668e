import type { VendorErrorDetails } from '@keyway/core'
import * as v from 'valibot'

const isoDate = v.pipe(
  v.string(),
  v.check((text) => !Number.isNaN(Date.parse(text)), 'an ISO 8601 date'),
)

/** A Voiceable API key record. */
export const voiceableApiKeySchema = v.looseObject({
  id: v.pipe(v.number(), v.integer()),
  key_type: v.picklist(['private', 'public']),
  name: v.nullable(v.string()),
  key_value: v.optional(v.nullable(v.string())),
  allowed_origins: v.optional(v.nullable(v.array(v.string()))),
  allowed_assistants: v.optional(v.nullable(v.array(v.string()))),
  transient_assistant: v.optional(v.nullable(v.boolean())),
  created_at: v.optional(v.nullable(isoDate)),
  updated_at: v.optional(v.nullable(isoDate)),
})
/** The vendor record in `ApiKey.raw` for Voiceable keys, value removed. */
export type VoiceableApiKey = v.InferOutput<typeof voiceableApiKeySchema>

const status = v.looseObject({ code: v.number(), message: v.optional(v.string()) })

export const listResponseSchema = v.looseObject({ status, data: v.array(voiceableApiKeySchema) })
export const oneResponseSchema = v.looseObject({ status, data: voiceableApiKeySchema })
/** Only the create answer carries the key's value. */
export const createResponseSchema = v.looseObject({
  status,
  data: v.looseObject({
    ...voiceableApiKeySchema.entries,
    key_value: v.pipe(v.string(), v.minLength(8)),
  }),
})

const errorBodySchema = v.looseObject({
  status: v.optional(status),
  error: v.optional(v.string()),
  errors: v.optional(v.array(v.string())),
  details: v.optional(v.string()),
})

/** Reads Voiceable's `{status: {code, message}, error, errors, details}`. */
export function readVoiceableError(body: unknown): VendorErrorDetails | undefined {
  const parsed = v.safeParse(errorBodySchema, body)
  if (!parsed.success) return undefined
  const { error, errors = [], details } = parsed.output
  const message = error ?? errors[0] ?? details ?? parsed.output.status?.message
  return {
    ...(message === undefined ? {} : { message }),
    ...(errors.length > 0 ? { issues: errors.map((text) => ({ path: '', message: text })) } : {}),
  }
}

const vendorFields = {
  allowedOrigins: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  allowedAssistants: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  transientAssistant: v.optional(v.boolean()),
}

export const createInputSchema = v.looseObject({
  keyType: v.optional(v.picklist(['private', 'public'])),
  ...vendorFields,
})
export const updateInputSchema = v.looseObject(vendorFields)
