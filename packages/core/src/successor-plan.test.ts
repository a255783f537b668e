import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { defineCapabilities } from './capabilities.js'
import { defineKeyStore } from './define-key-store.js'
import { ValidationError } from './errors.js'
import { apiKey } from './fleet/api-key.test-support.js'
import { createHttpClient } from './http-client.js'
import { defaultSuccessorPlan, readRawKey } from './successor-plan.js'
import type { ApiKey, Capabilities } from './types.js'

const NOW = new Date('2030-06-01T00:00:00.000Z')

const capabilities: Capabilities = defineCapabilities({
  get: 'scan',
  pagination: 'none',
  names: true,
  metadata: true,
  disable: false,
  expiry: true,
  spendLimit: false,
  regenerate: false,
  verify: false,
  revealAfterCreate: false,
  deleted: 'gone',
  create: ['name', 'metadata', 'expiresAt'],
  update: ['name'],
})

function key(overrides: Partial<ApiKey> = {}): ApiKey {
  return apiKey({ provider: 'vendor', id: 'key_1', createdAt: null, ...overrides })
}

describe('defaultSuccessorPlan', () => {
  it('carries the name, the metadata and a future expiry', () => {
    const expiresAt = new Date('2031-01-01T00:00:00.000Z')
    const plan = defaultSuccessorPlan(
      key({ metadata: { team: 'platform' }, expiresAt }),
      capabilities,
      NOW,
    )
    expect(plan).toEqual({
      input: { name: 'ci-deploy', metadata: { team: 'platform' }, expiresAt },
      warnings: [],
    })
  })

  it('leaves out a past expiry and says so', () => {
    const plan = defaultSuccessorPlan(
      key({ expiresAt: new Date('2030-05-01T00:00:00.000Z') }),
      capabilities,
      NOW,
    )
    expect(plan.input).toEqual({ name: 'ci-deploy' })
    expect(plan.warnings).toEqual([
      expect.stringContaining('expiry (2030-05-01T00:00:00.000Z) has passed, so it is not carried'),
    ])
  })

  it('reads dates of a key that went through JSON', () => {
    const parsed = JSON.parse(
      JSON.stringify(key({ expiresAt: new Date('2031-01-01T00:00:00.000Z') })),
    ) as ApiKey
    expect(defaultSuccessorPlan(parsed, capabilities, NOW).input.expiresAt).toEqual(
      new Date('2031-01-01T00:00:00.000Z'),
    )
  })

  it('carries only what the vendor lets a create set', () => {
    const plan = defaultSuccessorPlan(
      key({ metadata: { team: 'platform' }, expiresAt: new Date('2031-01-01T00:00:00.000Z') }),
      { ...capabilities, names: false, metadata: false, expiry: false, create: [] },
      NOW,
    )
    expect(plan).toEqual({ input: {}, warnings: [] })
  })
})

describe('KeyStore.successorInput', () => {
  const client = createHttpClient({ provider: 'vendor', baseUrl: 'http://127.0.0.1:9' })
  const unused = () => {
    throw new Error('no request expected')
  }
  const base = {
    provider: 'vendor',
    capabilities,
    client,
    idPattern: /^key_\d+$/,
    iterate: unused,
    create: unused,
    update: unused,
    delete: unused,
  }

  it("uses the definition's mapping when it has one", async () => {
    const store = defineKeyStore({
      ...base,
      successorInput: async (old) => ({ input: { name: `${old.name}-next` }, warnings: ['w'] }),
    })
    expect(await store.successorInput(key())).toEqual({
      input: { name: 'ci-deploy-next' },
      warnings: ['w'],
    })
  })

  it('falls back to the neutral plan', async () => {
    const store = defineKeyStore(base)
    expect((await store.successorInput(key({ metadata: { a: 'b' } }))).input).toEqual({
      name: 'ci-deploy',
      metadata: { a: 'b' },
    })
  })

  it("refuses another vendor's key or a bad id", async () => {
    const store = defineKeyStore(base)
    await expect(store.successorInput(key({ provider: 'other' }))).rejects.toBeInstanceOf(
      ValidationError,
    )
    await expect(store.successorInput(key({ id: '../x' }))).rejects.toBeInstanceOf(ValidationError)
    await expect(store.successorInput(null as unknown as ApiKey)).rejects.toBeInstanceOf(
      ValidationError,
    )
  })
})

describe('readRawKey', () => {
  const schema = v.looseObject({ hash: v.string() })

  it("returns the vendor's record", () => {
    expect(readRawKey(schema, key({ raw: { hash: 'abc', extra: 1 } }), 'vendor')).toEqual({
      hash: 'abc',
      extra: 1,
    })
  })

  it('refuses a record of another shape with ValidationError', () => {
    expect(() => readRawKey(schema, key({ raw: { id: 1 } }), 'vendor')).toThrow(ValidationError)
  })
})
