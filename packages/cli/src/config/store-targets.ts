import {
  type ApiKey,
  type BaseStoreSettings,
  type CreatedKey,
  type DeliveryTarget,
  KeyStoreError,
  ValidationError,
} from '@keyway/core'
import { matchesSelector } from '@keyway/core/adapter'
import { DEFAULT_VAR_NAME, type VariableSource, variableOf } from '../deliver.js'
import { EXIT } from '../exit-codes.js'
import { ConfigError } from './config-error.js'
import type { StoreConfig, TargetConfig } from './config-schema.js'
import { envField, TARGET_KINDS, type TargetKind } from './target-kinds.js'

type Env = Record<string, string | undefined>

/** What the targets of one run share: one write queue per place, and who wrote each variable. */
export interface TargetRun {
  /** Writes to one place (a dotenv file) go one at a time. */
  queues: Map<string, Promise<unknown>>
  /** `place\nvariable` → the key (and store) whose new secret this run wrote there. */
  writtenBy: Map<string, string>
}

/** A new run's shared state. */
export function targetRun(): TargetRun {
  return { queues: new Map(), writtenBy: new Map() }
}

/** One target entry of a store, opened: its kind, credentials read, and how to make a key's target. */
export interface OpenedTarget {
  config: TargetConfig
  kind: TargetKind<never>
  /** `stores[i].targets[j]` (or `stores[i].deliver`), for errors. */
  path: string
  /** Where its variables live, for the check that no two keys share one; `undefined`: none. */
  place: string | undefined
  /** The variable template. */
  template: string
  /** The target for one key (`null`: the key is gone, after its rotation retired it). */
  targetFor(keyId: string, key: ApiKey | null): DeliveryTarget
  /** The variable a key's secret goes to here, or why it cannot have one. */
  variableFor(key: VariableSource): { variable: string } | { problem: string }
  /** Whether the entry takes this key. */
  takes(keyId: string, key: ApiKey | null): boolean
  /** The entry as a target with a sample variable, for an audit's probe (writes nothing). */
  probe: DeliveryTarget
}

/** What opening a store's targets needs. */
export interface OpenTargetsOptions {
  file: string
  folder: string
  index: number
  env: Env
  settings: Pick<BaseStoreSettings, 'timeoutMs' | 'retry' | 'hooks'>
  run: TargetRun
}

/**
 * The delivery targets a store of the config names: its `targets`, and its `deliver` (a dotenv
 * file or `exec:` command, as one more target). Each entry's env vars are read and its settings
 * checked by its kind's own factory now, before any request: a missing env var is a
 * `ConfigError` (exit 4 for a credential), a bad setting one naming its path.
 */
export function openTargets(store: StoreConfig, options: OpenTargetsOptions): OpenedTarget[] {
  const entries: Array<[TargetConfig, string]> = (store.targets ?? []).map((entry, index) => [
    entry,
    `stores[${options.index}].targets[${index}]`,
  ])
  if (store.deliver !== undefined) {
    const to = store.deliver.to
    const variable =
      store.deliver.variable === undefined ? {} : { variable: store.deliver.variable }
    entries.push([
      to.startsWith('exec:')
        ? { kind: 'exec', command: to.slice('exec:'.length).trim(), ...variable }
        : { kind: 'dotenv', path: to, ...variable },
      `stores[${options.index}].deliver`,
    ])
  }
  return entries.map(([entry, path]) => openTarget(store, entry, path, options))
}

