import { rotationScheduleSchema, storeSchedulesSchema } from '@keyway/core/adapter'
import * as v from 'valibot'
import { looksLikeSecret, PROVIDERS, SECRET_PATTERNS } from '../providers.js'
import { withJsonSchema } from './json-schema-hints.js'
import {
  envField,
  nonBlank,
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
  withJsonSchema(
    v.check(
      (value: string) => !looksLikeSecret(value),
      'looks like a credential itself: give the NAME of the env var that holds it (and replace that credential if this file was shared)',
    ),
    { refuses: SECRET_PATTERNS },
  ),
  v.regex(ENV_NAME, 'expected the name of an env var (letters, digits, _)'),
  v.description(
    'The NAME of an env var (never a credential itself: a value shaped like one is refused).',
  ),
)

/** A field naming an env var, if given, with what the env var holds. */
const envNameField = (description: string) =>
  v.pipe(v.optional(envName), v.description(description))

const wholeNumber = (minimum: number, description: string) =>
  v.pipe(
    v.number(),
    v.integer(`expected a whole number of at least ${minimum}`),
    v.minValue(minimum, `expected a whole number of at least ${minimum}`),
    v.description(description),
  )

/** The env vars holding a vendor's credential settings; one set of them must be complete. */
const credentials = (
  title: string,
  defaults: Readonly<Record<string, string>>,
  sets: readonly string[][],
) =>
  v.pipe(
    v.strictObject(
      Object.fromEntries(
        Object.entries(defaults).map(([name, env]) => [
          name,
          envNameField(`Env var holding ${name} (default ${env}).`),
        ]),
      ),
    ),
    withJsonSchema(
      v.check(
        (given: Readonly<Record<string, string | undefined>>) =>
          sets.some((set) => set.every((name) => given[name] !== undefined)),
        `needs ${sets.map((set) => set.join(' and ')).join(', or ')}`,
      ),
      {
        json:
          sets.length === 1
            ? { required: sets[0] }
            : { anyOf: sets.map((set) => ({ required: set })) },
      },
    ),
    v.description(
      `Setting name -> the env var that holds it, for ${title}. Default: ${Object.values(defaults).join(', ')}.`,
    ),
  )

const selector = v.pipe(
  v.strictObject({
    name: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1, 'expected a non-empty glob'),
        v.description("Glob on the key's name: * any run, ? one character."),
      ),
    ),
    olderThanDays: v.optional(wholeNumber(0, 'Only keys created at least this many days ago.')),
    status: v.optional(
      v.pipe(v.picklist(['active', 'disabled', 'any']), v.description('Default active.')),
    ),
    workspace: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1, 'expected a workspace id'),
        v.description(
          'Only keys of this workspace (OpenRouter: the workspace id that keyway list shows).',
        ),
      ),
    ),
  }),
  v.description('Which keys apply rotates; none given = every key.'),
)

const delivery = v.pipe(
  v.strictObject({
    to: v.pipe(
      nonBlank('expected a dotenv file path or exec:<command>'),
      withJsonSchema(
        v.check(
          (target: string) => !/^exec:\s*$/.test(target),
          'exec: needs a command, e.g. "exec:vault kv put secret/app key=-"',
        ),
        // Checked once trimmed: here on the value as written.
        { json: { not: { pattern: '^\\s*exec:\\s*$' } } },
      ),
      v.description(
        'A dotenv file (relative to this file) or exec:<command> (the secret on stdin).',
      ),
    ),
    variable: v.optional(
      v.pipe(
        v.string(),
        v.regex(
          VARIABLE_TEMPLATE,
          'expected an env var name with {NAME}, {ID}, {LABEL} or {PROVIDER} placeholders',
        ),
        v.description(
          "The variable name to write, e.g. OPENROUTER_{NAME}; placeholders {NAME} (the key's name, or id), {ID}, {LABEL}, {PROVIDER}. Default {PROVIDER}_{NAME}.",
        ),
      ),
    ),
  }),
  v.description('Where each new secret goes.'),
)

