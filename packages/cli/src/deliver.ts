import {
  type CreatedKey,
  createCommandTarget,
  createDotenvTarget,
  type DeliveryTarget,
  type TargetContext,
} from '@keyway/core'
import { UsageError } from './usage-error.js'

export type Deliver = (created: CreatedKey) => Promise<void>

/** How a delivery target names and runs things; every field has a default. */
export interface DeliveryOptions {
  /**
   * The variable template a key's secret is stored under (`--var-name`, or a config store's
   * `deliver.variable`): `{PROVIDER}`, `{NAME}`, `{ID}`, and `{LABEL}` when `label` is given.
   * Default {@link DEFAULT_VAR_NAME}.
   */
  varName?: string
  /** The store's label in a config file: the value of `{LABEL}`. */
  label?: string
  /** Extra env vars for an `exec:` command. */
  env?: Record<string, string>
  /** Folder an `exec:` command runs in. Default: the current one. */
  cwd?: string
  /** The run's dotenv files, shared between the stores of a config. Default: this target's own. */
  files?: DotenvFiles
}

/**
 * Where `--deliver-to` sends each new secret: `exec:<command>` pipes it to a command's
 * stdin (with KEYWAY_PROVIDER, KEYWAY_KEY_ID, KEYWAY_KEY_NAME and KEYWAY_VAR_NAME set);
 * anything else is a dotenv file, where the key's variable (named by the `varName`
 * template) is replaced or added. A second key written to a variable this run already
 * filled is refused: the first key's new secret would be lost while its old key is retired.
 */
export function deliveryTarget(
  target: string,
  env: Record<string, string | undefined>,
  options: DeliveryOptions = {},
): Deliver {
  const template = options.varName ?? DEFAULT_VAR_NAME
  const label = options.label
  if (target.startsWith('exec:')) {
    const command = target.slice('exec:'.length).trim()
    if (command === '') throw new UsageError('--deliver-to exec: needs a command')
    checkVarName(template, label !== undefined)
    return (created) =>
      deliverThrough(
        createCommandTarget({
          command,
          env: { ...env, ...options.env, KEYWAY_VAR_NAME: envName(created, template, label) },
          ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        }),
        created,
      )
  }
  if (target.trim() === '') throw new UsageError('--deliver-to needs a file or exec:<command>')
  checkVarName(template, label !== undefined)
  // One file, many keys, maybe of several stores: writes go one at a time, and each variable
  // remembers which key of which store this run wrote to it. Names are not unique at a vendor
  // and ids repeat across accounts: a second key written over the first would lose the first
  // one's new secret while its old key is retired.
  const files = options.files ?? new Map()
  let file = files.get(target)
  if (file === undefined) {
    file = { queue: Promise.resolve(), writtenBy: new Map() }
    files.set(target, file)
  }
  const shared = file
  const holderOf = (id: string) => (label === undefined ? `key ${id}` : `key ${id} of ${label}`)
  return (created) => {
    const name = envName(created, template, label)
    const holder = shared.writtenBy.get(name)
    const self = holderOf(created.key.id)
    if (holder !== undefined && holder !== self)
      return Promise.reject(
        new UsageError(
          `${name} in ${target} already holds the new secret of ${holder}: ${self} was not written over it`,
          'put {ID} or {LABEL} in the variable template, give the keys distinct names, or rotate them one at a time',
        ),
      )
    shared.writtenBy.set(name, self)
    const next = shared.queue.then(() =>
      deliverThrough(createDotenvTarget({ path: target, variable: name }), created),
    )
    shared.queue = next.catch(() => {})
    return next
  }
}

/**
 * The dotenv files of one run, by path, shared by every store that delivers to them: one
 * write queue per file, and which key of which store each variable was given.
 */
export type DotenvFiles = Map<string, { queue: Promise<void>; writtenBy: Map<string, string> }>

/** The default `--var-name`: `OPENROUTER_CI_DEPLOY` for OpenRouter's key "ci-deploy". */
export const DEFAULT_VAR_NAME = '{PROVIDER}_{NAME}'

