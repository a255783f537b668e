import { MARKER_SEPARATOR } from '../create-marking.js'
import type { TargetDescription } from '../targets/delivery-target.js'
import type {
  ApiKey,
  CreateKeyInput,
  CredentialKeySetting,
  KeyStore,
  RequestOptions,
} from '../types.js'
import { canMint, cannotMintReason } from './minting.js'
import type { RetireMode, RotationSettings, RotationStrategy } from './rotation-options.js'

/**
 * Whether a key may be the credential the store authenticates with: `'own'` when
 * `credentialKeyIds()` names it (each id it names may be), `'unknown'` when the store cannot
 * tell (it has no `credentialKeyIds`), `'other'` when it is not.
 */
export type CredentialMatch = 'own' | 'unknown' | 'other'

/** What a rotation of one key would do, worked out before anything is written. */
export interface RotationPlan {
  keyId: string
  name: string | null
  createdAt: Date | null
  /** Whole days since the key was made, where the vendor says. */
  ageDays: number | null
  strategy: RotationStrategy
  /** What happens to the old key: `'replaced'` for a regenerate (its secret dies in place). */
  retire: RetireMode | 'replaced'
  /**
   * The new key's create input: every setting carried over from the old key, with the
   * caller's overrides on top. `{}` for a regenerate, which keeps the key as it is.
   */
  input: Record<string, unknown>
  /** What cannot be carried over to the new key, in plain words. */
  warnings: string[]
  /** Whether the key may be the store's own credential. */
  credential: CredentialMatch
  /** Whether the store will switch to the new key before the old one is retired. */
  switchesCredential: boolean
  /**
   * `'rotate'`; `'skip'` with the `reason` and how to proceed; `'done'` for a key an earlier
   * run of the batch rotated.
   */
  action: 'rotate' | 'skip' | 'done'
  /** Why it is skipped, or where a resumed rotation stands. */
  reason?: string
  /**
   * Where the new secret goes: each delivery target, what it writes, propagates and confirms,
   * and what it cannot confirm. `[]` where only a `deliver` callback is given.
   */
  targets: PlannedTarget[]
}

/** A delivery target in a plan: its name and what it does. */
export interface PlannedTarget extends TargetDescription {
  name: string
}

/** A plan with the create input typed for its store. */
export interface KeyPlan<C extends CreateKeyInput> extends RotationPlan {
  successor: C
}

const DAY_MS = 86_400_000

/** Whether `keyId` may be the store's credential, given `credentialKeyIds()` (`undefined`: cannot tell). */
export function credentialMatch(
  keyId: string,
  ownIds: readonly string[] | undefined,
): CredentialMatch {
  if (ownIds === undefined) return 'unknown'
  return ownIds.includes(keyId) ? 'own' : 'other'
}

/** What `planKey` reads beside the store. */
export interface PlanSource {
  keyId: string
  /** The old key as listed, or `null` where it is gone (a resume after retiring). */
  oldKey: ApiKey | null
  /** `credentialKeyIds()`, or `undefined` where the store cannot tell. */
  ownIds: readonly string[] | undefined
  /** Whether to read the successor's input (`false` once the new key exists). Default `true`. */
  withSuccessor?: boolean
}

/**
 * Plans the rotation of a key: the successor's input (`store.successorInput` plus the
 * caller's `input`), what cannot be carried, and whether the key must be skipped: a key the
 * vendor cannot replace side by side (`blocked`) or at a store that cannot create keys, a key
 * that is archived, not active or has expired
 * (its successor would work where it does not; a new expiry lifts the latter: an `expiresAt`
 * in `input`, or one the store plans for the successor, such as a schedule's `lifetime`),
 * or one that may be the store's own credential without
 * `allowSelf`. Reads only.
 */