/** A variable template holding only `placeholders`. */
function templateOf(placeholders: readonly string[]) {
  const any = `\\{(?:${placeholders.join('|')})\\}`
  const named = placeholders.map((name) => `{${name}}`).join(', ')
  return v.pipe(
    v.string(),
    v.regex(
      new RegExp(`^(?:[A-Za-z_]|${any})(?:[A-Za-z0-9_]|${any})*$`),
      `expected an env var name with ${named} placeholders`,
    ),
    v.description(
      `The variable (secret) name the key's new secret is kept under; placeholders ${named}. Default {PROVIDER}_{NAME}.`,
    ),
  )
}

/** One delivery target of a kind: `kind`, which keys, the variable, credentials, the kind's fields. */
function targetOf(id: TargetKindId) {
  const kind = TARGET_KINDS[id] as TargetKind<never>
  const envHelp = (setting: string, env: string) =>
    `Env var holding ${kind.envHelp[setting] ?? setting}. Default ${env}.`
  const entry = v.strictObject({
    kind: v.pipe(v.literal(id), v.description(kind.title)),
    keys: v.optional(targetKeysSchema),
    // A kind that names the variable in its own fields (`key`) takes no template.
    ...(kind.variable === undefined ? { variable: v.optional(templateOf(kind.placeholders)) } : {}),
    ...Object.fromEntries(
      Object.entries({ ...kind.credentials, ...kind.optionalCredentials }).map(([setting, env]) => [
        envField(setting),
        envNameField(envHelp(setting, env)),
      ]),
    ),
    ...(kind.baseUrlEnv === undefined
      ? {}
      : { baseUrlEnv: envNameField(envHelp('baseUrl', kind.baseUrlEnv)) }),
    ...kind.fields,
  })
  // The kind's own check, as JSON Schema says it (keyway's words are better: it runs too).
  const checked = entry as unknown as v.GenericSchema
  return v.pipe(
    kind.checkJsonSchema === undefined
      ? checked
      : withJsonSchema(checked, { json: kind.checkJsonSchema }),
    v.description(kind.description),
  )
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
const targetEntry = v.pipe(
  withJsonSchema(
    v.variant(
      'kind',
      TARGET_KIND_IDS.map(targetOf) as unknown as v.VariantOptions<'kind'>,
      `expected a kind: one of ${TARGET_KIND_IDS.join(', ')}`,
    ),
    {
      json: { properties: { kind: { description: 'Where the secret goes: the kind of target.' } } },
    },
  ),
  v.description(
    'A delivery target: where each new secret of the keys it takes goes. The old key is retired only after every target of the key confirmed.',
  ),
) as unknown as v.GenericSchema<unknown, TargetConfig>

/**
 * `fixedVariableProblem` as JSON Schema says it: a variable without `{` on an entry whose
 * `keys` can take several keys (none given, a name with `*` or `?`, two ids or more).
 */
const SEVERAL_KEYS_ONE_VARIABLE = {
  items: {
    not: {
      required: ['variable'],
      properties: { variable: { pattern: '^[^{]*$' } },
      anyOf: [
        { not: { required: ['keys'] } },
        {
          properties: { keys: { required: ['name'], properties: { name: { pattern: '[*?]' } } } },
        },
        { properties: { keys: { required: ['ids'], properties: { ids: { minItems: 2 } } } } },
      ],
    },
  },
}

const targets = v.pipe(
  v.array(targetEntry),
  withJsonSchema(
    v.rawCheck<TargetConfig[]>(({ dataset, addIssue }) => {
      if (!dataset.typed) return
      dataset.value.forEach((entry, index) => {
        const at = {
          type: 'array',
          origin: 'value',
          input: dataset.value,
          key: index,
          value: entry,
        }
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
    // The kinds' own checks are said on each kind's entry (`checkJsonSchema`).
    { json: SEVERAL_KEYS_ONE_VARIABLE },
  ),
  v.description(
    "Where each key's new secret goes, per store and per key (keys). A store's deliver is one more target.",
  ),
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

const rotation = v.pipe(
  v.strictObject({
    retire: v.optional(
      v.pipe(
        v.picklist(['delete', 'disable', 'keep']),
        v.description('What happens to an old key. Default delete.'),
      ),
    ),
    graceMs: v.optional(
      wholeNumber(
        0,
        'Wait between delivering every new key and retiring the old ones, in ms. Default 0.',
      ),
    ),
    concurrency: v.optional(wholeNumber(1, 'Rotations at once in this store. Default 4.')),
    allowSelf: v.optional(
      v.pipe(
        v.boolean(),
        v.description(
          "Rotate a key that may be the store's own credential too: the store switches to the new key first. Default false: such a key is skipped.",
        ),
      ),
    ),
    expiresIn: v.optional(
      v.pipe(
        v.string(),
        v.regex(LIFETIME, 'expected a number of days, such as "90d"'),
        v.description(
          'Each new key expires this many days after it is made, e.g. "90d". Default: it keeps the old key\'s expiry, and a key due only because it expires soon is skipped.',
        ),
      ),
    ),
    limit: v.optional(
      v.pipe(
        v.nullable(v.pipe(v.number(), v.minValue(0, 'expected 0 or more USD'))),
        v.description(
          "Spending limit in USD of each new key (OpenRouter); null for none. Default: the old key's.",
        ),
      ),
    ),
  }),
  v.description("How the store's keys are rotated and retired."),
)

/**
 * When the store's keys are rotated: one schedule, or a list (the first that covers a key
 * wins). Core's schema, so the CLI and durable workers read a schedule alike; read by its
 * shape, so a mistake is named at its own path (a union would name only `schedule`).
 */
const schedule = v.pipe(
  withJsonSchema(
    v.lazy((input) =>
      Array.isArray(input)
        ? v.pipe(v.array(rotationScheduleSchema), v.minLength(1, 'expected at least one schedule'))
        : rotationScheduleSchema,
    ),
    { like: storeSchedulesSchema },
  ),
  v.description(
    "When apply (run by cron or any scheduler) rotates this store's keys: one schedule, or a list where the first that covers a key wins. A key a schedule covers is rotated by its schedule alone, not by the policy. Needs rotation.retire other than keep.",
  ),
)

const label = v.pipe(
  v.string(),
  v.regex(
    LABEL,
    'expected letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit',
  ),
  v.description('Unique in the file: names the store in output, batch ids and --store.'),
)

const storeOf = <const Vendor extends keyof typeof VENDOR_CREDENTIALS>(vendor: Vendor) => {
  const provider = PROVIDERS[vendor]
  return v.strictObject({
    vendor: v.pipe(v.literal(vendor), v.description(`${provider.title}.`)),
    credentials: v.optional(
      credentials(provider.title, VENDOR_CREDENTIALS[vendor], CREDENTIAL_SETS[vendor]),
    ),
    label,
    baseUrlEnv: envNameField(
      `Env var with the API base URL. Default ${provider.baseUrlEnv}; unset means ${provider.title}'s own.`,
    ),
    select: v.optional(selector),
    deliver: v.optional(delivery),
    targets: v.optional(targets),
    rotation: v.optional(rotation),
    schedule: v.optional(schedule),
  })
}

// One entry per vendor of the registry (`PROVIDERS`), in its order.
const vendorIds = Object.keys(PROVIDERS) as ConfigVendorId[]
const store = v.pipe(
  withJsonSchema(
    v.variant(
      'vendor',
      vendorIds.map((vendor) => storeOf(vendor)),
      `expected one of: ${vendorIds.join(', ')}`,
    ),
    { json: { properties: { vendor: { description: 'The vendor of this account.' } } } },
  ),
  v.description('One account at one vendor: its keys, where their secrets go, how they rotate.'),
)

/** Each store's label used once: JSON Schema cannot say it (`uniqueItems` compares whole items). */
const uniqueLabels = withJsonSchema(
  v.rawCheck<v.InferOutput<typeof store>[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const seen = new Set<string>()
    dataset.value.forEach((entry, index) => {
      if (seen.has(entry.label)) {
        addIssue({
          message: `label "${entry.label}" is used by an earlier store; labels must be unique`,
          path: [
            { type: 'array', origin: 'value', input: dataset.value, key: index, value: entry },
            { type: 'object', origin: 'value', input: entry, key: 'label', value: entry.label },
          ],
        })
      }
      seen.add(entry.label)
    })
  }),
  { keywayOnly: 'each store label is used once' },
)

const policy = v.pipe(
  v.strictObject({
    maxAgeDays: v.optional(
      wholeNumber(1, 'Finding too-old past this age; apply rotates such keys.'),
    ),
    unusedDays: v.optional(
      wholeNumber(1, 'Finding unused when not used (or never used and created) this many days.'),
    ),
    expiringWithinDays: v.optional(
      wholeNumber(
        0,
        'Finding expiring-soon within this many days (expired keys too); apply rotates such keys.',
      ),
    ),
    requireLimitOrExpiry: v.optional(
      v.pipe(
        v.boolean(),
        v.description(
          'Finding no-limit-or-expiry where the vendor has a spending limit or an expiry.',
        ),
      ),
    ),
  }),
  v.description('What audit reports and apply acts on.'),
)

/** `keyway.config.json`, as valibot checks it. `keyway.config.schema.json` is made from it. */
export const configSchema = v.pipe(
  v.strictObject({
    $schema: v.optional(
      v.pipe(v.string(), v.description('The JSON Schema of this file, for editors.')),
    ),
    journal: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1, 'expected a file path'),
        v.description(
          "Rotation journal file, relative to this file. Default fleet-rotations.json in keyway's state folder ($XDG_STATE_HOME/keyway or ~/.local/state/keyway on Linux), never the current folder. KEYWAY_JOURNAL and --journal override it.",
        ),
      ),
    ),
    history: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1, 'expected a file path'),
        v.description(
          "History file (JSON lines, appended, never pruned): every change keyway made at a vendor or delivery target, relative to this file. Default history.jsonl in keyway's state folder. KEYWAY_HISTORY and --history override it.",
        ),
      ),
    ),
    policy: v.optional(policy),
    failOn: v.optional(
      v.pipe(
        v.array(v.picklist(FINDING_KINDS)),
        v.description(
          'Finding kinds that make keyway audit exit with code 8. Default: too-old, unused, expiring-soon, no-limit-or-expiry, disabled. --fail-on and KEYWAY_FAIL_ON override it.',
        ),
      ),
    ),
    stores: v.pipe(
      v.array(store),
      v.minLength(1, 'expected at least one store'),
      uniqueLabels,
      v.description('The accounts keyway manages, each with a label used once in the file.'),
    ),
  }),
  v.title('keyway.config.json'),
  v.description(
    'The stores, selectors, delivery targets and audit policy of `keyway audit`, `keyway plan` and `keyway apply`. Store labels must be unique (checked by keyway).',
  ),
)

/** The parts of the config the JSON Schema names once and refers to (`#/$defs/<name>`). */
export const CONFIG_SCHEMA_PARTS = {
  envName,
  store,
  label,
  select: selector,
  deliver: delivery,
  targets,
  target: targetEntry,
  targetKeys: targetKeysSchema,
  rotation,
  schedules: schedule,
  policy,
} as const

/** A parsed, valid `keyway.config.json`. */
export type FleetConfig = v.InferOutput<typeof configSchema>
/** One store of a parsed config. */
export type StoreConfig = FleetConfig['stores'][number]
/** The vendors a config may name. */
export type ConfigVendor = StoreConfig['vendor']
