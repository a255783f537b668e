import { describe, expect, it, vi } from 'vitest'
import { defineCapabilities } from './capabilities.js'
import { defineKeyStore } from './define-key-store.js'
import { RotationError, UnsupportedOperationError, ValidationError } from './errors.js'
import { apiKey } from './fleet/api-key.test-support.js'
import { createFleet } from './fleet/create-fleet.js'
import { createHttpClient } from './http-client.js'
import { MemoryKeyStore } from './rotation/memory-key-store.test-support.js'
import { cannotMintReason } from './rotation/minting.js'
import { rotateKey } from './rotation/rotate-key.js'
import { rotateKeys } from './rotation/rotate-keys.js'
import type { ApiKey, Capabilities, KeyStore } from './types.js'

const listedKey: ApiKey = apiKey({ provider: 'vendor', id: 'key_1', name: 'ci', createdAt: null })

const readOnly: Capabilities = {
  get: 'native',
  pagination: 'cursor',
  names: true,
  metadata: false,
  disable: true,
  expiry: false,
  spendLimit: false,
  regenerate: false,
  verify: false,
  revealAfterCreate: false,
  deleted: false,
  create: false,
  update: ['name', 'status'],
}

/** A store over a vendor that lists, gets and updates keys, and nothing else. */
function auditOnlyStore(capabilities: Capabilities = readOnly) {
  const iterate = vi.fn(async function* () {
    yield listedKey
  })
  const update = vi.fn(async (_encodedId: string, patch: Record<string, unknown>) => ({
    ...listedKey,
    ...patch,
  }))
  const store = defineKeyStore({
    provider: 'vendor',
    capabilities: defineCapabilities(capabilities),
    client: createHttpClient({ provider: 'vendor', baseUrl: 'http://127.0.0.1:9' }),
    idPattern: /^key_\d+$/,
    iterate,
    update: update as never,
  })
  return { store, iterate, update }
}

describe('a store whose vendor lacks create and delete', () => {
  it('keeps `false` in its frozen capabilities', () => {
    const { store } = auditOnlyStore()
    expect(store.capabilities.create).toBe(false)
    expect(store.capabilities.deleted).toBe(false)
    expect(Object.isFrozen(store.capabilities.update)).toBe(true)
  })

  it('refuses create and delete with UnsupportedOperationError before anything is sent', async () => {
    const { store, iterate, update } = auditOnlyStore()
    await expect(store.create({ name: 'new' })).rejects.toMatchObject({
      constructor: UnsupportedOperationError,
      feature: 'create',
      operation: 'create',
      message: 'vendor does not support create',
    })
    await expect(store.delete('key_1')).rejects.toMatchObject({
      constructor: UnsupportedOperationError,
      feature: 'delete',
    })
    expect(iterate).not.toHaveBeenCalled()
    expect(update).not.toHaveBeenCalled()
  })

  it('refuses an operation the capabilities claim but the mapping lacks', async () => {
    const { store } = auditOnlyStore({ ...readOnly, create: ['name'], deleted: 'gone' })
    await expect(store.create({ name: 'new' })).rejects.toBeInstanceOf(UnsupportedOperationError)
    await expect(store.delete('key_1')).rejects.toBeInstanceOf(UnsupportedOperationError)
  })

  it('refuses an update where the vendor cannot change keys', async () => {
    const { store, update } = auditOnlyStore({ ...readOnly, update: false })
    await expect(store.update('key_1', { name: 'x' })).rejects.toMatchObject({
      constructor: UnsupportedOperationError,
      feature: 'update',
    })
    expect(update).not.toHaveBeenCalled()
  })
})

describe('archiving', () => {
  it('is refused, sending nothing, where the vendor has no archive', async () => {
    const { store, update } = auditOnlyStore()
    await expect(store.update('key_1', { status: 'archived' })).rejects.toMatchObject({
      constructor: UnsupportedOperationError,
      feature: 'archive',
    })
    expect(update).not.toHaveBeenCalled()
  })

  it('is sent where the vendor archives keys', async () => {
    const { store, update } = auditOnlyStore({ ...readOnly, archive: true })
    expect((await store.update('key_1', { status: 'archived' })).status).toBe('archived')
    expect(update.mock.calls[0]?.[1]).toEqual({ status: 'archived' })
  })

  it("is a status `update` takes; 'expired' is not", async () => {
    const { store, update } = auditOnlyStore({ ...readOnly, archive: true })
    await expect(store.update('key_1', { status: 'expired' } as never)).rejects.toBeInstanceOf(
      ValidationError,
    )
    expect(update).not.toHaveBeenCalled()
  })
})