export async function planKey<C extends CreateKeyInput>(
  store: KeyStore<C>,
  source: PlanSource,
  settings: RotationSettings<C>,
  options: RequestOptions = {},
  now: Date = new Date(),
): Promise<KeyPlan<C>> {
  const { keyId, oldKey, ownIds } = source
  const regenerate = settings.strategy === 'regenerate'
  const mints = canMint(store as KeyStore<never>, settings.strategy)
  const successor =
    regenerate || !mints || oldKey === null || source.withSuccessor === false
      ? undefined
      : await store.successorInput(oldKey, options)
  const carried = withoutMarkerSuffix(successor?.input ?? {})
  const input = { ...carried.input, ...settings.input } as C
  const credential = credentialMatch(keyId, ownIds)
  // Keeping the old key never locks the store out; a regenerate always kills the old secret.
  const endsOldKey = regenerate || settings.retire !== 'keep'
  const guarded = credential !== 'other' && endsOldKey
  const canSwitch = store.useCredential !== undefined
  const plan: KeyPlan<C> = {
    keyId,
    name: oldKey?.name ?? null,
    createdAt: oldKey?.createdAt ?? null,
    ageDays: ageInDays(oldKey?.createdAt ?? null, now),
    strategy: settings.strategy,
    retire: regenerate ? 'replaced' : settings.retire,
    input: { ...input } as Record<string, unknown>,
    warnings: [...(successor?.warnings ?? []), ...carried.warnings],
    credential,
    switchesCredential: guarded && settings.allowSelf && canSwitch,
    action: 'rotate',
    targets: plannedTargets(settings, keyId, oldKey),
    successor: input,
  }
  const skip = (reason: string): KeyPlan<C> => ({
    ...plan,
    switchesCredential: false,
    action: 'skip',
    reason,
  })
  if (!mints) return skip(cannotMintReason(store as KeyStore<never>))
  if (successor?.blocked !== undefined) return skip(successor.blocked)
  if (oldKey?.status === 'archived') {
    return skip(
      `key ${keyId} is archived, which is final: it cannot be rotated, enabled or retired`,
    )
  }
  // A successor is made active: for a key that does not work, that would widen it. An expired
  // key cannot be enabled again: it is rotated only with a new expiry, below.
  if (
    successor !== undefined &&
    oldKey !== null &&
    oldKey.status !== 'active' &&
    oldKey.status !== 'expired' &&
    !(settings.replaceDisabled && oldKey.status === 'disabled')
  ) {
    return skip(
      `key ${keyId} is ${oldKey.status}, and its successor would be a working key in its place; enable it first to rotate it`,
    )
  }
  // A new expiry: the caller's, or one the store plans for the successor (a schedule's
  // lifetime, see `rotationStore`) that is still ahead; the old key's, carried, is not one.
  const expiredAt = pastExpiry(oldKey, now)
  const newExpiry =
    settings.input.expiresAt !== undefined ||
    new Date((input as { expiresAt?: Date | string }).expiresAt ?? Number.NaN).getTime() >
      now.getTime()
  if (successor !== undefined && expiredAt !== undefined && !newExpiry) {
    return skip(
      `key ${keyId} expired at ${expiredAt}, and its successor would be a working key in its place; give the new key an expiresAt to rotate it anyway`,
    )
  }
  if (guarded && !settings.allowSelf)
    return skip(selfReason(keyId, credential, regenerate, store.credentialKeySetting))
  if (guarded && credential === 'own' && !canSwitch) {
    return skip(
      `key ${keyId} may be the credential this store authenticates with, and the store cannot switch to a new key (it has no useCredential), so retiring it could lock the store out`,
    )
  }
  return plan
}

/** A name `createMarker()` could have tagged: `~kw` and 22 digits at its end. */
const MARKER_SUFFIX = new RegExp(`\\${MARKER_SEPARATOR}kw\\d{22}$`)

/**
 * The carried input without a create marker left at the end of the old key's name (a key
 * made by a create that was never settled): carried over, a rerun of that create's rotation
 * would take the successor for its own lost key.
 */
function withoutMarkerSuffix<T extends CreateKeyInput>(input: T): { input: T; warnings: string[] } {
  const name = input.name
  if (typeof name !== 'string' || !MARKER_SUFFIX.test(name)) return { input, warnings: [] }
  const plain = name.replace(MARKER_SUFFIX, '')
  const { name: _tagged, ...rest } = input
  return {
    input: (plain === '' ? rest : { ...rest, name: plain }) as T,
    warnings: [
      `the old key's name ends in a create marker (a create that was never settled); the new key is named "${plain}" without it`,
    ],
  }
}

/**
 * Whether a rotation of many keys chooses `key`: an active key, or an expired one (which
 * `planKey` rotates only when its successor gets a new expiry, and otherwise skips with why).
 */
export function rotatable(key: ApiKey): boolean {
  return key.status === 'active' || key.status === 'expired'
}

/** When the key expired, where its expiry has passed (ISO). */
function pastExpiry(key: ApiKey | null, now: Date): string | undefined {
  if (key === null) return undefined
  // A key that went through JSON holds its dates as strings.
  const time = key.expiresAt === null ? Number.NaN : new Date(key.expiresAt).getTime()
  if (!Number.isNaN(time) && time <= now.getTime()) return new Date(time).toISOString()
  // The vendor says it expired, though not when (or by its own clock).
  return key.status === 'expired' ? 'a time the vendor does not give' : undefined
}

function selfReason(
  keyId: string,
  credential: CredentialMatch,
  regenerate: boolean,
  naming: CredentialKeySetting | undefined,
): string {
  const why =
    credential === 'own'
      ? `key ${keyId} may be the credential this store authenticates with (the store's credentialKeyIds names it)`
      : `this store cannot tell which key it authenticates with (it has no credentialKeyIds), so key ${keyId} may be it`
  const harm = regenerate
    ? 'regenerating it would kill that credential at once'
    : 'retiring it would lock the store out'
  const name =
    naming === undefined
      ? ''
      : `; if the store's credential is another key, name that key in the store's settings (${naming.setting}${naming.env === undefined ? '' : `, or ${naming.env}`})`
  return `${why}, and ${harm}. To rotate it, pass allowSelf (the store switches to the new key and checks that it works before the old secret goes)${name}`
}

function ageInDays(createdAt: Date | null, now: Date): number | null {
  if (createdAt === null) return null
  // A key that went through JSON holds its dates as strings.
  const time = new Date(createdAt).getTime()
  return Number.isNaN(time) ? null : Math.max(0, Math.floor((now.getTime() - time) / DAY_MS))
}

/** Each target of the key, as a plan shows it. */
export function plannedTargets<C extends CreateKeyInput>(
  settings: RotationSettings<C>,
  keyId: string,
  oldKey: ApiKey | null,
): PlannedTarget[] {
  return settings
    .targetsFor(keyId, oldKey)
    .map((target) => ({ name: target.name, ...target.description }))
}
