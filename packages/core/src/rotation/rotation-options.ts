import * as v from 'valibot'
import { assertCapability } from '../capabilities.js'
import { ValidationError } from '../errors.js'
import { isPlainObject } from '../plain-object.js'
import { atLeastOne, waitMs } from '../setting-schemas.js'
import { storeRules } from '../store-rules.js'
import { callbackTarget } from '../targets/callback-target.js'
import type { DeliveryTarget } from '../targets/delivery-target.js'
import type { ApiKey, CreatedKey, CreateKeyInput, KeyStore } from '../types.js'
import { summarizeIssues, toFieldIssues } from '../valibot-issues.js'
import { canMint, cannotMintError } from './minting.js'
import { memoryJournal, type RotationJournal, type RotationState } from './rotation-journal.js'

/** How the old key ends a rotation. */
export type RetireMode = 'delete' | 'disable' | 'keep'

/**
 * `'create'`: a new key beside the old one, then retire the old one. `'regenerate'`: the
 * vendor replaces the secret in place (Latitude); the old secret dies at once.
 */
export type RotationStrategy = 'create' | 'regenerate'

/** A state a rotation reached, for progress reporting. Never holds a secret. */
export interface RotationEvent {
  rotationId: string
  provider: string
  keyId: string
  state: RotationState
}

/** A pause in a rotation, told before it begins. Never holds a secret. */
export interface RotationWait {
  rotationId: string
  provider: string
  keyId: string
  /** `'grace'`: before retiring the old key; `'verify'`: between two checks of the new secret. */
  reason: 'grace' | 'verify'
  /** How long the pause lasts, in milliseconds. */
  ms: number
}

/** Checks a new secret; `signal` is the rotation's. */
export type VerifyFunction = (
  created: CreatedKey,
  signal: AbortSignal | undefined,
) => boolean | Promise<boolean>

/** The targets of one key, for rotations of many keys. */
export type TargetsFor = (key: { keyId: string; key: ApiKey | null }) => readonly DeliveryTarget[]

/** Options every rotation takes, one key or many. */
export interface RotationOptions<C extends CreateKeyInput = CreateKeyInput> {
  /** Where progress is kept. Default: in memory (no resume after the process ends). */
  journal?: RotationJournal
  /**
   * Stores the new secret where its users will find it; required unless `dryRun`. Called
   * once per new key, before the old key is touched; the rotation counts the secret as
   * delivered only once it returned. If it throws, the new key is deleted again (a
   * regenerate cannot be undone: see `strategy`).
   */
  deliver?: (created: CreatedKey) => void | Promise<void>
  /**
   * Where the new secret goes and its consumers read it (see `DeliveryTarget`). Each target
   * is written, propagated and confirmed, every step journalled; the old key is retired only
   * after every target confirmed. With targets, the new secret is verified before any target
   * is written, and a target that fails leaves the new key in place (it is never deleted once
   * a target may hold it) and the old key untouched: the error's `deliveries` say which
   * target holds which key, and running the rotation again finishes the rest. A `deliver`
   * given beside targets is one more target (named `'deliver'`). Required unless `deliver`
   * or `dryRun` is given. For many keys, a function gives each key its own targets (a key
   * it gives none is delivered through `deliver`).
   */
  targets?: readonly DeliveryTarget[] | TargetsFor
  /**
   * Checks the new secret. Default: the store's `verify` where it has one, else no check.
   * `false` skips it. Polled, since a new key may take a moment to work everywhere.
   */
  verify?: false | VerifyFunction
  /** Verification tries before giving up; a whole number of at least 1. Default `5`. */
  verifyAttempts?: number
  /** Wait between verification tries, in ms. Default `1000`. */
  verifyIntervalMs?: number
  /** What happens to the old key: `'delete'` (default), `'disable'` or `'keep'`. */
  retire?: RetireMode
  /**
   * Wait between verification and retiring, in ms, so caches pick up the new key. A batch
   * waits it once for all its keys. Default `0`.
   */
  graceMs?: number
  /**
   * Allow rotating a key that may be the store's own credential (see
   * `KeyStore.credentialKeyIds`; a store that cannot tell counts every key): the store then
   * switches to the new key and checks that it works before the old one is retired.
   * Default `false`: such a key is skipped, with the reason.
   */
  allowSelf?: boolean
  /**
   * Rotate a key although it is disabled, its successor a working key in its place: for a key
   * disabled on purpose because its secret leaked (see `revokeLeakedKey`). Default `false`: a
   * disabled key is skipped, since its successor would widen what works.
   */
  replaceDisabled?: boolean
  /**
   * `'create'` (default): a new key with the old key's settings beside the old one, then
   * retire the old one. `'regenerate'`: the vendor replaces the secret in place (Latitude):
   * the old secret dies at once, nothing is deleted, and a failed delivery cannot be undone.
   */
  strategy?: RotationStrategy
  /**
   * Overrides for the new key, on top of `store.successorInput(oldKey)` (every setting the
   * old key has). Only with `strategy: 'create'`. An entry set to `undefined` overrides
   * nothing: the old key's setting is kept (lift a restriction with the field's explicit
   * "none" value, such as `null`, instead).
   */
  input?: Partial<C>
  /** Stops the rotation; an interrupted rotation resumes when run again. */
  signal?: AbortSignal
  /** Told each state a rotation reaches. Plain data; never a secret. */
  onStep?: (event: RotationEvent) => void
  /** Told before each pause (grace period, between verification tries). */
  onWait?: (wait: RotationWait) => void
  /** Plan only: read what would be done and return it; nothing is written anywhere. */
  dryRun?: boolean
}

