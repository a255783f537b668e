import { rotationScheduleSchema, scheduleKeysSchema } from '@keyway/core/adapter'
import { type ConversionConfig, type JsonSchema, toJsonSchema } from '@valibot/to-json-schema'
import type * as v from 'valibot'
import { CONFIG_SCHEMA_PARTS, configSchema } from './config-schema.js'
import { type JsonSchemaHint, jsonSchemaHint } from './json-schema-hints.js'

/**
 * `keyway.config.schema.json`, made from the valibot schema the CLI checks a config with
 * (`configSchema`): the same fields, types, patterns and descriptions; each check valibot
 * runs as a function is said by the hint written beside it (`withJsonSchema`), or named as
 * keyway's alone. Run `pnpm schema` in this package to write the file; a test fails when the
 * file differs from what this returns.
 */
export function configJsonSchema(): JsonSchema {
  return convert(configSchema)
}

/** Core's parts the config holds, named once: what a `like` hint may refer to. */
const CORE_PARTS = { schedule: rotationScheduleSchema } as unknown as Definitions

type Definitions = Record<string, v.GenericSchema>

const CONVERSION: ConversionConfig = {
  target: 'draft-07',
  typeMode: 'input',
  definitions: { ...(CONFIG_SCHEMA_PARTS as unknown as Definitions), ...CORE_PARTS },
  overrideAction: ({ valibotAction, jsonSchema }) => withHint(jsonSchema, hintOf(valibotAction)),
  overrideSchema: ({ valibotSchema, jsonSchema }) => {
    const hint = hintOf(valibotSchema)
    if (valibotSchema.type === 'variant') {
      const options = byDiscriminator((valibotSchema as unknown as { key: string }).key, jsonSchema)
      return withHint(options, hint) ?? options
    }
    // An object with no required field says nothing with `"required": []`.
    const { required, ...rest } = jsonSchema
    const tidy = Array.isArray(required) && required.length === 0 ? rest : undefined
    return withHint(tidy ?? jsonSchema, hint) ?? tidy
  },
}

function convert(schema: v.GenericSchema, definitions?: Definitions): JsonSchema {
  return toJsonSchema(
    schema,
    definitions === undefined ? CONVERSION : { ...CONVERSION, definitions },
  )
}

/**
 * Core's schedule (`rotationScheduleSchema`), whose checks are functions: their JSON Schema,
 * and the descriptions editors show. Core's tests hold the rules; the config's tests run the
 * same values through both.
 */
const scheduleObject = rotationScheduleSchema.pipe[0]
const LENGTH = { json: { pattern: '^[1-9][0-9]{0,4}[mhdw]$' } }
const CORE_HINTS = new Map<object, JsonSchemaHint>([
  [scheduleObject.entries.every.pipe[1], LENGTH],
  [scheduleObject.entries.window.wrapped.pipe[1], LENGTH],
  [scheduleObject.entries.lifetime.wrapped.pipe[1], LENGTH],
  [
    scheduleObject.entries.at.wrapped.pipe[1],
    {
      json: {
        pattern: '^([01][0-9]|2[0-3]):([0-5][0-9])(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$',
      },
    },
  ],
  [
    rotationScheduleSchema.pipe[1],
    {
      json: {
        dependencies: { window: ['at'] },
        $comment:
          'keyway also checks: a window at most 24h and at most "every"; a lifetime longer than "every" and the window',
      },
    },
  ],
  [
    scheduleObject,
    {
      json: {
        description: 'When the keys it covers are rotated.',
        properties: {
          keys: {
            description:
              'Which keys the schedule covers; every given field must match. None given = every key the store manages.',
          },
          every: {
            description:
              'How long after its last rotation (or creation) a key is due: a whole number and m, h, d or w, e.g. "30d".',
          },
          at: {
            description:
              'The time of day a rotation window opens, with its zone, e.g. "03:00Z". A due key is rotated only inside a window. Default: no window.',
          },
          window: {
            description:
              'How long each window stays open (needs at; at most 24h and at most every). Default 2h.',
          },
          lifetime: {
            description:
              'Each successor expires this long after it is made (vendors with expiry); longer than every plus the window, e.g. "45d".',
          },
        },
      },
    },
  ],
  [
    scheduleKeysSchema,
    {
      json: {
        properties: {
          name: {
            description: "Glob on the key's name (* any run, ? one character), or the name itself.",
          },
          ids: {
            description:
              'These key ids (a created successor has a new id: fits keys regenerated in place).',
          },
          metadata: { description: 'Labels the key carries, each value exactly.' },
        },
      },
    },
  ],
])

