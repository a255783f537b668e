import * as v from 'valibot'
import { ValidationError } from './errors.js'
import type { ApiKey, Capabilities, CreateKeyInput, SuccessorPlan } from './types.js'

/**
 * The vendor-neutral part of "a key like this one": its name where the vendor has names,
 * its metadata where it has metadata, and its expiry where keys can be given one and it is
 * still in the future (a past expiry is a warning, not carried). Adapters add their own fields.
 */
export function defaultSuccessorPlan(
  key: ApiKey,
  capabilities: Capabilities,
  now: Date = new Date(),
): SuccessorPlan {
  const input: CreateKeyInput = {}
  const warnings: string[] = []
  const creates = (field: string) => (capabilities.create || []).includes(field)
  if (capabilities.names && creates('name') && key.name !== null) input.name = key.name
  if (capabilities.metadata && creates('metadata') && Object.keys(key.metadata).length > 0) {
    input.metadata = { ...key.metadata }
  }
  if (capabilities.expiry && creates('expiresAt') && key.expiresAt !== null) {
    // A key that went through JSON holds its dates as strings.
    const expiresAt = new Date(key.expiresAt)
    if (expiresAt.getTime() > now.getTime()) {
      input.expiresAt = expiresAt
    } else {
      const when = Number.isNaN(expiresAt.getTime())
        ? 'an unreadable date'
        : expiresAt.toISOString()
      warnings.push(
        `The key's expiry (${when}) has passed, so it is not carried over: the new key does not expire unless you give it an expiresAt.`,
      )
    }
  }
  return { input, warnings }
}

/**
 * Reads the vendor record a store put in `key.raw`, for mapping a key into a successor's
 * input (or picking from a listing, with `operation` naming the caller's method). A record
 * of another shape (a key this store did not list) is a `ValidationError`.
 */
export function readRawKey<TSchema extends v.GenericSchema>(
  schema: TSchema,
  key: ApiKey,
  provider: string,
  operation = 'successorInput',
): v.InferOutput<TSchema> {
  const parsed = v.safeParse(schema, key.raw)
  if (parsed.success) return parsed.output
  throw new ValidationError({
    provider,
    operation,
    message: `${provider} ${operation}: the key's raw record is not one this store listed`,
    issues: [{ path: 'key.raw', message: `expected the record ${provider} listed` }],
  })
}