/** Every rotation option with its default filled in. */
export interface RotationSettings<C extends CreateKeyInput = CreateKeyInput> {
  journal: RotationJournal
  deliver: (created: CreatedKey) => void | Promise<void>
  /**
   * The targets of a key, checked, with a `deliver` given beside them as one more; `[]`
   * where the key has none (it is delivered through `deliver`). Throws a `ValidationError`
   * for targets that are not targets or share a name, before anything is written.
   */
  targetsFor: (keyId: string, key: ApiKey | null) => readonly DeliveryTarget[]
  verify: false | VerifyFunction | undefined
  verifyAttempts: number
  verifyIntervalMs: number
  retire: RetireMode
  graceMs: number
  allowSelf: boolean
  replaceDisabled: boolean
  strategy: RotationStrategy
  input: Partial<C>
  signal: AbortSignal | undefined
  onStep: ((event: RotationEvent) => void) | undefined
  onWait: ((wait: RotationWait) => void) | undefined
  dryRun: boolean
}

const fn = v.function()
/** A `RotationJournal`: an object with read, write, list, readBatch and writeBatch. */
export const journalSchema = v.custom<RotationJournal>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['read', 'write', 'list', 'readBatch', 'writeBatch'].every(
      (method) => typeof (value as Record<string, unknown>)[method] === 'function',
    ),
  'expected a journal (memoryJournal(), fileJournal(path) or one with read, write, list, readBatch, writeBatch)',
)

/** An id a caller gives to name a rotation or a batch: printable text, at most 200 characters. */
export const rotationIdSchema = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(200, 'at most 200 characters'),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  v.check((text) => !/[\u0000-\u001f\u007f]/.test(text), 'must not contain control characters'),
)

/** The fields of `RotationOptions`, for the schemas of `rotateKey` and `rotateKeys`. */
export const rotationOptionEntries = {
  journal: v.optional(journalSchema),
  deliver: v.optional(fn),
  targets: v.optional(
    v.custom<unknown>(
      (value) => typeof value === 'function' || Array.isArray(value),
      'expected delivery targets, or a function of the key that gives them',
    ),
  ),
  verify: v.optional(v.union([v.literal(false), fn])),
  verifyAttempts: v.optional(atLeastOne),
  verifyIntervalMs: v.optional(waitMs),
  retire: v.optional(v.picklist(['delete', 'disable', 'keep'])),
  graceMs: v.optional(waitMs),
  allowSelf: v.optional(v.boolean()),
  replaceDisabled: v.optional(v.boolean()),
  strategy: v.optional(v.picklist(['create', 'regenerate'])),
  input: v.optional(v.custom<Record<string, unknown>>(isPlainObject, 'expected a plain object')),
  signal: v.optional(v.instance(AbortSignal)),
  onStep: v.optional(fn),
  onWait: v.optional(fn),
  dryRun: v.optional(v.boolean()),
}

