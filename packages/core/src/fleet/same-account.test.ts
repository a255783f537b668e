import { describe, expect, it } from 'vitest'
import { defineCapabilities } from '../capabilities.js'
import { defineKeyStore } from '../define-key-store.js'
import { SameAccountError, ValidationError } from '../errors.js'
import { createHttpClient } from '../http-client.js'
import { MemoryKeyStore } from '../rotation/memory-key-store.test-support.js'
import { memoryJournal } from '../rotation/rotation-journal.js'
import type { KeyStore } from '../types.js'
import { createFleet } from './create-fleet.js'
import type { KeySelector } from './fleet-types.js'
import { cannotOverlap, checkDistinctAccounts } from './same-account.js'

const DIGEST_KEY = new Uint8Array(32).fill(1)
const capabilities = defineCapabilities({
  get: 'scan',
  pagination: 'none',
  names: true,
  metadata: false,
  disable: false,
  expiry: false,
  spendLimit: false,
  regenerate: false,
  verify: false,
  revealAfterCreate: true,
  deleted: 'gone',
  create: ['name'],
  update: ['name'],
})

let requests = 0
function unused(): never {
  requests += 1
  throw new Error('no request expected')
}

function vendorStore(credential: string, baseUrl = 'http://127.0.0.1:9'): KeyStore {
  return defineKeyStore({
    provider: 'vendor',
    capabilities,
    client: createHttpClient({
      provider: 'vendor',
      baseUrl,
      credential,
      fetch: async () => unused(),
    }),
    iterate: unused,
    create: unused,
    update: unused,
    delete: unused,
  })
}

const selection = (label: string, select?: KeySelector, keyIds?: readonly string[]) => ({
  fleetStore: { label, store: new MemoryKeyStore(), ...(select === undefined ? {} : { select }) },
  keyIds,
})

describe('cannotOverlap', () => {
  it.each([
    [{ name: 'ci-*' }, { name: 'web-*' }, true],
    [{ name: '*-prod' }, { name: '*-staging' }, true],
    [{ name: 'ci-*' }, { name: 'ci-web-*' }, false],
    [{ name: 'ci-*' }, { name: '*-prod' }, false],
    [{ name: 'abc' }, { name: 'abcd' }, true],
    [{ name: 'a?c' }, { name: 'abc' }, false],
    [{ name: 'ci-*' }, undefined, false],
    [{ name: 'ci-*', status: 'active' }, { name: 'ci-*', status: 'disabled' }, false],
    [{ olderThanDays: 10 }, { olderThanDays: 20 }, false],
  ] as const)('%o and %o: %s', (first, second, expected) => {
    expect(cannotOverlap(selection('a', first), selection('b', second))).toBe(expected)
    expect(cannotOverlap(selection('b', second), selection('a', first))).toBe(expected)
  })

  it('takes exact key lists over selectors, and only when both are exact', () => {
    expect(
      cannotOverlap(selection('a', undefined, ['1', '2']), selection('b', undefined, ['3'])),
    ).toBe(true)
    expect(
      cannotOverlap(selection('a', undefined, ['1', '2']), selection('b', undefined, ['2'])),
    ).toBe(false)
    expect(
      cannotOverlap(selection('a', { name: 'ci-*' }, ['1']), selection('b', { name: 'web-*' })),
    ).toBe(false)
  })
})

describe('checkDistinctAccounts', () => {
  it('refuses two stores of one account, naming both labels, and sends nothing', () => {
    expect.assertions(6)
    requests = 0
    try {
      checkDistinctAccounts(
        'rotate',
        [
          { fleetStore: { label: 'prod', store: vendorStore('fake-credential-0001') } },
          { fleetStore: { label: 'other', store: vendorStore('fake-credential-0002') } },
          { fleetStore: { label: 'prod-copy', store: vendorStore('fake-credential-0001') } },
        ],
        DIGEST_KEY,
      )
    } catch (error) {
      expect(error).toBeInstanceOf(SameAccountError)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as SameAccountError).code).toBe('same_account')
      expect((error as SameAccountError).labels).toEqual(['prod', 'prod-copy'])
      expect((error as SameAccountError).message).toBe(
        'fleet rotate: stores "prod" and "prod-copy" reach the same account (same base URL and credential); give each account one store, or selections that cannot overlap',
      )
    }
    expect(requests).toBe(0)
  })

  it('lets one account through twice when the selections cannot overlap', () => {
    expect(() =>
      checkDistinctAccounts(
        'rotate',
        [
          {
            fleetStore: {
              label: 'ci',
              store: vendorStore('fake-credential-0001'),
              select: { name: 'ci-*' },
            },
          },
          {
            fleetStore: {
              label: 'web',
              store: vendorStore('fake-credential-0001'),
              select: { name: 'web-*' },
            },
          },
          {
            fleetStore: {
              label: 'other-url',
              store: vendorStore('fake-credential-0001', 'http://127.0.0.2:9'),
            },
          },
        ],
        DIGEST_KEY,
      ),
    ).not.toThrow()
  })
})

describe('a fleet of two stores of one account', () => {
  it('refuses plan and rotate before any request', async () => {
    requests = 0
    const fleet = createFleet([
      { label: 'prod', store: vendorStore('fake-credential-0001') },
      { label: 'prod-again', store: vendorStore('fake-credential-0001') },
    ])
    await expect(fleet.plan({ maxAgeDays: 1 })).rejects.toThrow(SameAccountError)
    await expect(
      fleet.rotate({
        policy: { maxAgeDays: 1 },
        journal: memoryJournal(),
        deliver: () => {},
      }),
    ).rejects.toThrow(/stores "prod" and "prod-again" reach the same account/)
    expect(requests).toBe(0)
  })
})
