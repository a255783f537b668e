import { rotationScheduleSchema } from '@keyway/core/adapter'
import * as v from 'valibot'
import { looksLikeSecret, PROVIDERS } from '../providers.js'
import {
  envField,
  TARGET_KIND_IDS,
  TARGET_KINDS,
  type TargetKind,
  type TargetKindId,
  targetKeysSchema,
} from './target-kinds.js'

/** An env var's name, as a shell takes it. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The placeholders a variable-name template may hold. */
export const TEMPLATE_PLACEHOLDERS = ['NAME', 'ID', 'LABEL', 'PROVIDER'] as const

/** A template such as `OPENROUTER_{NAME}`: an env var name once the placeholders are filled. */
export const VARIABLE_TEMPLATE =
  /^(?:[A-Za-z_]|\{(?:NAME|ID|LABEL|PROVIDER)\})(?:[A-Za-z0-9_]|\{(?:NAME|ID|LABEL|PROVIDER)\})*$/

/** A store label: names the store in output, batch ids and `--store`. */
export const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** The finding kinds of an audit, for `failOn`. */
export const FINDING_KINDS = [
  'too-old',
  'unused',
  'expiring-soon',
  'no-limit-or-expiry',
  'disabled',
  'own-credential',
  'unmanaged',
] as const

/** A vendor a config may name. */
type ConfigVendorId = keyof typeof PROVIDERS

/**
 * The credential settings each vendor takes, with the env var each defaults to: the ways of
 * the adapter's descriptor, and its other settings (Voiceable's `credentialKeyId`).
 */
export const VENDOR_CREDENTIALS = Object.fromEntries(
  Object.entries(PROVIDERS).map(([vendor, provider]) => [
    vendor,
    Object.assign({}, ...provider.credentials, provider.otherEnv ?? {}) as Record<string, string>,
  ]),
) as Record<ConfigVendorId, Readonly<Record<string, string>>>

/** Which credential settings are enough on their own, per vendor: one set must be complete. */
export const CREDENTIAL_SETS = Object.fromEntries(
  Object.entries(PROVIDERS).map(([vendor, provider]) => [
    vendor,
    provider.credentials.map((way) => Object.keys(way)),
  ]),
) as unknown as Record<ConfigVendorId, readonly string[][]>

const envName = v.pipe(
  v.string(),
  v.check(
    (value) => !looksLikeSecret(value),
    'looks like a credential itself: give the NAME of the env var that holds it (and replace that credential if this file was shared)',
  ),
  v.regex(ENV_NAME, 'expected the name of an env var (letters, digits, _)'),
)

const wholeNumber = (minimum: number) =>
  v.pipe(
    v.number(),
    v.integer(`expected a whole number of at least ${minimum}`),
    v.minValue(minimum, `expected a whole number of at least ${minimum}`),
  )

const credentials = (names: readonly string[], sets: readonly string[][]) =>
  v.pipe(
    v.strictObject(
      Object.fromEntries(names.map((name) => [name, v.optional(envName)])) as Record<
        string,
        v.OptionalSchema<typeof envName, undefined>
      >,
    ),
    v.check(
      (given) => sets.some((set) => set.every((name) => given[name] !== undefined)),
      `needs ${sets.map((set) => set.join(' and ')).join(', or ')}`,
    ),
  )

const selector = v.strictObject({
  name: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a non-empty glob'))),
  olderThanDays: v.optional(wholeNumber(0)),
  status: v.optional(v.picklist(['active', 'disabled', 'any'])),
  workspace: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a workspace id'))),
})

const delivery = v.strictObject({
  to: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, 'expected a dotenv file path or exec:<command>'),
    v.check(
      (target) => !/^exec:\s*$/.test(target),
      'exec: needs a command, e.g. "exec:vault kv put secret/app key=-"',
    ),
  ),
  variable: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        VARIABLE_TEMPLATE,
        'expected an env var name with {NAME}, {ID}, {LABEL} or {PROVIDER} placeholders',
      ),
    ),
  ),
})

