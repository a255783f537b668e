import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { createFleet } from '../fleet/create-fleet.js'
import type { FleetStore } from '../fleet/fleet-types.js'
import type { LeakRules } from '../key-store-descriptor.js'
import { MemoryKeyStore } from '../rotation/memory-key-store.test-support.js'
import { Secret } from '../secret.js'
import type { CreatedKey, KeyStore } from '../types.js'
import { findLeakedKeys, hintMatches, type LeakVendor } from './find-leaked-keys.js'
import { parseLeak } from './leak-input.js'
import { revokeLeakedKey } from './revoke-leaked-key.js'

/** The memory store as another vendor: the same state, another provider id. */
function asVendor(store: MemoryKeyStore, provider: string): KeyStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'provider') return provider
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as unknown as KeyStore
}

/**
 * A vendor whose secrets are `fake-secret-<n>` and whose keys show the last two characters;
 * with `keyIdOf`, its key id derives from the secret (`key-<n>`).
 */
function vendor(id: string, store: MemoryKeyStore, prefix: string, withKeyId = false): LeakVendor {
  const rules: LeakRules = {
    prefixes: [prefix],
    alphabet: /^\d*$/,
    shown: (key) => {
      const secret = store.entries.get(key.id)?.secret
      return secret === undefined ? undefined : { end: secret.slice(-2) }
    },
    ...(withKeyId ? { keyIdOf: (secret: string) => `key-${secret.slice(prefix.length)}` } : {}),
  }
  return {
    id,
    title: id,
    secretPatterns: [new RegExp(`^${prefix}\\d+$`)],
    leak: rules,
  }
}

function twoVendors() {
  const memory = new MemoryKeyStore()
  const other = new MemoryKeyStore()
  const stores: FleetStore[] = [
    { label: 'mem', store: memory },
    { label: 'oth', store: asVendor(other, 'other') },
  ]
  const vendors = [vendor('memory', memory, 'fake-secret-', true), vendor('other', other, 'other-')]
  return { memory, other, fleet: createFleet(stores), vendors }
}

describe('parseLeak', () => {
  it('refuses what cannot name a key, quoting no secret', () => {
    const secret = 'fake-secret-with space'
    const cases = [
      { hint: 'ab' },
      { hint: 'a…b…c' },
      { sha256: 'sha256:xyz123' },
      { sha256: '3b37' },
      // A prefix this short names one key in tens of thousands, not one.
      { sha256: '3b3702' },
      { sha256: 'sha256:3b37026' },
      { secret: new Secret(secret) },
      { hint: '…abcd', sha256: 'abcdef' },
      { secret },
    ]
    expect.assertions(cases.length * 2)
    for (const leak of cases) {
      try {
        parseLeak(leak as never)
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError)
        expect(JSON.stringify(error) + String(error)).not.toContain('with space')
      }
    }
  })

  it('reads start…end, start…, …end, ... for …, and sha256: prefixes', () => {
    expect(parseLeak({ hint: 'sk-or-v1-abc…123' })).toEqual({
      form: 'hint',
      start: 'sk-or-v1-abc',
      end: '123',
    })
    expect(parseLeak({ hint: 'sk-ant-api03-R2D...' })).toEqual({
      form: 'hint',
      start: 'sk-ant-api03-R2D',
      end: '',
    })
    expect(parseLeak({ hint: '…a1b2c' })).toEqual({ form: 'hint', start: '', end: 'a1b2c' })
    expect(parseLeak({ sha256: 'SHA256:3B37026C' })).toEqual({ form: 'sha256', hex: '3b37026c' })
  })
})

describe('hintMatches', () => {
  it('needs a shown part beyond the vendor’s fixed prefix, and every shown part to agree', () => {
    const label = { start: 'sk-or-v1-abc', end: '123' }
    expect(hintMatches(label, 'sk-or-v1-abc', '123', ['sk-or-v1-'])).toBe(true)
    expect(hintMatches(label, 'sk-or-v1-abcdef', '0123', ['sk-or-v1-'])).toBe(true)
    expect(hintMatches(label, 'sk-or-v1-abd', '123', ['sk-or-v1-'])).toBe(false)
    expect(hintMatches(label, 'sk-or-v1-abc', '124', ['sk-or-v1-'])).toBe(false)
    // Only the prefix every key has: no match.
    expect(hintMatches(label, 'sk-or-v1-', '', ['sk-or-v1-'])).toBe(false)
    expect(hintMatches({ start: 'sb-', end: 'beef' }, 'sb-1234', '', ['sb-', 'lk-'])).toBe(false)
    // A key that shows nothing matches nothing.
    expect(hintMatches(undefined, 'x', 'y')).toBe(false)
    expect(hintMatches({ end: 'a1b2c' }, '', 'a1b2c')).toBe(true)
  })
})

describe('findLeakedKeys', () => {
  it('finds a secret by the id it gives and never asks a store of another vendor', async () => {
    const { memory, other, fleet, vendors } = twoVendors()
    const leaked = memory.seed({ name: 'api' })
    other.seed({ name: 'api' })
    const readsBefore = other.reads.length
    const search = await findLeakedKeys(fleet, { secret: new Secret(leaked.secret) }, { vendors })
    expect(search.matches.map((match) => [match.label, match.key.id, match.by])).toEqual([
      ['mem', leaked.id, 'key-id'],
    ])
    expect(search.shapes).toEqual(['memory'])
    expect(search.stores).toContainEqual(expect.objectContaining({ label: 'oth', by: 'skipped' }))
    expect(other.reads.length).toBe(readsBefore)
    expect(JSON.stringify(search)).not.toContain(leaked.secret)
  })

  it('finds by hint only in stores whose vendor’s secrets can look like it', async () => {
    const { memory, other, fleet, vendors } = twoVendors()
    let leaked = memory.seed()
    // Two digits to show.
    while (!/\d\d$/.test(leaked.secret)) leaked = memory.seed()
    const readsBefore = other.reads.length
    const search = await findLeakedKeys(
      fleet,
      { hint: `fake-secret-…${leaked.secret.slice(-2)}` },
      { vendors },
    )
    expect(search.matches.map((match) => match.key.id)).toEqual([leaked.id])
    expect(other.reads.length).toBe(readsBefore)
  })
})

