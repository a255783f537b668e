import { ResponseValidationError, Secret } from '@keyway/core'
import { createMarker } from '@keyway/core/adapter'
import { type Emulator, startEmulator } from '@keyway/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLatitudeKeyStore, type LatitudeKeyStore } from './latitudesh-key-store.js'

let emulator: Emulator
let store: LatitudeKeyStore

beforeEach(async () => {
  emulator = await startEmulator('latitudesh', { rateLimit: false })
  store = createLatitudeKeyStore({ ...emulator.settings, retry: false })
})
afterEach(async () => {
  await emulator.close()
})

describe('Latitude successorInput', () => {
  it('carries name, read_only and allowed_ips: the new key is stored just like the old', async () => {
    const old = await store.create({
      name: 'ci-readonly',
      readOnly: true,
      allowedIps: ['203.0.113.0/24'],
    })
    const listed = (await store.list()).find((key) => key.id === old.key.id)
    const plan = await store.successorInput(listed as NonNullable<typeof listed>)
    expect(plan).toEqual({
      input: { name: 'ci-readonly', readOnly: true, allowedIps: ['203.0.113.0/24'] },
      warnings: [],
    })
    const marker = createMarker()
    const successor = await store.create(plan.input, { marker })
    const post = emulator.requests.filter((request) => request.method === 'POST').at(-1)
    expect(post?.body).toEqual({
      data: {
        type: 'api_keys',
        attributes: {
          name: `ci-readonly~${marker}`,
          read_only: true,
          allowed_ips: ['203.0.113.0/24'],
        },
      },
    })
    expect(emulator.control.keyAttributes(successor.secret.reveal())).toEqual({
      name: 'ci-readonly',
      read_only: true,
      allowed_ips: ['203.0.113.0/24'],
    })
  })

  it('leaves out what the old key does not set', async () => {
    const [seeded] = await store.list()
    const plan = await store.successorInput(seeded as NonNullable<typeof seeded>)
    expect(plan.input).toEqual({ name: seeded?.name, readOnly: false })
  })
})

describe('Latitude verify', () => {
  it('is true for a working token and false for an unknown one', async () => {
    const created = await store.create({ name: 'fresh' })
    expect(await store.verify(created.secret)).toBe(true)
    expect(await store.verify(new Secret('0'.repeat(36)))).toBe(false)
  })

  it.each([
    ['a body that is not JSON', { malformed: true }],
    ['a JSON body of another shape', { status: 200, body: { ok: true } }],
    ['a list of something else', { status: 200, body: { data: [{ id: 1 }] } }],
  ])('throws ResponseValidationError for a 2xx with %s', async (_name, fault) => {
    const created = await store.create({ name: 'fresh' })
    emulator.inject({ match: { method: 'GET', path: '/auth/api_keys' }, times: 5, ...fault })
    await expect(store.verify(created.secret)).rejects.toBeInstanceOf(ResponseValidationError)
  })
})
