import { describe, expect, it } from 'vitest'
import type { ApiKey, Capabilities } from '../types.js'
import { apiKey, DAY, daysAgo, NOW } from './api-key.test-support.js'
import { type AuditContext, auditKey } from './audit-key.js'

const capabilities: Capabilities = {
  get: 'native',
  pagination: 'none',
  names: true,
  metadata: false,
  disable: true,
  expiry: true,
  spendLimit: true,
  regenerate: false,
  verify: true,
  revealAfterCreate: false,
  deleted: 'gone',
  update: [],
  create: [],
}

function key(fields: Partial<ApiKey> = {}): ApiKey {
  return apiKey({
    lastUsedAt: daysAgo(1),
    spend: { used: 1, usedThisMonth: 1, limit: 10, remaining: 9, limitReset: 'monthly' },
    ...fields,
  })
}

/** A key of a vendor that reports no spending. */
function unspent(fields: Partial<ApiKey> = {}): ApiKey {
  const { spend: _spend, ...rest } = key(fields)
  return rest
}

function context(fields: Partial<AuditContext> = {}): AuditContext {
  return {
    label: 'prod',
    provider: 'memory',
    capabilities,
    select: undefined,
    ownIds: [],
    policy: { maxAgeDays: 90, unusedDays: 30, expiringWithinDays: 14, requireLimitOrExpiry: true },
    now: NOW,
    ...fields,
  }
}

const kinds = (entry: { findings: Array<{ kind: string }> }) =>
  entry.findings.map((finding) => finding.kind)

