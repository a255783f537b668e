import { isIP } from 'node:net'
import { errorReader, type FieldIssue, isoDate, lenient, secondsToMs } from '@keyway/core/adapter'
import * as v from 'valibot'

/** A Latitude API key resource. Every attribute is optional in Latitude's spec. */
export const latitudeApiKeySchema = v.looseObject({
  id: v.pipe(v.string(), v.regex(/^tok_[a-zA-Z0-9]+$/)),
  type: v.literal('api_keys'),
  attributes: v.optional(
    v.looseObject({
      name: v.optional(v.nullable(v.string())),
      token: v.optional(v.nullable(v.string())),
      token_last_slice: v.optional(v.nullable(v.string())),
      read_only: v.optional(v.nullable(v.boolean())),
      allowed_ips: v.optional(v.nullable(v.array(v.string()))),
      last_used_at: v.optional(v.nullable(isoDate)),
      created_at: v.optional(v.nullable(isoDate)),
      updated_at: v.optional(v.nullable(isoDate)),
    }),
    {},
  ),
})
/** The vendor record in `ApiKey.raw` for Latitude keys, token removed. */
export type LatitudeApiKey = v.InferOutput<typeof latitudeApiKeySchema>

export const listResponseSchema = v.looseObject({ data: v.array(latitudeApiKeySchema) })
export const oneResponseSchema = v.looseObject({ data: latitudeApiKeySchema })
/** Create and regenerate answer with the new token, once. */
export const tokenResponseSchema = v.looseObject({
  data: v.looseObject({
    ...latitudeApiKeySchema.entries,
    attributes: v.looseObject({
      ...latitudeApiKeySchema.entries.attributes.wrapped.entries,
      token: v.pipe(v.string(), v.minLength(8)),
    }),
  }),
})

const errorBodySchema = v.looseObject({
  errors: v.pipe(
    v.array(
      v.looseObject({
        code: lenient(v.string()),
        title: lenient(v.string()),
        detail: lenient(v.string()),
        source: lenient(v.looseObject({ pointer: lenient(v.string()) })),
        meta: lenient(v.looseObject({ retry_after: lenient(v.union([v.number(), v.string()])) })),
      }),
    ),
    v.minLength(1),
  ),
})

/** Reads Latitude's JSON:API errors; the 429 wait is in `errors[0].meta.retry_after`, in seconds. */
export const readLatitudeError = errorReader(errorBodySchema, ({ errors }) => {
  const [first] = errors
  const issues: FieldIssue[] = errors.flatMap((error) => {
    const pointer = error.source?.pointer
    if (pointer === undefined) return []
    const path = pointer
      .replace(/^\/data\/attributes\//, '')
      .replace(/^\//, '')
      .replaceAll('/', '.')
    return [{ path, message: error.detail ?? error.title ?? 'invalid' }]
  })
  return {
    message: first?.detail ?? first?.title,
    code: first?.code,
    retryAfterMs: secondsToMs(first?.meta?.retry_after),
    issues,
  }
})

function isIpOrCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/')
  const version = isIP(address)
  if (rest.length > 0 || version === 0) return false
  return (
    prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128))
  )
}

const vendorFields = {
  readOnly: v.optional(v.boolean()),
  allowedIps: v.optional(
    v.array(v.pipe(v.string(), v.check(isIpOrCidr, 'an IP address or CIDR range'))),
  ),
}

export const createInputSchema = v.looseObject(vendorFields)
export const updateInputSchema = v.looseObject(vendorFields)
