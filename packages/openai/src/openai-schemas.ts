import { errorReader, lenient } from '@keyway/core/adapter'
import * as v from 'valibot'

/** Unix seconds, as OpenAI gives every time. */
const unixSeconds = v.pipe(v.number(), v.integer(), v.minValue(0))

/** An organization admin API key as OpenAI lists it: never its value, only `redacted_value`. */
export const openAIAdminKeySchema = v.looseObject({
  object: v.literal('organization.admin_api_key'),
  id: v.string(),
  name: v.optional(v.nullable(v.string())),
  redacted_value: v.string(),
  created_at: unixSeconds,
  expires_at: v.nullable(unixSeconds),
  last_used_at: v.optional(v.nullable(unixSeconds)),
  owner: v.optional(v.looseObject({ id: v.optional(v.string()), type: v.optional(v.string()) })),
})
/** The vendor record in `ApiKey.raw` for OpenAI admin API keys. */
export type OpenAIAdminKey = v.InferOutput<typeof openAIAdminKeySchema>

/** The answer of `POST /organization/admin_api_keys`: the key and its value, shown once. */
export const adminKeyCreatedSchema = v.looseObject({
  ...openAIAdminKeySchema.entries,
  value: v.string(),
})

const serviceAccountOwnerSchema = v.looseObject({
  id: v.string(),
  name: v.string(),
  created_at: v.optional(unixSeconds),
  role: v.string(),
})

/** A project API key as OpenAI lists it, owned by a user or by a service account. */
export const openAIProjectKeySchema = v.looseObject({
  object: v.literal('organization.project.api_key'),
  id: v.string(),
  name: v.string(),
  redacted_value: v.string(),
  created_at: unixSeconds,
  last_used_at: v.nullable(unixSeconds),
  owner: v.looseObject({
    type: v.optional(v.picklist(['user', 'service_account'])),
    service_account: v.optional(serviceAccountOwnerSchema),
    user: v.optional(v.looseObject({ id: v.string() })),
  }),
  owner_project_access: v.picklist(['active', 'inactive']),
})
/** The vendor record in `ApiKey.raw` for OpenAI project API keys. */
export type OpenAIProjectKey = v.InferOutput<typeof openAIProjectKeySchema>

/** A project's service account. */
export const serviceAccountSchema = v.looseObject({
  object: v.literal('organization.project.service_account'),
  id: v.string(),
  name: v.string(),
  role: v.string(),
  created_at: unixSeconds,
})

/** The answer of `POST …/service_accounts`: the account, and its first key's value, shown once. */
export const serviceAccountCreatedSchema = v.looseObject({
  ...serviceAccountSchema.entries,
  api_key: v.looseObject({
    object: v.literal('organization.project.service_account.api_key'),
    id: v.string(),
    name: v.string(),
    created_at: unixSeconds,
    value: v.string(),
  }),
})

/** One page of an OpenAI list: `{object: "list", data, first_id, last_id, has_more}`. */
export function listSchema<TItem extends v.GenericSchema>(item: TItem) {
  return v.looseObject({
    object: v.literal('list'),
    data: v.array(item),
    first_id: v.optional(v.nullable(v.string())),
    last_id: v.optional(v.nullable(v.string())),
    has_more: v.boolean(),
  })
}

/** The answer of a delete: `{object: "….deleted", id, deleted: true}`. */
export const deletedSchema = v.looseObject({ id: v.string(), deleted: v.literal(true) })

const errorBodySchema = v.looseObject({
  error: lenient(
    v.looseObject({
      message: lenient(v.string()),
      type: lenient(v.string()),
      code: lenient(v.string()),
    }),
  ),
})

/** Reads OpenAI's `{error: {message, type, param, code}}`; `code` (else `type`) is the code. */
export const readOpenAIError = errorReader(errorBodySchema, (body) => ({
  message: body.error?.message,
  code: body.error?.code ?? body.error?.type,
}))