describe('rotation at a store that cannot create keys', () => {
  it('says what the store can still do', () => {
    const reason = (capabilities: Partial<Capabilities>) =>
      cannotMintReason({
        provider: 'acme',
        capabilities: { ...readOnly, ...capabilities },
      } as KeyStore<never>)
    expect(reason({})).toBe('acme cannot create keys through its API: audit and disable only')
    expect(reason({ disable: false })).toBe('acme cannot create keys through its API: audit only')
    expect(reason({ disable: false, archive: true, deleted: 'gone' })).toBe(
      'acme cannot create keys through its API: audit, disable and delete only',
    )
  })

  it('refuses before any request, and a dry run plans each key as skipped', async () => {
    const { store, iterate, update } = auditOnlyStore()
    await expect(rotateKey(store, { keyId: 'key_1', deliver: () => {} })).rejects.toMatchObject({
      constructor: UnsupportedOperationError,
      feature: 'create',
      message: 'vendor cannot create keys through its API: audit and disable only',
    })
    expect(iterate).not.toHaveBeenCalled()
    const plan = await rotateKey(store, { keyId: 'key_1', dryRun: true })
    expect(plan).toMatchObject({
      keyId: 'key_1',
      action: 'skip',
      reason: 'vendor cannot create keys through its API: audit and disable only',
    })
    const batch = await rotateKeys(store, { dryRun: true })
    expect(batch.plans.map((entry) => [entry.keyId, entry.action])).toEqual([['key_1', 'skip']])
    expect(update).not.toHaveBeenCalled()
  })
})

describe('rotation of an archived key', () => {
  it('is refused with a RotationError, nothing made or retired, and planned as skipped', async () => {
    const store = new MemoryKeyStore()
    const { id } = store.seed({ name: 'old' })
    const entry = store.entries.get(id)
    if (entry === undefined) throw new Error('seeded key missing')
    entry.key.status = 'archived'
    const plan = await rotateKey(store, { keyId: id, dryRun: true })
    expect(plan).toMatchObject({
      action: 'skip',
      reason: `key ${id} is archived, which is final: it cannot be rotated, enabled or retired`,
    })
    const error = await rotateKey(store, { keyId: id, deliver: () => {} }).catch(
      (thrown: unknown) => thrown,
    )
    expect(error).toBeInstanceOf(RotationError)
    expect((error as RotationError).message).toContain('is archived, which is final')
    expect(store.writes).toEqual([])
    expect(store.entries.get(id)?.key.status).toBe('archived')
  })
})

describe('a fleet with a store that cannot create keys', () => {
  it('audits its keys, archived ones too, and plans each due key as skipped with the reason', async () => {
    const old = new Date(Date.now() - 400 * 86_400_000)
    const keys: ApiKey[] = [
      { ...listedKey, id: 'key_1', createdAt: old },
      { ...listedKey, id: 'key_2', name: 'retired', status: 'archived', createdAt: old },
    ]
    const store = defineKeyStore({
      provider: 'vendor',
      capabilities: defineCapabilities({ ...readOnly, archive: true }),
      client: createHttpClient({ provider: 'vendor', baseUrl: 'http://127.0.0.1:9' }),
      idPattern: /^key_\d+$/,
      iterate: async function* () {
        yield* keys
      },
      credentialKeyIds: async () => [],
    })
    const fleet = createFleet([{ label: 'vendor-org', store, select: { status: 'any' } }])
    const audit = await fleet.audit({ maxAgeDays: 90 })
    expect(audit.errors).toEqual([])
    expect(audit.entries.map((entry) => [entry.key.id, entry.key.status])).toEqual([
      ['key_1', 'active'],
      ['key_2', 'archived'],
    ])
    // An archived key never works again: its age is no risk.
    expect(audit.entries[1]?.findings).toEqual([])
    const plan = await fleet.plan({ maxAgeDays: 90 })
    expect(plan.errors).toEqual([])
    expect(plan.entries).toEqual([])
    expect(plan.skipped.map((entry) => [entry.key.id, entry.plan.reason])).toEqual([
      ['key_1', 'vendor cannot create keys through its API: audit and disable only'],
    ])
  })
})
