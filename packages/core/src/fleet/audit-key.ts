import type { ApiKey, Capabilities } from '../types.js'
import type { AuditEntry, AuditFinding, AuditPolicy, KeySelector } from './fleet-types.js'
import { DAY_MS, matchesSelector, timeOf } from './key-selector.js'
import { lastUse } from './last-use.js'

/** What `auditKey` knows about the key's store. */
export interface AuditContext {
  label: string
  provider: string
  capabilities: Capabilities
  /** The store's selector, if it has one. */
  select: KeySelector | undefined
  /** `credentialKeyIds()`, or `undefined` where the store cannot tell. */
  ownIds: readonly string[] | undefined
  policy: AuditPolicy
  now: Date
}

/** Whole days between two times, never below 0. */
function wholeDays(ms: number): number {
  return Math.max(0, Math.floor(ms / DAY_MS))
}

const plural = (days: number) => `${days} day${days === 1 ? '' : 's'}`

/**
 * One key's audit under a policy: its age, whether the store's selector manages it, whether
 * it may be the store's own credential, and every finding. Pure: `now` is given.
 */
export function auditKey(key: ApiKey, context: AuditContext): AuditEntry {
  const { policy, now, capabilities } = context
  const at = now.getTime()
  const created = timeOf(key.createdAt)
  const ageDays = created === null ? null : wholeDays(at - created)
  const managed = context.select === undefined || matchesSelector(key, context.select, now)
  const ownCredential = context.ownIds?.includes(key.id) ?? false
  const findings: AuditFinding[] = []
  // A disabled key cannot be used: its age, use, expiry and limits are no risk. (Where a
  // deleted key stays listed as disabled, such a key is most likely deleted.)
  const usable = key.status === 'active'
  const add = (kind: AuditFinding['kind'], message: string) => findings.push({ kind, message })

  if (usable && policy.maxAgeDays !== undefined && created !== null) {
    if (at - created > policy.maxAgeDays * DAY_MS) {
      add(
        'too-old',
        `created ${plural(ageDays ?? 0)} ago, more than the ${plural(policy.maxAgeDays)} allowed`,
      )
    }
  }
  const use = lastUse(key, capabilities, now)
  // Only what the vendor reports counts: a key whose last use is unknown (or shown only by
  // spending in a period) is never called unused, so no gate fails on a guess.
  if (usable && policy.unusedDays !== undefined) {
    const since = use.kind === 'at' ? use.at.getTime() : use.kind === 'never' ? created : null
    if (since !== null && at - since > policy.unusedDays * DAY_MS) {
      const idle = plural(wholeDays(at - since))
      add(
        'unused',
        use.kind === 'never'
          ? `never used since it was created ${idle} ago (limit ${plural(policy.unusedDays)})`
          : `last used ${idle} ago (limit ${plural(policy.unusedDays)})`,
      )
    }
  }
  // An expired key no longer works, but its expiry is the finding that says so.
  const expired = key.status === 'expired'
  if ((usable || expired) && policy.expiringWithinDays !== undefined) {
    const expires = timeOf(key.expiresAt)
    if (expired && expires === null) add('expiring-soon', 'expired (the vendor does not say when)')
    if (expires !== null && (expired || expires - at <= policy.expiringWithinDays * DAY_MS)) {
      add(
        'expiring-soon',
        expired || expires <= at
          ? `expired ${plural(wholeDays(at - expires))} ago`
          : `expires in ${plural(Math.ceil((expires - at) / DAY_MS))} (warning from ${plural(policy.expiringWithinDays)})`,
      )
    }
  }
  const offersLimits = capabilities.spendLimit || capabilities.expiry
  if (usable && policy.requireLimitOrExpiry === true && offersLimits) {
    const hasLimit = capabilities.spendLimit && (key.spend?.limit ?? null) !== null
    const hasExpiry = capabilities.expiry && timeOf(key.expiresAt) !== null
    if (!hasLimit && !hasExpiry) {
      const lacks = [capabilities.spendLimit && 'spending limit', capabilities.expiry && 'expiry']
        .filter((text) => text !== false)
        .join(' and no ')
      add('no-limit-or-expiry', `has no ${lacks}, though ${context.provider} offers it`)
    }
  }
  // Where a deleted key stays listed as disabled, disabled is all a key can end as.
  if (key.status === 'disabled' && capabilities.deleted === 'gone') {
    add('disabled', 'disabled but not deleted')
  }
  if (ownCredential) {
    add(
      'own-credential',
      'may be the credential this store authenticates with: rotating it needs allowSelf, and retiring it would lock the store out',
    )
  }
  if (!managed) add('unmanaged', `no selector of store ${context.label} manages it`)
  return {
    label: context.label,
    provider: context.provider,
    key,
    ageDays,
    managed,
    ownCredential,
    lastUse: use,
    findings,
  }
}