/** A variable template holding only `placeholders`. */
function templateOf(placeholders: readonly string[]) {
  const any = `\\{(?:${placeholders.join('|')})\\}`
  return v.pipe(
    v.string(),
    v.regex(
      new RegExp(`^(?:[A-Za-z_]|${any})(?:[A-Za-z0-9_]|${any})*$`),
      `expected an env var name with ${placeholders.map((name) => `{${name}}`).join(', ')} placeholders`,
    ),
  )
}

/** One delivery target of a kind: `kind`, which keys, the variable, credentials, the kind's fields. */
function targetOf(id: TargetKindId) {
  const kind = TARGET_KINDS[id] as TargetKind<never>
  return v.strictObject({
    kind: v.literal(id),
    keys: v.optional(targetKeysSchema),
    // A kind that names the variable in its own fields (`key`) takes no template.
    ...(kind.variable === undefined ? { variable: v.optional(templateOf(kind.placeholders)) } : {}),
    ...Object.fromEntries(
      Object.keys({ ...kind.credentials, ...kind.optionalCredentials }).map((setting) => [
        envField(setting),
        v.optional(envName),
      ]),
    ),
    ...(kind.baseUrlEnv === undefined ? {} : { baseUrlEnv: v.optional(envName) }),
    ...kind.fields,
  })
}

/** A delivery target as a config names it. */
export interface TargetConfig {
  kind: TargetKindId
  keys?: v.InferOutput<typeof targetKeysSchema>
  variable?: string
  baseUrlEnv?: string
  [field: string]: unknown
}

/**
 * The delivery targets of a store: each of a kind `TARGET_KINDS` names, and each whole entry
 * passing its kind's own check (one of two fields, …).
 */
const targetEntry = v.variant(
  'kind',
  TARGET_KIND_IDS.map(targetOf) as unknown as v.VariantOptions<'kind'>,
  `expected a kind: one of ${TARGET_KIND_IDS.join(', ')}`,
) as unknown as v.GenericSchema<unknown, TargetConfig>

const targets = v.pipe(
  v.array(targetEntry),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    dataset.value.forEach((entry, index) => {
      const at = { type: 'array', origin: 'value', input: dataset.value, key: index, value: entry }
      const several = fixedVariableProblem(entry)
      if (several !== undefined)
        addIssue({
          message: several,
          path: [
            at as never,
            {
              type: 'object',
              origin: 'value',
              input: entry,
              key: 'variable',
              value: entry.variable,
            },
          ],
        })
      const message = (TARGET_KINDS[entry.kind] as TargetKind<never>).check?.(entry as never)
      if (message === undefined) return
      addIssue({ message, path: [at as never] })
    })
  }),
)

/**
 * A fixed `variable` (no placeholder) holds one key's secret: on an entry whose `keys` can take
 * several keys (none given, a glob, several ids), each rotation would overwrite the other's.
 * One id, an exact name, or labels name one key; two due keys sharing it are refused at plan.
 */
function fixedVariableProblem(entry: TargetConfig): string | undefined {
  if (entry.variable === undefined || entry.variable.includes('{')) return undefined
  const keys = entry.keys
  const reason =
    keys === undefined
      ? 'this entry has no "keys", so it takes every key of the store'
      : keys.name !== undefined && /[*?]/.test(keys.name)
        ? `"keys.name" ${JSON.stringify(keys.name)} is a glob that can take several keys`
        : keys.ids !== undefined && keys.ids.length > 1
          ? `"keys.ids" names ${keys.ids.length} keys`
          : undefined
  if (reason === undefined) return undefined
  return `a fixed variable (no placeholder) holds one key's secret, but ${reason}, which would overwrite each other's at every rotation: select one key with "keys" ({ "ids": ["…"] }, an exact "name", or "metadata" labels), or put {NAME} in the variable`
}

