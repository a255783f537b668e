import { type DeliveryTarget, type KeyStore, type TargetsFor, ValidationError } from '@keyway/core'
import { checkKeyId, storeRules } from '@keyway/core/adapter'
import { rotationWorkflowId } from './workflow-id.js'

/** The longest rotation id core's journal takes: a workflow id must fit it. */
const MAX_ROTATION_ID = 200

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f]/

/** A `ValidationError` of keyway's own settings: `path` names the setting. */
export function invalid(path: string, message: string): ValidationError {
  return new ValidationError({
    provider: 'keyway',
    operation: 'rotate',
    message: `${path} ${message}`,
    issues: [{ path, message }],
  })
}

/**
 * Checks a store label: not empty, no "/" (a policy names a due key as `label/keyId`) and no
 * control characters.
 */
export function checkLabel(label: string): void {
  if (label === '' || label.includes('/') || CONTROL.test(label)) {
    throw invalid('stores', `label "${label}" must be non-empty, without "/" or control characters`)
  }
}

/**
 * Throws `ValidationError` unless `keyId` passes the store's own id check (the one its `get`
 * makes: never a secret the store knows, never quoted) and holds no secret of `everyStore`, `batchId` is a non-empty string and
 * the rotation's workflow id fits core's rotation ids: a rotation that could only fail is
 * refused here, before its workflow starts, takes that id and records it in Postgres.
 */
export function checkEnqueue(
  store: KeyStore,
  batchId: string,
  label: string,
  keyId: string,
  everyStore: readonly KeyStore[] = [],
  attempt = 1,
): void {
  if (typeof batchId !== 'string' || batchId === '') {
    throw invalid('batchId', 'must be a non-empty string')
  }
  checkKeyId(store, keyId, 'rotate')
  // Another store's secret would pass this store's check: that store alone knows it.
  if (everyStore.some((other) => storeRules(other).holdsSecret(keyId))) {
    const problem = 'holds a secret (a credential or a key), not a key id'
    throw new ValidationError({
      provider: store.provider,
      operation: 'rotate',
      message: `${store.provider} rotate: invalid key id (${problem})`,
      issues: [{ path: 'id', message: problem }],
    })
  }
  const id = rotationWorkflowId(batchId, label, keyId, attempt)
  if (id.length > MAX_ROTATION_ID) {
    throw invalid(
      'batchId',
      `with the label and key id makes a rotation id of ${id.length} characters (URL-encoded); at most ${MAX_ROTATION_ID}`,
    )
  }
}

/** A store's `targets` option. */
type StoreTargets = readonly DeliveryTarget[] | TargetsFor | undefined

/** Checks a store's targets as given to `defineKeywayRotations`: a list of unique names. */
export function checkTargets(label: string, targets: StoreTargets): void {
  if (targets === undefined || typeof targets === 'function') return
  if (!Array.isArray(targets) || targets.length === 0) {
    throw invalid(`stores.${label}.targets`, 'must be delivery targets, or a function of the key')
  }
  const names = targets.map((target) => (target as { name?: unknown }).name)
  if (names.some((name) => typeof name !== 'string') || new Set(names).size !== names.length) {
    throw invalid(`stores.${label}.targets`, 'must each have a name, and no two the same')
  }
}

/**
 * The target names an enqueue gave, checked: non-empty names, each once, each a target of
 * the store where its targets are a list (a function's are checked once it gives them).
 */
export function checkTargetNames(
  label: string,
  targets: StoreTargets,
  names: readonly string[] | undefined,
): string[] | undefined {
  if (names === undefined) return undefined
  const path = 'targets'
  if (!Array.isArray(names) || names.length === 0) {
    throw invalid(path, 'must name at least one target')
  }
  if (names.some((name) => typeof name !== 'string' || name === '')) {
    throw invalid(path, 'must be target names')
  }
  if (new Set(names).size !== names.length) throw invalid(path, 'names a target twice')
  if (targets === undefined) throw invalid(path, `store "${label}" has no targets`)
  if (typeof targets !== 'function') {
    const missing = names.filter((name) => !targets.some((target) => target.name === name))
    if (missing.length > 0) {
      throw invalid(path, `store "${label}" has no target named ${missing.join(', ')}`)
    }
  }
  return [...names]
}