function openTarget(
  store: StoreConfig,
  config: TargetConfig,
  path: string,
  options: OpenTargetsOptions,
): OpenedTarget {
  const kind = TARGET_KINDS[config.kind] as TargetKind<never>
  const entry = config as never
  const missing = (field: string, variable: string, credential: boolean) =>
    new ConfigError(
      options.file,
      `${path}.${field}`,
      `env var ${variable} is not set`,
      `set ${variable}${credential ? ` to the ${kind.title}'s credential` : ''}, or name another env var in "${field}"`,
      credential ? EXIT.authentication : EXIT.failure,
    )
  const credentials: Record<string, string> = {}
  for (const [setting, fallback] of Object.entries(kind.credentials)) {
    const field = envField(setting)
    const variable = (config[field] as string | undefined) ?? fallback
    const value = options.env[variable]
    if (value === undefined || value === '') throw missing(field, variable, true)
    credentials[setting] = value
  }
  const baseUrlVariable = config.baseUrlEnv ?? kind.baseUrlEnv
  const baseUrl =
    baseUrlVariable === undefined ? undefined : options.env[baseUrlVariable] || undefined
  if (
    baseUrl === undefined &&
    baseUrlVariable !== undefined &&
    (config.baseUrlEnv !== undefined || kind.baseUrlRequired === true)
  )
    throw missing('baseUrlEnv', baseUrlVariable, false)
  const needed = new Set(kind.needs?.(entry, baseUrl) ?? [])
  for (const [setting, fallback] of Object.entries(kind.optionalCredentials ?? {})) {
    const field = envField(setting)
    const variable = (config[field] as string | undefined) ?? fallback
    const value = options.env[variable]
    if (value !== undefined && value !== '') credentials[setting] = value
    else if (needed.has(setting) || config[field] !== undefined)
      throw missing(field, variable, true)
  }
  const envOf = (field: string) => {
    const variable = config[field] as string
    const value = options.env[variable]
    if (value === undefined || value === '') throw missing(field, variable, false)
    return value
  }
  // A kind that names the variable itself (a data entry, a field) has it as a fixed template.
  const template = kind.variable?.(entry) ?? config.variable ?? DEFAULT_VAR_NAME
  const label = store.label
  const place = kind.place(entry, options.folder)
  const where = kind.where(entry)
  const fixed = kind.variable?.(entry)
  const variableFor = (key: VariableSource): { variable: string } | { problem: string } => {
    if (fixed !== undefined) return { variable: fixed }
    if (kind.naming === 'replaced' && key.name === null && template.includes('{NAME}'))
      return {
        problem: `key ${key.id} has no name, so {NAME} would be its id and the ${kind.title} would be a new one at every rotation; give this target a fixed "variable" and select the key by "keys" (a metadata label its successors carry over, or its id)`,
      }
    return { variable: variableOf(key, template, label) }
  }
  const make = (variable: string, name: string) =>
    kind.create({
      entry,
      variable,
      name,
      credentials,
      baseUrl,
      envOf,
      folder: options.folder,
      label,
      env: options.env,
      settings: options.settings,
    })
  const name = `${config.kind}:${where}`.slice(0, 200)
  // The factory checks every setting now, with a variable of the template's shape.
  let probe: DeliveryTarget
  try {
    probe = make(
      variableOf({ provider: store.vendor, id: 'KEY', name: 'KEY' }, template, label),
      name,
    )
  } catch (error) {
    if (error instanceof ConfigError) throw error
    const issue = error instanceof ValidationError ? error.issues[0] : undefined
    throw new ConfigError(
      options.file,
      issue === undefined || issue.path === '' ? path : `${path}.${issue.path}`,
      issue?.message ?? (KeyStoreError.is(error) ? error.message : 'cannot be used'),
    )
  }
  const claim = (variable: string, holder: string) => {
    if (place === undefined) return
    const spot = `${place}\n${variable}`
    const earlier = options.run.writtenBy.get(spot)
    if (earlier !== undefined && earlier !== holder)
      throw new ValidationError({
        provider: config.kind,
        operation: 'write',
        message: `${variable} at ${where} already holds the new secret of ${earlier} from this run: ${holder} was not written over it`,
      })
    options.run.writtenBy.set(spot, holder)
  }
  const queued = <T>(work: () => Promise<T>): Promise<T> => {
    if (place === undefined || !place.startsWith('dotenv:')) return work()
    const next = (options.run.queues.get(place) ?? Promise.resolve()).then(work)
    options.run.queues.set(
      place,
      next.catch(() => {}),
    )
    return next
  }
  const takes = (keyId: string, key: ApiKey | null) => {
    const keys = config.keys
    if (keys === undefined) return true
    if (keys.ids !== undefined && !keys.ids.includes(keyId)) return false
    // A key gone after its rotation retired it: only its id can say.
    if (key === null) return keys.name === undefined && keys.metadata === undefined
    if (
      keys.name !== undefined &&
      !matchesSelector(key, { name: keys.name, status: 'any' }, new Date())
    )
      return false
    if (keys.metadata !== undefined)
      for (const [field, value] of Object.entries(keys.metadata))
        if (key.metadata[field] !== value) return false
    return true
  }
  const targetFor = (keyId: string, key: ApiKey | null): DeliveryTarget => {
    const source: VariableSource = {
      provider: key?.provider ?? store.vendor,
      id: keyId,
      name: key?.name ?? null,
    }
    const holder = `key ${keyId} of ${label}`
    if (kind.naming === 'successor') {
      // Named from the new key when it is written, as the dotenv and exec: delivery always were.
      const planned = make(variableOf(source, template, label), name)
      const atWrite = (created: CreatedKey) => make(variableOf(created.key, template, label), name)
      return {
        name,
        description: {
          ...planned.description,
          location: `${where}, variable ${template}`,
        },
        ...(planned.confirmWithinMs === undefined
          ? {}
          : { confirmWithinMs: planned.confirmWithinMs }),
        write: (created, context) => {
          claim(variableOf(created.key, template, label), holder)
          return queued(() => atWrite(created).write(created, context))
        },
        confirm: (context) => atWrite(context.created).confirm(context),
        ...(planned.probe === undefined ? {} : { probe: planned.probe }),
      }
    }
    const named =
      key === null
        ? { problem: `key ${keyId} is gone, so its variable cannot be named` }
        : variableFor(source)
    if ('problem' in named) return refusing(name, config.kind, where, named.problem)
    const target = make(named.variable, name)
    return {
      ...target,
      name,
      description: target.description,
      write: (created, context) => {
        claim(named.variable, holder)
        return target.write(created, context)
      },
    }
  }
  return { config, kind, path, place, template, targetFor, variableFor, takes, probe }
}

