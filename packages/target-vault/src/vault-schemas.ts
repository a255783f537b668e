import { errorReader, lenient } from '@keyway/core/adapter'
import * as v from 'valibot'

/** `GET /v1/{mount}/data/{path}`: one version's fields and metadata. */
export const kvReadSchema = v.looseObject({
  data: v.looseObject({
    data: v.nullable(v.record(v.string(), v.unknown())),
    metadata: v.looseObject({ version: v.number() }),
  }),
})

/** `POST /v1/{mount}/data/{path}`: the version written. */
export const kvWriteSchema = v.looseObject({
  data: v.looseObject({ version: v.number() }),
})

/** `GET /v1/{mount}/metadata/{path}`: the current version number. */
export const kvMetadataSchema = v.looseObject({
  data: v.looseObject({ current_version: v.number() }),
})

/** `POST /v1/sys/capabilities-self`: the token's capabilities on each path asked about. */
export const capabilitiesSchema = v.looseObject({
  capabilities: v.optional(v.array(v.string())),
})

/** Vault's error body: `{ errors: [message, …] }`. */
export const readVaultError = errorReader(
  v.looseObject({ errors: lenient(v.array(v.string())) }),
  (body) => ({ message: body.errors?.join('; ') }),
)
