import { errorReader, isoDate, lenient } from '@keyway/core/adapter'
import * as v from 'valibot'

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
  status: lenient(v.looseObject({ message: lenient(v.string()) })),
  error: lenient(v.string()),
  errors: lenient(v.array(v.unknown())),
  details: lenient(v.string()),
})

/** Reads Voiceable's `{status: {code, message}, error, errors, details}`. */
export const readVoiceableError = errorReader(errorBodySchema, (body) => {
  const errors = (body.errors ?? []).filter((item): item is string => typeof item === 'string')
  return {
    message: body.error ?? errors[0] ?? body.details ?? body.status?.message,
    issues: errors.map((text) => ({ path: '', message: text })),
  }
})

/** Whether `text` is a web origin as a browser sends it: `https://app.example.com[:port]`, no path. */
function isOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false
  const url = new URL(text)
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.origin === text.replace(/\/$/, '')
  )
}

const vendorFields = {
  allowedOrigins: v.optional(
    v.array(v.pipe(v.string(), v.check(isOrigin, 'an origin such as https://app.example.com'))),
  ),
  allowedAssistants: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  transientAssistant: v.optional(v.boolean()),
}

export const createInputSchema = v.looseObject({
  keyType: v.optional(v.picklist(['private', 'public'])),
  ...vendorFields,
})
export const updateInputSchema = v.looseObject(vendorFields)