describe('revokeLeakedKey', () => {
  it('disables the one match first, delivers a working successor, then deletes the old key', async () => {
    const { memory, other, fleet, vendors } = twoVendors()
    const leaked = memory.seed({ name: 'api' })
    const delivered: CreatedKey[] = []
    const writesBefore = memory.writes.length
    const result = await revokeLeakedKey(
      fleet,
      { secret: new Secret(leaked.secret) },
      { vendors, now: true, deliver: (created) => void delivered.push(created) },
    )
    expect(result.outcome).toBe('revoked')
    expect(result.disabled).toBe(true)
    const successor = delivered[0] as CreatedKey
    expect(memory.works(successor.secret.reveal())).toBe(true)
    expect(memory.works(leaked.secret)).toBe(false)
    const writes = memory.writes.slice(writesBefore)
    // Disabled before anything else; deleted last; nothing but the two keys touched.
    expect(writes[0]).toEqual({ operation: 'update', id: leaked.id })
    expect(writes[1]).toEqual({ operation: 'create', id: successor.key.id })
    expect(writes.at(-1)).toEqual({ operation: 'delete', id: leaked.id })
    expect(
      writes.filter((write) => write.id !== leaked.id && write.id !== successor.key.id),
    ).toEqual([])
    expect(other.writes).toEqual([])
  })

  it('changes nothing when several keys match', async () => {
    const { memory, other, fleet, vendors } = twoVendors()
    const first = memory.seed()
    let twin = memory.seed()
    while (twin.secret.slice(-1) !== first.secret.slice(-1)) twin = memory.seed()
    const writesBefore = memory.writes.length
    const result = await revokeLeakedKey(
      fleet,
      { hint: `fake-secret-…${first.secret.slice(-1)}` },
      { vendors, deliver: () => {} },
    )
    expect(result.outcome).toBe('several')
    expect(result.search.matches.map((match) => match.key.id)).toEqual(
      expect.arrayContaining([first.id, twin.id]),
    )
    expect(memory.writes.length).toBe(writesBefore)
    expect(other.writes).toEqual([])
  })

  it('changes nothing when a store of the vendor could not be read and the match is by hint', async () => {
    const memory = new MemoryKeyStore()
    const unread = new MemoryKeyStore()
    const fleet = createFleet([
      { label: 'mem', store: memory },
      { label: 'mem-2', store: unread },
    ])
    let leaked = memory.seed()
    while (!/\d\d$/.test(leaked.secret)) leaked = memory.seed()
    unread.faults.push({ on: 'list', kind: 'fail', times: 5 })
    const writesBefore = memory.writes.length
    const result = await revokeLeakedKey(
      fleet,
      { hint: `fake-secret-…${leaked.secret.slice(-2)}` },
      { vendors: [vendor('memory', memory, 'fake-secret-')], deliver: () => {} },
    )
    expect(result.outcome).toBe('unsure')
    expect(result.match?.key.id).toBe(leaked.id)
    expect(result.search.errors.map((error) => error.label)).toEqual(['mem-2'])
    expect(memory.writes.length).toBe(writesBefore)
  })

  it('does not act on a whole secret whose exact id is not found but whose shown part matches another key', async () => {
    const memory = new MemoryKeyStore()
    const kept = memory.seed({ name: 'kept' })
    const rules = vendor('memory', memory, 'fake-secret-', true)
    // An id derivation the vendor does not document: a miss falls back to the shown part.
    const vendors = [{ ...rules, leak: { ...(rules.leak as LeakRules), keyIdNote: 'a guess' } }]
    // Another secret of the vendor, not in this fleet, that ends as `kept` does.
    const leaked = `fake-secret-99999${kept.secret.slice(-2)}`
    const writesBefore = memory.writes.length
    const result = await revokeLeakedKey(
      createFleet([{ label: 'mem', store: memory }]),
      { secret: new Secret(leaked) },
      { vendors, now: true, deliver: () => {} },
    )
    expect(result.outcome).toBe('unsure')
    expect(result.match?.key.id).toBe(kept.id)
    expect(memory.writes.length).toBe(writesBefore)
    expect(memory.works(kept.secret)).toBe(true)
  })

  it('does not call the store’s own credential revoked when it can neither disable nor replace it', async () => {
    const memory = new MemoryKeyStore({ credential: 'key' })
    const admin = [...memory.entries.values()].find((entry) => entry.key.name === 'admin')
    const secret = admin?.secret as string
    const writesBefore = memory.writes.length
    const result = await revokeLeakedKey(
      createFleet([{ label: 'mem', store: memory }]),
      { secret: new Secret(secret) },
      { vendors: [vendor('memory', memory, 'fake-secret-', true)], now: true, deliver: () => {} },
    )
    expect(result.outcome).toBe('cannot')
    expect(result.plan?.disable).toBe('own-credential')
    expect(result.plan?.successor?.action).toBe('skip')
    expect(memory.writes.length).toBe(writesBefore)
  })
})