/**
 * Checks rotation options against `schema` and the store's capabilities before anything is
 * sent, and fills in the defaults. A bad option is a `ValidationError` naming it; a retire
 * mode or strategy the vendor lacks is an `UnsupportedOperationError`, and so is a rotation
 * at a store that cannot create keys (a dry run plans each key as skipped instead). The keys
 * named (`keyId`, `keyIds`) and `input` are checked by the store's own rules (see
 * `storeRules`), so every entry point refuses what the store would refuse, before the old key
 * is read.
 */
export function resolveRotationOptions<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: unknown,
  schema: v.GenericSchema,
): RotationSettings<C> {
  const context = { provider: store.provider, operation: 'rotate' }
  const invalid = (issues: Array<{ path: string; message: string }>) =>
    new ValidationError({
      ...context,
      message: `${store.provider} rotate: invalid option (${summarizeIssues(issues, 'options')})`,
      issues,
    })
  if (!isPlainObject(options)) throw invalid([{ path: '', message: 'expected a plain object' }])
  const parsed = v.safeParse(schema, options)
  if (!parsed.success) throw invalid(toFieldIssues(parsed.issues))
  const given = options as RotationOptions<C>
  if (Array.isArray(given.targets)) {
    const targets = v.safeParse(targetListSchema(), given.targets)
    if (!targets.success) {
      throw invalid(
        toFieldIssues(targets.issues).map((issue) => ({
          ...issue,
          path: issue.path === '' ? 'targets' : `targets.${issue.path}`,
        })),
      )
    }
  }
  const strategy = given.strategy ?? 'create'
  const dryRun = given.dryRun ?? false
  const hasTargets =
    typeof given.targets === 'function' || (given.targets !== undefined && given.targets.length > 0)
  if (given.deliver === undefined && !hasTargets && !dryRun) {
    throw invalid([
      {
        path: 'deliver',
        message: 'required (or targets): a function that stores the new secret',
      },
    ])
  }
  if (strategy === 'regenerate') {
    const notWithRegenerate = (['input', 'retire', 'graceMs'] as const).filter(
      (field) => given[field] !== undefined && !(field === 'graceMs' && given.graceMs === 0),
    )
    if (notWithRegenerate.length > 0) {
      throw invalid(
        notWithRegenerate.map((field) => ({
          path: field,
          message:
            "does not apply to strategy 'regenerate' (the key keeps its settings and the old secret dies in place)",
        })),
      )
    }
    assertCapability(store.capabilities.regenerate, 'regenerate', context)
  }
  const retire = given.retire ?? 'delete'
  if (retire === 'disable') assertCapability(store.capabilities.disable, 'disable', context)
  const rules = storeRules(store)
  const named = options as {
    keyId?: string
    keyIds?: readonly string[]
    rotationId?: string
    batchId?: string
  }
  for (const keyId of named.keyIds ?? (named.keyId === undefined ? [] : [named.keyId])) {
    rules.checkId(keyId, 'rotate')
  }
  // A rotation's or batch's name is journalled and quoted: it must not be a secret.
  const secretNames = (['rotationId', 'batchId'] as const).filter((field) => {
    const name = named[field]
    return typeof name === 'string' && rules.holdsSecret(name)
  })
  if (secretNames.length > 0) {
    throw invalid(
      secretNames.map((path) => ({ path, message: 'holds a secret (a credential or a key)' })),
    )
  }
  const input = definedEntries(given.input ?? {})
  // The overrides alone, as a create would take them: the carried settings are the vendor's own.
  if (strategy === 'create' && Object.keys(input).length > 0) {
    rules.checkCreateInput(input, 'rotate')
  }
  // Ids and input first: a bad one is refused as such at every store, minting or not.
  const mints = canMint(store as KeyStore<never>, strategy)
  if (!mints && !dryRun) throw cannotMintError(store as KeyStore<never>)
  // Where no key can be made, nothing is retired: the dry run's plans say why per key.
  if (retire === 'delete' && mints) {
    assertCapability(store.capabilities.deleted !== false, 'delete', context)
  }
  return {
    journal: given.journal ?? memoryJournal(),
    deliver: given.deliver ?? (() => {}),
    targetsFor: targetsResolver(store.provider, given.targets, given.deliver),
    verify: given.verify,
    verifyAttempts: given.verifyAttempts ?? 5,
    verifyIntervalMs: given.verifyIntervalMs ?? 1000,
    retire,
    graceMs: given.graceMs ?? 0,
    allowSelf: given.allowSelf ?? false,
    replaceDisabled: given.replaceDisabled ?? false,
    strategy,
    input,
    signal: given.signal,
    onStep: given.onStep,
    onWait: given.onWait,
    dryRun,
  }
}