function hintOf(item: object): JsonSchemaHint | undefined {
  return jsonSchemaHint(item) ?? CORE_HINTS.get(item)
}

/**
 * The JSON Schema with the hint's keywords: `required` lists join, `properties` gain keywords,
 * a keyword already set is added under `allOf`. `undefined` (the converter's own result, or
 * its errors thrown) where there is no hint.
 */
function withHint(
  jsonSchema: JsonSchema,
  hint: JsonSchemaHint | undefined,
): JsonSchema | undefined {
  if (hint === undefined) return undefined
  if ('like' in hint) {
    const { $schema: _schema, $defs: _defs, ...like } = convert(hint.like, CORE_PARTS)
    return like
  }
  if ('keywayOnly' in hint)
    return { ...jsonSchema, $comment: `keyway also checks: ${hint.keywayOnly}` }
  const keywords = 'refuses' in hint ? { not: { anyOf: hint.refuses.map(refused) } } : hint.json
  const merged: Record<string, unknown> = { ...jsonSchema }
  for (const [keyword, value] of Object.entries(keywords)) {
    const given = merged[keyword]
    if (given === undefined) merged[keyword] = value
    else if (keyword === 'required')
      merged.required = [...new Set([...(given as string[]), ...(value as string[])])]
    else if (keyword === 'properties') {
      const properties = { ...(given as Record<string, Record<string, unknown>>) }
      for (const [name, more] of Object.entries(value as Record<string, object>))
        properties[name] = { ...properties[name], ...more }
      merged.properties = properties
    } else merged.allOf = [...((merged.allOf as unknown[]) ?? []), { [keyword]: value }]
  }
  return merged as JsonSchema
}

/** A secret's shape the value must not have, as a JSON Schema pattern (which has no flags). */
function refused(shape: RegExp): JsonSchema {
  if (shape.flags.replace('i', '') !== '')
    throw new Error(`a secret pattern with flags other than "i" cannot be said: /${shape.source}/`)
  return { pattern: shape.flags.includes('i') ? caseless(shape.source) : shape.source }
}

/** A regex source that matches letters in either case: `a` → `[aA]`, `[a-f]` → `[a-fA-F]`. */
export function caseless(source: string): string {
  let out = ''
  let inClass = false
  for (let index = 0; index < source.length; index++) {
    const char = source[index] as string
    if (char === '\\') {
      out += char + (source[++index] ?? '')
      continue
    }
    const letter = /[a-z]/i.test(char)
    if (!inClass) {
      if (char === '[') inClass = true
      out += letter ? `[${char.toLowerCase()}${char.toUpperCase()}]` : char
      continue
    }
    if (char === ']') inClass = false
    if (!letter) {
      out += char
      continue
    }
    const end = source[index + 2] ?? ''
    const range = source[index + 1] === '-' && /[a-z]/i.test(end)
    const part = range ? `${char}-${end}` : char
    if (range) index += 2
    out += part.toLowerCase() + part.toUpperCase()
  }
  return out
}

/**
 * A valibot variant (one object per `kind`, per `vendor`) as editors read it best: the
 * discriminator's values as an enum, and each option applied when its value is given.
 * Accepts exactly what the converter's `oneOf` accepts.
 */
function byDiscriminator(key: string, jsonSchema: JsonSchema): JsonSchema {
  const { oneOf, ...rest } = jsonSchema as { oneOf: JsonSchema[] }
  const values = oneOf.map(
    (option) =>
      (option as { properties: Record<string, { const: string }> }).properties[key]?.const,
  )
  return {
    ...rest,
    type: 'object',
    required: [key],
    properties: { [key]: { enum: values } },
    allOf: oneOf.map((option, index) => ({
      if: { properties: { [key]: { const: values[index] } }, required: [key] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's own keyword.
      then: option,
    })),
  } as JsonSchema
}