const PLACEHOLDER = /\{([A-Z]+)\}/g
const PLACEHOLDERS = ['PROVIDER', 'NAME', 'ID']

/** Refuses a template with an unknown placeholder or characters no variable name has. */
function checkVarName(template: string, labelled: boolean): void {
  const known = labelled ? [...PLACEHOLDERS, 'LABEL'] : PLACEHOLDERS
  for (const [, placeholder] of template.matchAll(PLACEHOLDER))
    if (!known.includes(placeholder as string))
      throw new UsageError(
        `--var-name has an unknown placeholder {${placeholder}}`,
        'use {PROVIDER}, {NAME} (the key name, or its id without one) and {ID}',
      )
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(template.replace(PLACEHOLDER, 'X')))
    throw new UsageError(
      `--var-name "${template}" does not make a variable name`,
      'letters, digits and _ around {PROVIDER}, {NAME} and {ID}, e.g. OPENROUTER_{NAME}',
    )
}

/** What a variable template is filled from: a key, or a key as a rotation plan shows it. */
export interface VariableSource {
  provider: string
  id: string
  name: string | null
}

/**
 * The variable a key's secret is stored under: the template with each placeholder replaced
 * by the value in upper snake case (`{NAME}` falls back to the id for a key without a name;
 * `{LABEL}` is the config store's label).
 */
export function envName(
  created: CreatedKey,
  template: string = DEFAULT_VAR_NAME,
  label?: string,
): string {
  return variableOf(created.key, template, label)
}

/** {@link envName} for a key that is not created yet (a plan's entry). */
export function variableOf(
  key: VariableSource,
  template: string = DEFAULT_VAR_NAME,
  label?: string,
): string {
  const values: Record<string, string> = {
    PROVIDER: key.provider,
    NAME: key.name ?? key.id,
    ID: key.id,
    LABEL: label ?? '',
  }
  return template.replace(PLACEHOLDER, (_, placeholder: string) =>
    upperSnake(values[placeholder] ?? ''),
  )
}

/**
 * The variable names a template can make for one store, as a glob (`*` for the key's name or
 * id): two stores writing one file whose globs cannot overlap never share a variable.
 */
export function variablePattern(
  template: string = DEFAULT_VAR_NAME,
  provider: string,
  label?: string,
): string {
  const fixed: Record<string, string> = { PROVIDER: provider, LABEL: label ?? '' }
  return template.replace(PLACEHOLDER, (_, placeholder: string) => {
    const value = fixed[placeholder]
    return value === undefined ? '*' : upperSnake(value)
  })
}

function upperSnake(value: string): string {
  return value
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
}

/**
 * The variables two or more of these keys would share in a dotenv target, each with the
 * keys' ids: a plan with such a clash is refused before anything is written.
 */
export function sharedVariables(
  keys: readonly VariableSource[],
  template: string = DEFAULT_VAR_NAME,
  label?: string,
): Array<[variable: string, ids: string[]]> {
  const byVariable = new Map<string, string[]>()
  for (const key of keys) {
    const variable = variableOf(key, template, label)
    byVariable.set(variable, [...(byVariable.get(variable) ?? []), key.id])
  }
  return [...byVariable].filter(([, ids]) => ids.length > 1)
}

/**
 * Delivers one secret through a core delivery target, as the `deliver` callback of a rotation:
 * its write, and its confirm (the dotenv file read back; a command's exit status).
 */
async function deliverThrough(target: DeliveryTarget, created: CreatedKey): Promise<void> {
  const context: TargetContext = {
    rotationId: '',
    provider: created.key.provider,
    oldKeyId: '',
    newKeyId: created.key.id,
    writeToken: '',
    receipt: {},
  }
  await target.write(created, context)
  await target.confirm({
    ...context,
    deadline: Date.now() + (target.confirmWithinMs ?? 10_000),
    created,
  })
}
