// OpenRouter keeps listing a key whose expires_at has passed, with nothing else changed; it no
// longer authenticates. The store calls it expired, and a rotation replaces it only when the
// successor gets an expiry of its own (else the new key would work where the old one did not).
import { memoryJournal, rotateKeys } from '@keyway/core'
import { startEmulator } from '@keyway/testkit'
import { useEmulator } from '@keyway/testkit/conformance'
import { beforeEach, describe, expect, it } from 'vitest'
import { createOpenRouterKeyStore, type OpenRouterKeyStore } from './openrouter-key-store.js'

const DAY = 86_400_000
const emulator = useEmulator(() => startEmulator('openrouter', { seedKeys: 0 }))
let store: OpenRouterKeyStore
beforeEach(() => {
  store = createOpenRouterKeyStore(emulator.settings)
})

const writes = () => emulator.requests.filter((request) => request.method !== 'GET')

describe('an OpenRouter key past its expiry', () => {
  it('is expired in list and get, with its expiry; a live key is not, and a disabled one stays disabled', async () => {
    const expiresAt = new Date(Date.now() - 2 * DAY)
    const expired = emulator.control.seedKey({ name: 'gone', expiresAt })
    const expiredDisabled = emulator.control.seedKey({ name: 'off', expiresAt, disabled: true })
    const live = emulator.control.seedKey({
      name: 'live',
      expiresAt: new Date(Date.now() + DAY),
    })
    const disabled = emulator.control.seedKey({ name: 'paused', disabled: true })
    expect(emulator.control.works(expired.secret)).toBe(false)

    const statuses = Object.fromEntries((await store.list()).map((key) => [key.name, key.status]))
    expect(statuses).toEqual({
      gone: 'expired',
      off: 'disabled',
      live: 'active',
      paused: 'disabled',
    })
    const got = await store.get(expired.id)
    expect(got.status).toBe('expired')
    expect(got.expiresAt?.toISOString()).toBe(expiresAt.toISOString())
    // Only working keys without disabled ones: OpenRouter's filter, then the expired left out.
    const working = await store.list({ includeDisabled: false })
    expect(working.map((key) => key.id)).toEqual([live.id])
    expect(emulator.requests.at(-1)?.path).toContain('include_disabled=false')
    expect([expiredDisabled.id, disabled.id]).not.toContain(working[0]?.id)
  })

  it('pages on past an expired key: a page short only after filtering is not the last', async () => {
    for (let index = 0; index < 100; index++) {
      emulator.control.seedKey({
        name: `old-${index}`,
        expiresAt: new Date(Date.now() - DAY),
      })
    }
    const newest = emulator.control.seedKey({ name: 'newest' })
    const oldest = emulator.control.seedKey({
      name: 'oldest',
      createdAt: new Date(Date.now() - 400 * DAY),
    })
    const working = await store.list({ includeDisabled: false })
    expect(working.map((key) => key.id).sort()).toEqual([newest.id, oldest.id].sort())
  })

  it('is skipped by a rotation that gives its successor no expiry, and says why', async () => {
    const expiresAt = new Date(Date.now() - DAY)
    const old = emulator.control.seedKey({ name: 'nightly', expiresAt })
    const result = await rotateKeys(store, {
      journal: memoryJournal(),
      verifyIntervalMs: 0,
      deliver: () => {},
    })
    expect(result.outcomes).toEqual([
      {
        keyId: old.id,
        status: 'skipped',
        reason: `key ${old.id} expired at ${expiresAt.toISOString()}, and its successor would be a working key in its place; give the new key an expiresAt to rotate it anyway`,
      },
    ])
    expect(writes()).toEqual([])
  })

  it('is rotated when its successor gets a new expiry: one working key, the expired one deleted', async () => {
    const old = emulator.control.seedKey({
      name: 'nightly',
      expiresAt: new Date(Date.now() - DAY),
      limit: 5,
    })
    const expiresAt = new Date(Date.now() + 30 * DAY)
    const delivered: string[] = []
    const result = await rotateKeys(store, {
      journal: memoryJournal(),
      verifyIntervalMs: 0,
      input: { expiresAt },
      deliver: (created) => void delivered.push(created.secret.reveal()),
    })
    expect(result.outcomes.map((outcome) => [outcome.keyId, outcome.status])).toEqual([
      [old.id, 'rotated'],
    ])
    expect(delivered).toHaveLength(1)
    expect(emulator.control.works(delivered[0] as string)).toBe(true)
    expect(emulator.control.keyAttributes(delivered[0] as string)).toMatchObject({
      name: 'nightly',
      limit: 5,
      expires_at: expiresAt.toISOString(),
    })
    expect(emulator.control.keyIds()).not.toContain(old.id)
    const keys = await store.list()
    expect(keys.map((key) => [key.name, key.status])).toEqual([['nightly', 'active']])
    expect(writes().map((request) => request.method)).toEqual(['POST', 'PATCH', 'DELETE'])
  })
})