/** A successor's lifetime: whole days, `90d`. */
export const LIFETIME = /^[1-9][0-9]{0,4}d$/

const rotation = v.strictObject({
  retire: v.optional(v.picklist(['delete', 'disable', 'keep'])),
  graceMs: v.optional(wholeNumber(0)),
  concurrency: v.optional(wholeNumber(1)),
  allowSelf: v.optional(v.boolean()),
  expiresIn: v.optional(
    v.pipe(v.string(), v.regex(LIFETIME, 'expected a number of days, such as "90d"')),
  ),
  limit: v.optional(v.nullable(v.pipe(v.number(), v.minValue(0, 'expected 0 or more USD')))),
})

/**
 * When the store's keys are rotated: one schedule, or a list (the first that covers a key
 * wins). Core's schema, so the CLI and durable workers read a schedule alike; read by its
 * shape, so a mistake is named at its own path (a union would name only `schedule`).
 */
const schedule = v.lazy((input) =>
  Array.isArray(input)
    ? v.pipe(v.array(rotationScheduleSchema), v.minLength(1, 'expected at least one schedule'))
    : rotationScheduleSchema,
)

const commonStore = {
  label: v.pipe(
    v.string(),
    v.regex(
      LABEL,
      'expected letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit',
    ),
  ),
  baseUrlEnv: v.optional(envName),
  select: v.optional(selector),
  deliver: v.optional(delivery),
  targets: v.optional(targets),
  rotation: v.optional(rotation),
  schedule: v.optional(schedule),
}

const storeOf = <const Vendor extends keyof typeof VENDOR_CREDENTIALS>(vendor: Vendor) =>
  v.strictObject({
    vendor: v.literal(vendor),
    credentials: v.optional(
      credentials(Object.keys(VENDOR_CREDENTIALS[vendor]), CREDENTIAL_SETS[vendor]),
    ),
    ...commonStore,
  })

// One entry per vendor of the registry (`PROVIDERS`), in its order.
const vendorIds = Object.keys(PROVIDERS) as ConfigVendorId[]
const store = v.variant(
  'vendor',
  vendorIds.map((vendor) => storeOf(vendor)),
  `expected one of: ${vendorIds.join(', ')}`,
)

const policy = v.strictObject({
  maxAgeDays: v.optional(wholeNumber(1)),
  unusedDays: v.optional(wholeNumber(1)),
  expiringWithinDays: v.optional(wholeNumber(0)),
  requireLimitOrExpiry: v.optional(v.boolean()),
})

/** `keyway.config.json`, as valibot checks it. The JSON Schema shipped beside it says the same. */
export const configSchema = v.strictObject({
  $schema: v.optional(v.string()),
  journal: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a file path'))),
  history: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a file path'))),
  policy: v.optional(policy),
  failOn: v.optional(v.array(v.picklist(FINDING_KINDS))),
  stores: v.pipe(
    v.array(store),
    v.minLength(1, 'expected at least one store'),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return
      const seen = new Set<string>()
      dataset.value.forEach((entry, index) => {
        if (seen.has(entry.label)) {
          addIssue({
            message: `label "${entry.label}" is used by an earlier store; labels must be unique`,
            path: [
              {
                type: 'array',
                origin: 'value',
                input: dataset.value,
                key: index,
                value: entry,
              },
              {
                type: 'object',
                origin: 'value',
                input: entry,
                key: 'label',
                value: entry.label,
              },
            ],
          })
        }
        seen.add(entry.label)
      })
    }),
  ),
})

/** A parsed, valid `keyway.config.json`. */
export type FleetConfig = v.InferOutput<typeof configSchema>
/** One store of a parsed config. */
export type StoreConfig = FleetConfig['stores'][number]
/** The vendors a config may name. */
export type ConfigVendor = StoreConfig['vendor']