/** A target that refuses every step: its variable cannot be named (checked before apply, too). */
function refusing(name: string, kind: string, where: string, problem: string): DeliveryTarget {
  const refuse = () =>
    Promise.reject(
      new ValidationError({ provider: 'config', operation: 'write', message: problem }),
    )
  return {
    name,
    description: {
      kind,
      location: `${where}: ${problem}`,
      propagate: 'nothing',
      confirm: 'nothing',
      cannotConfirm: 'anything: nothing is written here',
    },
    write: refuse,
    confirm: refuse,
  }
}

/**
 * The delivery targets of one key of a store: every entry that takes it. A key gone after its
 * rotation retired it (`null`) gets each entry its id can select; none of their steps run
 * again once every one confirmed.
 */
export function keyTargets(
  opened: readonly OpenedTarget[],
  keyId: string,
  key: ApiKey | null,
): DeliveryTarget[] {
  const chosen = opened.filter((target) => target.takes(keyId, key))
  const list = key === null && chosen.length === 0 ? opened : chosen
  const targets = list.map((target) => target.targetFor(keyId, key))
  // Two entries of one place and kind: names stay unique per key.
  const seen = new Map<string, number>()
  return targets.map((target) => {
    const count = (seen.get(target.name) ?? 0) + 1
    seen.set(target.name, count)
    return count === 1 ? target : { ...target, name: `${target.name}#${count}` }
  })
}
