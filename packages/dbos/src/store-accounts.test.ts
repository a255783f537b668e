import { randomBytes } from 'node:crypto'
import { SameAccountError } from '@keyway/core'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { createVoiceableKeyStore } from '@keyway/voiceable'
import { describe, expect, it } from 'vitest'
import { checkDistinctAccounts, selectionsMayOverlap } from './store-accounts.js'

// Credentials of no account: the stores are never asked to send anything.
const credential = () => `sk-or-v1-${randomBytes(32).toString('hex')}`
const openrouter = (managementKey: string, baseUrl = 'http://127.0.0.1:9/api/v1') =>
  createOpenRouterKeyStore({ managementKey, baseUrl })

describe('two stores of one set of rotations', () => {
  it('are refused when they reach one account and may select the same keys', () => {
    expect.assertions(3)
    const shared = credential()
    try {
      checkDistinctAccounts({
        'prod-a': { store: openrouter(shared) },
        'prod-b': { store: openrouter(shared), select: { name: 'ci-*' } },
      })
    } catch (error) {
      expect(error).toBeInstanceOf(SameAccountError)
      expect((error as SameAccountError).message).toBe(
        'keyway defineKeywayRotations: stores "prod-a" and "prod-b" reach the same account (same base URL and credential); give each account one store, or selections that cannot overlap',
      )
      expect(JSON.stringify(error)).not.toContain(shared)
    }
  })

  it('are accepted at one account when their selections cannot overlap, and at two accounts anyway', () => {
    const shared = credential()
    // Accepted, and named as sharing an account: each keeps to its selection.
    expect(
      checkDistinctAccounts({
        ci: { store: openrouter(shared), select: { name: 'ci-*' } },
        web: { store: openrouter(shared), select: { name: 'web-*' } },
        alone: { store: openrouter(credential()) },
      }),
    ).toEqual(new Set(['ci', 'web']))
    expect(() =>
      checkDistinctAccounts({
        production: { store: openrouter(credential()) },
        staging: { store: openrouter(credential()) },
        // Same credential, another base URL: another account.
        other: { store: openrouter(shared, 'http://127.0.0.2:9/api/v1') },
        mine: { store: openrouter(shared) },
        voice: {
          store: createVoiceableKeyStore({
            apiKey: 'test-voiceable-credential',
            baseUrl: 'http://127.0.0.1:9',
          }),
        },
      }),
    ).not.toThrow()
  })
})

describe('selections that may overlap', () => {
  it.each([
    [undefined, undefined, true],
    [{ name: 'ci-*' }, undefined, true],
    [{ name: 'ci-*' }, { name: 'ci-web-*' }, true],
    [{ name: 'ci-*' }, { name: 'web-*' }, false],
    [{ name: '*-prod' }, { name: '*-staging' }, false],
    [{ name: '*-prod' }, { name: 'ci-*' }, true],
    [{ name: 'ci-?' }, { name: 'ci-*' }, true],
    // A key's status changes: selectors of two statuses may still meet one key.
    [{ status: 'disabled' as const }, { status: 'active' as const }, true],
  ])('%j and %j: %s', (first, second, overlap) => {
    expect(selectionsMayOverlap(first, second)).toBe(overlap)
    expect(selectionsMayOverlap(second, first)).toBe(overlap)
  })
})