/** A list of targets with unique names. */
function targetListSchema() {
  return v.pipe(
    v.array(
      v.custom<DeliveryTarget>(
        isTarget,
        'expected a delivery target (name, description, write, confirm)',
      ),
    ),
    v.check(
      (targets) => new Set(targets.map((target) => target.name)).size === targets.length,
      'target names must be unique',
    ),
  )
}

/** `RotationSettings.targetsFor` from the `targets` and `deliver` options. */
function targetsResolver(
  provider: string,
  targets: RotationOptions['targets'],
  deliver: RotationOptions['deliver'],
): RotationSettings['targetsFor'] {
  const callback = deliver === undefined ? [] : [callbackTarget(deliver)]
  if (targets === undefined || (Array.isArray(targets) && targets.length === 0)) return () => []
  if (Array.isArray(targets)) {
    const list = [...(targets as readonly DeliveryTarget[]), ...callback]
    return () => list
  }
  const given = targets as TargetsFor
  return (keyId, key) => {
    const list = given({ keyId, key })
    const parsed = v.safeParse(targetListSchema(), list)
    if (!parsed.success) {
      const issues = toFieldIssues(parsed.issues).map((issue) => ({
        ...issue,
        path: `targets(${keyId})${issue.path === '' ? '' : `.${issue.path}`}`,
      }))
      throw new ValidationError({
        provider,
        operation: 'rotate',
        message: `${provider} rotate: invalid option (${summarizeIssues(issues, 'options')})`,
        issues,
      })
    }
    if (list.length === 0 && deliver === undefined) {
      throw new ValidationError({
        provider,
        operation: 'rotate',
        message: `${provider} rotate ${keyId}: no target for this key, and no deliver`,
        issues: [
          { path: 'targets', message: `gives no target for key ${keyId}, and no deliver is given` },
        ],
      })
    }
    return list.length === 0 ? [] : [...list, ...callback]
  }
}

/** A target's name: printable, at most 200 characters (it keys the journal). */
const targetName = rotationIdSchema

function isTarget(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const target = value as Partial<DeliveryTarget>
  return (
    v.is(targetName, target.name) &&
    typeof target.write === 'function' &&
    typeof target.confirm === 'function' &&
    (target.propagate === undefined || typeof target.propagate === 'function') &&
    typeof target.description === 'object' &&
    target.description !== null &&
    (target.confirmWithinMs === undefined ||
      (Number.isSafeInteger(target.confirmWithinMs) && target.confirmWithinMs > 0))
  )
}

/**
 * The overrides that override something: an entry left `undefined` (an unset option passed
 * along) would otherwise replace the old key's setting with nothing and drop a restriction.
 */
function definedEntries<T extends object>(input: T): T {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as T
}
