import { describe, expect, it } from 'vitest'
import { createWithReconcile, isAmbiguousFailure } from './create-with-reconcile.js'
import {
  AmbiguousCreateError,
  NetworkError,
  NotFoundError,
  ProviderError,
  RateLimitError,
  ResponseValidationError,
  TimeoutError,
  ValidationError,
} from './errors.js'
import { Secret } from './secret.js'
import type { ApiKey, CreatedKey } from './types.js'

const context = { provider: 'vendor', operation: 'create' }
const lost = () => new NetworkError({ ...context, message: 'connection lost', phase: 'ambiguous' })

function apiKey(id: string, name: string): ApiKey {
  return {
    provider: 'vendor',
    id,
    name,
    status: 'active',
    hint: null,
    createdAt: null,
    updatedAt: null,
    lastUsedAt: null,
    expiresAt: null,
    metadata: {},
    raw: {},
  }
}

/**
 * A vendor in memory. Each planned outcome of a create says whether the key gets made and
 * whether the caller hears about it.
 */
function fakeVendor(
  plan: Array<'ok' | 'made-but-lost' | 'lost-before-made' | Error>,
  existing: ApiKey[] = [],
) {
  const keys = [...existing]
  const calls = { list: 0, send: 0, remove: [] as string[] }
  let next = 1
  const mint = (): CreatedKey => {
    const key = apiKey(`key-${next++}`, 'ci')
    keys.push(key)
    return { key, secret: new Secret(`fake-secret-${key.id}-000000`) }
  }
  return {
    keys,
    calls,
    options: {
      provider: 'vendor',
      list: async () => {
        calls.list++
        return [...keys]
      },
      send: async () => {
        calls.send++
        const step = plan.shift() ?? 'ok'
        if (step instanceof Error) throw step
        if (step === 'lost-before-made') throw lost()
        const created = mint()
        if (step === 'made-but-lost') throw lost()
        return created
      },
      matches: (key: ApiKey) => key.name === 'ci',
      remove: async (id: string) => {
        calls.remove.push(id)
        keys.splice(
          keys.findIndex((key) => key.id === id),
          1,
        )
      },
    },
  }
}

describe('createWithReconcile', () => {
  it('creates once when nothing goes wrong', async () => {
    const vendor = fakeVendor(['ok'])
    const created = await createWithReconcile(vendor.options)
    expect(created.key.id).toBe('key-1')
    expect(vendor.calls).toEqual({ list: 1, send: 1, remove: [] })
  })

  it('deletes the orphan of a create lost after processing and creates once more', async () => {
    const vendor = fakeVendor(['made-but-lost', 'ok'], [apiKey('old', 'ci')])
    const created = await createWithReconcile(vendor.options)
    expect(created.key.id).toBe('key-2')
    expect(vendor.calls.remove).toEqual(['key-1'])
    expect(vendor.keys.map((key) => key.id)).toEqual(['old', 'key-2'])
  })

  it('creates once more, deleting nothing, when the lost create made no key', async () => {
    const vendor = fakeVendor(['lost-before-made', 'ok'], [apiKey('old', 'ci')])
    const created = await createWithReconcile(vendor.options)
    expect(created.key.id).toBe('key-1')
    expect(vendor.calls.remove).toEqual([])
    expect(vendor.keys.map((key) => key.id)).toEqual(['old', 'key-1'])
  })

  it('gives up after the second ambiguous failure, leaving no orphan and saying so', async () => {
    expect.assertions(5)
    const vendor = fakeVendor(['made-but-lost', 'made-but-lost'])
    try {
      await createWithReconcile(vendor.options)
    } catch (error) {
      expect(error).toBeInstanceOf(AmbiguousCreateError)
      expect((error as AmbiguousCreateError).candidateIds).toEqual([])
      expect((error as AmbiguousCreateError).deletedIds).toEqual(['key-1', 'key-2'])
      expect(vendor.keys).toEqual([])
    }
    expect(vendor.calls.send).toBe(2)
  })

  it('deletes nothing when two new keys match, and names both', async () => {
    expect.assertions(4)
    const vendor = fakeVendor(['made-but-lost'])
    const send = vendor.options.send
    vendor.options.send = () => {
      // Someone else creates a key with the same name at the same moment.
      vendor.keys.push(apiKey('stranger', 'ci'))
      return send()
    }
    try {
      await createWithReconcile(vendor.options)
    } catch (error) {
      expect(error).toBeInstanceOf(AmbiguousCreateError)
      expect((error as AmbiguousCreateError).candidateIds.sort()).toEqual(['key-1', 'stranger'])
      expect(vendor.calls.remove).toEqual([])
    }
    expect(vendor.keys).toHaveLength(2)
  })

  it('names the orphan when deleting it fails', async () => {
    const vendor = fakeVendor(['made-but-lost'])
    vendor.options.remove = async () => {
      throw new ProviderError({ ...context, message: 'down', status: 503 })
    }
    const error = await createWithReconcile(vendor.options).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(AmbiguousCreateError)
    expect((error as AmbiguousCreateError).candidateIds).toEqual(['key-1'])
    expect(vendor.calls.send).toBe(1)
  })

  it('recovers the orphan where the vendor can show its secret again, instead of deleting it', async () => {
    const vendor = fakeVendor(['made-but-lost'])
    const created = await createWithReconcile({
      ...vendor.options,
      recover: async (key) => ({ key, secret: new Secret(`fake-secret-${key.id}-000000`) }),
    })
    expect(created.key.id).toBe('key-1')
    expect(created.secret.reveal()).toBe('fake-secret-key-1-000000')
    expect(vendor.calls).toEqual({ list: 2, send: 1, remove: [] })
  })

  it.each([
    ['a validation error', new ValidationError({ ...context, message: 'bad', status: 400 })],
    ['a rate limit', new RateLimitError({ ...context, message: 'slow', status: 429 })],
    [
      'a refused connection',
      new NetworkError({ ...context, message: 'refused', phase: 'before-send' }),
    ],
    ['a 404', new NotFoundError({ ...context, message: 'gone', status: 404 })],
  ])('passes %s straight through without listing again', async (_name, failure) => {
    const vendor = fakeVendor([failure])
    await expect(createWithReconcile(vendor.options)).rejects.toBe(failure)
    expect(vendor.calls.list).toBe(1)
  })

  it('classifies which failures may have made a key', () => {
    expect(isAmbiguousFailure(lost())).toBe(true)
    expect(isAmbiguousFailure(new TimeoutError({ ...context, message: 't' }))).toBe(true)
    expect(isAmbiguousFailure(new ResponseValidationError({ ...context, message: 'shape' }))).toBe(
      true,
    )
    expect(isAmbiguousFailure(new ProviderError({ ...context, message: 'x', status: 502 }))).toBe(
      true,
    )
    expect(isAmbiguousFailure(new RateLimitError({ ...context, message: 'x', status: 429 }))).toBe(
      false,
    )
    expect(isAmbiguousFailure(new Error('plain'))).toBe(false)
  })
})