describe('auditKey', () => {
  it('finds nothing on a young, used key with a limit, and tells its age', () => {
    const entry = auditKey(key(), context())
    expect(entry).toMatchObject({
      label: 'prod',
      provider: 'memory',
      ageDays: 10,
      managed: true,
      ownCredential: false,
      findings: [],
    })
  })

  it('finds a key older than maxAgeDays, but not one exactly that old', () => {
    expect(auditKey(key({ createdAt: daysAgo(91) }), context()).findings).toEqual([
      { kind: 'too-old', message: 'created 91 days ago, more than the 90 days allowed' },
    ])
    expect(kinds(auditKey(key({ createdAt: daysAgo(90) }), context()))).toEqual([])
  })

  it('finds an unused key from lastUsedAt, or from createdAt when never used', () => {
    expect(auditKey(key({ lastUsedAt: daysAgo(45) }), context()).findings).toEqual([
      { kind: 'unused', message: 'last used 45 days ago (limit 30 days)' },
    ])
    const reports = context({ capabilities: { ...capabilities, lastUsed: true } })
    const never = auditKey(unspent({ lastUsedAt: null, createdAt: daysAgo(31) }), reports)
    expect(never.lastUse).toEqual({ kind: 'never' })
    expect(never.findings).toContainEqual({
      kind: 'unused',
      message: 'never used since it was created 31 days ago (limit 30 days)',
    })
    expect(kinds(auditKey(unspent({ lastUsedAt: null }), reports))).not.toContain('unused')
  })

  it('calls a key unused only where the vendor reports use: elsewhere its last use is unknown', () => {
    const silent = auditKey(unspent({ lastUsedAt: null, createdAt: daysAgo(200) }), context())
    expect(silent.lastUse).toEqual({ kind: 'unknown' })
    expect(kinds(silent)).toEqual(['too-old', 'no-limit-or-expiry'])
  })

  it('takes spending in a period as use within it (OpenRouter), never as a date', () => {
    const spend = (usedToday: number, usedThisWeek: number, usedThisMonth: number) =>
      key({
        lastUsedAt: null,
        createdAt: daysAgo(200),
        spend: {
          used: 9.5,
          usedThisMonth,
          usedToday,
          usedThisWeek,
          limit: 10,
          remaining: 0.5,
          limitReset: null,
        },
      })
    expect(auditKey(spend(1, 1, 1), context()).lastUse).toEqual({
      kind: 'within',
      period: 'today',
      since: new Date(Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate())),
    })
    expect(auditKey(spend(0, 0, 2), context()).lastUse).toMatchObject({
      kind: 'within',
      period: 'this month',
      since: new Date(Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), 1)),
    })
    // Spent nothing in any period: unknown (free models cost nothing), and never "unused".
    const idle = auditKey(spend(0, 0, 0), context())
    expect(idle.lastUse).toEqual({ kind: 'unknown' })
    expect(kinds(idle)).not.toContain('unused')
  })

  it('finds a key expiring within the window, and one that has expired', () => {
    const soon = auditKey(key({ expiresAt: new Date(NOW.getTime() + 3 * DAY) }), context())
    expect(soon.findings).toEqual([
      { kind: 'expiring-soon', message: 'expires in 3 days (warning from 14 days)' },
    ])
    const expired = auditKey(key({ expiresAt: daysAgo(2) }), context())
    expect(expired.findings).toEqual([{ kind: 'expiring-soon', message: 'expired 2 days ago' }])
    expect(
      kinds(auditKey(key({ expiresAt: new Date(NOW.getTime() + 20 * DAY) }), context())),
    ).toEqual([])
  })

  it('reports a key its vendor calls expired as expired, and nothing a working key would be', () => {
    const old = { createdAt: daysAgo(400), lastUsedAt: daysAgo(200) }
    const expired = auditKey(key({ ...old, status: 'expired', expiresAt: daysAgo(3) }), context())
    // It no longer works: its age, idleness and missing limit are no risk; its expiry is.
    expect(expired.findings).toEqual([{ kind: 'expiring-soon', message: 'expired 3 days ago' }])
    const undated = auditKey(key({ status: 'expired', expiresAt: null }), context())
    expect(undated.findings).toEqual([
      { kind: 'expiring-soon', message: 'expired (the vendor does not say when)' },
    ])
    // A selector of active keys still manages it: it was in service until it expired.
    const selected = auditKey(
      key({ status: 'expired', expiresAt: daysAgo(3) }),
      context({ select: { name: '*' } }),
    )
    expect(selected.managed).toBe(true)
    expect(
      auditKey(
        key({ status: 'expired', expiresAt: daysAgo(3) }),
        context({ select: { status: 'disabled' } }),
      ).managed,
    ).toBe(false)
    // Without an expiry rule, the rule's finding is not made up.
    const noRule = context({ policy: { maxAgeDays: 90 } })
    expect(kinds(auditKey(key({ status: 'expired', expiresAt: daysAgo(3) }), noRule))).toEqual([])
  })

  it('finds a key with neither limit nor expiry where the vendor has either, and only there', () => {
    const bare = key({
      spend: { used: 0, usedThisMonth: 0, limit: null, remaining: null, limitReset: null },
    })
    expect(auditKey(bare, context()).findings).toEqual([
      {
        kind: 'no-limit-or-expiry',
        message: 'has no spending limit and no expiry, though memory offers it',
      },
    ])
    expect(
      kinds(auditKey({ ...bare, expiresAt: new Date(NOW.getTime() + 60 * DAY) }, context())),
    ).toEqual([])
    const expiryOnly = { ...capabilities, spendLimit: false }
    expect(auditKey(bare, context({ capabilities: expiryOnly })).findings[0]?.message).toBe(
      'has no expiry, though memory offers it',
    )
    const neither = { ...capabilities, spendLimit: false, expiry: false }
    expect(kinds(auditKey(bare, context({ capabilities: neither })))).toEqual([])
    expect(kinds(auditKey(bare, context({ policy: {} })))).toEqual([])
  })

  it('finds a disabled key, unless a deleted key stays listed as disabled at the vendor', () => {
    expect(auditKey(key({ status: 'disabled' }), context()).findings).toEqual([
      { kind: 'disabled', message: 'disabled but not deleted' },
    ])
    const staysListed = { ...capabilities, deleted: 'disabled' as const }
    expect(
      kinds(auditKey(key({ status: 'disabled' }), context({ capabilities: staysListed }))),
    ).toEqual([])
  })

  it('finds no age, use, expiry or limit problem in a key that cannot be used', () => {
    const old = new Date(NOW.getTime() - 400 * DAY)
    const dead = key({ status: 'disabled', createdAt: old, lastUsedAt: old, expiresAt: old })
    const staysListed = { ...capabilities, deleted: 'disabled' as const }
    expect(kinds(auditKey(dead, context({ capabilities: staysListed })))).toEqual([])
    expect(kinds(auditKey(dead, context()))).toEqual(['disabled'])
    expect(kinds(auditKey({ ...dead, status: 'active' }, context()))).toEqual([
      'too-old',
      'unused',
      'expiring-soon',
    ])
  })

  it("flags the store's own credential only where credentialKeyIds names it", () => {
    const own = auditKey(key(), context({ ownIds: ['key-1'] }))
    expect(own.ownCredential).toBe(true)
    expect(kinds(own)).toEqual(['own-credential'])
    expect(auditKey(key(), context({ ownIds: undefined })).ownCredential).toBe(false)
  })

  it('flags a key the selector does not match as unmanaged', () => {
    const entry = auditKey(key({ name: 'prod-1' }), context({ select: { name: 'ci-*' } }))
    expect(entry.managed).toBe(false)
    expect(entry.findings).toEqual([
      { kind: 'unmanaged', message: 'no selector of store prod manages it' },
    ])
    expect(auditKey(key(), context({ select: { name: 'ci-*' } })).managed).toBe(true)
  })

  it('has no age and no age findings for a key without a creation date', () => {
    const entry = auditKey(key({ createdAt: null, lastUsedAt: null }), context())
    expect(entry.ageDays).toBeNull()
    expect(kinds(entry)).toEqual([])
  })
})
