import * as v from 'valibot'
import { ValidationError } from '../errors.js'
import { isPlainObject } from '../plain-object.js'
import { journalSchema, rotationIdSchema } from '../rotation/rotation-options.js'
import { atLeastOne, waitMs } from '../setting-schemas.js'
import { parseOrThrow, summarizeIssues } from '../valibot-issues.js'
import type { AuditPolicy } from './fleet-types.js'
import { storeSchedulesSchema } from './rotation-schedule.js'

const days = v.pipe(v.number(), v.finite(), v.minValue(0))

/** A store's label: it names the store in output and in its batch ids. */
export const labelSchema = v.pipe(
  v.string(),
  v.regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters',
  ),
)

const storeObject = v.custom<object>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).provider === 'string' &&
    ['list', 'iterate', 'get', 'create', 'delete', 'successorInput'].every(
      (method) => typeof (value as Record<string, unknown>)[method] === 'function',
    ),
  'expected a KeyStore',
)

/** `KeySelector`. */
export const selectorSchema = v.strictObject({
  name: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
  olderThanDays: v.optional(days),
  status: v.optional(v.picklist(['active', 'disabled', 'any'])),
  workspace: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
})

const fleetStoreSchema = v.strictObject({
  label: labelSchema,
  store: storeObject,
  select: v.optional(selectorSchema),
  rotation: v.optional(
    v.strictObject({
      retire: v.optional(v.picklist(['delete', 'disable', 'keep'])),
      graceMs: v.optional(waitMs),
      concurrency: v.optional(atLeastOne),
      allowSelf: v.optional(v.boolean()),
      expiresInDays: v.optional(days),
      input: v.optional(v.record(v.string(), v.unknown())),
    }),
  ),
  schedule: v.optional(storeSchedulesSchema),
})

/** The stores given to `createFleet`. */
export const fleetStoresSchema = v.pipe(
  v.array(fleetStoreSchema),
  v.minLength(1, 'a fleet needs at least one store'),
)

/** `AuditPolicy`. */
export const policySchema = v.strictObject({
  maxAgeDays: v.optional(days),
  unusedDays: v.optional(days),
  expiringWithinDays: v.optional(days),
  requireLimitOrExpiry: v.optional(v.boolean()),
})

const validDate = v.pipe(
  v.date(),
  v.check((date) => !Number.isNaN(date.getTime()), 'expected a valid date'),
)

const history = v.array(v.looseObject({ change: v.string(), phase: v.string() }))

/** `{ now?, history?, signal? }` of `audit` and `plan`. */
export const auditOptionsSchema = v.strictObject({
  now: v.optional(validDate),
  history: v.optional(history),
  historyDigestKey: v.optional(v.union([v.string(), v.instance(Uint8Array)])),
  signal: v.optional(v.instance(AbortSignal)),
})

/** `FleetRotateOptions`. */
export const rotateOptionsSchema = v.strictObject({
  batchId: v.optional(rotationIdSchema),
  resume: v.optional(v.boolean()),
  journal: journalSchema,
  deliver: v.optional(v.function()),
  targets: v.optional(v.function()),
  // Each id is checked further by its store's own rules, before any store sends anything.
  keyIds: v.optional(v.record(labelSchema, v.array(v.string()))),
  policy: v.optional(policySchema),
  now: v.optional(validDate),
  history: v.optional(history),
  historyDigestKey: v.optional(v.union([v.string(), v.instance(Uint8Array)])),
  onProgress: v.optional(v.function()),
  signal: v.optional(v.instance(AbortSignal)),
  dryRun: v.optional(v.boolean()),
})

/** A fleet call's `ValidationError`, naming each bad field; never quoting a value. */
export function invalidFleet(
  operation: string,
  issues: Array<{ path: string; message: string }>,
): ValidationError {
  return new ValidationError({
    provider: 'fleet',
    operation,
    message: `fleet ${operation}: invalid input (${summarizeIssues(issues, 'input')})`,
    issues,
  })
}

/** Checks `input` against `schema`; throws `invalidFleet` otherwise. */
export function checkFleetInput<T>(
  operation: string,
  schema: v.GenericSchema<unknown, T>,
  input: unknown,
  path = '',
): T {
  if (path === '' && !Array.isArray(input) && !isPlainObject(input)) {
    throw invalidFleet(operation, [{ path, message: 'expected a plain object' }])
  }
  return parseOrThrow(schema, input, (issues) =>
    invalidFleet(
      operation,
      issues.map((issue) => ({
        ...issue,
        path: [path, issue.path].filter((part) => part !== '').join('.'),
      })),
    ),
  )
}

/**
 * Checks an `AuditPolicy` before it is used, as `audit` and `plan` do: a `ValidationError`
 * naming each wrong field under `path`. For code that keeps a policy to apply later (a
 * scheduled policy), so a mistake is found when it is given, not when it fires.
 */
export function checkAuditPolicy(policy: unknown, path = 'policy'): AuditPolicy {
  return checkFleetInput('policy', policySchema, policy, path)
}
