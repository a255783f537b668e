import { describe, expect, it } from 'vitest'
import { createWithReconcile, type ReconcileCreateOptions } from './create-with-reconcile.js'
import {
  AmbiguousCreateError,
  CreateSettleError,
  NetworkError,
  NotFoundError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  ValidationError,
} from './errors.js'
import { createContext as context, MARKER, vendorKey } from './fleet/api-key.test-support.js'
import { defaultReconcileOptions } from './reconcile-options.js'
import { Secret } from './secret.js'
import type { ApiKey, CreatedKey } from './types.js'

const lost = () => new NetworkError({ ...context, message: 'connection lost', phase: 'ambiguous' })
/** The vendor failing `operation` with a 5xx. */
const down = (operation: string, status: number) =>
  new ProviderError({ ...context, operation, message: 'down', status })
/** A vendor call that fails with `error`. */
const throws = (error: unknown) => async () => {
  throw error
}

const apiKey = (id: string, name: string) => vendorKey({ id, name })

/**
 * What one create request does at the vendor: makes the key and answers (`ok`), makes it
 * and loses the answer, loses the request before making anything, makes the key only after
 * the reconcile has looked `lateBy` times (a slow vendor), or fails with an error.
 */
type Step = 'ok' | 'made-but-lost' | 'lost-before-made' | { lateBy: number } | Error

/**
 * A vendor in memory whose keys carry a marker in a temporary name `ci~<marker>`, and a
 * sibling key named `ci` that no reconcile may touch. Waits are recorded, never slept.
 */
function fakeVendor(plan: Step[]) {
  const keys = [apiKey('sibling', 'ci')]
  const calls = { send: 0, find: 0, settle: [] as string[], remove: [] as string[] }
  const waits: number[] = []
  const late: Array<{ after: number }> = []
  let next = 1
  const mint = (): CreatedKey => {
    const key = apiKey(`key-${next++}`, `ci~${MARKER}`)
    keys.push(key)
    return { key, secret: new Secret(`fake-secret-${key.id}-000000`) }
  }
  const options: ReconcileCreateOptions = {
    provider: 'vendor',
    marker: MARKER,
    window: {
      ...defaultReconcileOptions,
      sleep: async (ms, signal) => {
        signal?.throwIfAborted()
        waits.push(ms)
      },
    },
    send: async () => {
      calls.send++
      const step = plan.shift() ?? 'ok'
      if (step instanceof Error) throw step
      if (typeof step === 'object') {
        late.push({ after: calls.find + step.lateBy })
        throw new TimeoutError({ ...context, message: 'no answer in time' })
      }
      if (step === 'lost-before-made') throw lost()
      const created = mint()
      if (step === 'made-but-lost') throw lost()
      return created
    },
    find: async () => {
      calls.find++
      for (const pending of late.filter((entry) => entry.after <= calls.find)) {
        late.splice(late.indexOf(pending), 1)
        mint()
      }
      return keys.filter((key) => key.name === `ci~${MARKER}`)
    },
    settle: async (created) => {
      calls.settle.push(created.key.id)
      const key = keys.find((candidate) => candidate.id === created.key.id) as ApiKey
      key.name = 'ci'
      return { key: { ...key }, secret: created.secret }
    },
    remove: async (id) => {
      calls.remove.push(id)
      keys.splice(
        keys.findIndex((key) => key.id === id),
        1,
      )
    },
  }
  return { keys, calls, waits, options, ids: () => keys.map((key) => key.id) }
}

/** Runs the vendor's create to its rejection, which must be an `errorClass`. */
async function failure<E>(
  vendor: ReturnType<typeof fakeVendor>,
  errorClass: abstract new (...args: never[]) => E,
): Promise<E> {
  const error = await rejection(createWithReconcile(vendor.options))
  expect(error).toBeInstanceOf(errorClass)
  return error as E
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the create to fail')
    },
    (error: unknown) => error,
  )
}

/** Makes the create's `call` abort the create's signal and fail with its reason. */
function abortAt(vendor: ReturnType<typeof fakeVendor>, call: 'send' | 'settle') {
  const controller = new AbortController()
  vendor.options.signal = controller.signal
  vendor.options[call] = async () => {
    controller.abort()
    throw controller.signal.reason
  }
}

describe('createWithReconcile', () => {
  it('creates once and settles the key to its requested name, looking for nothing', async () => {
    const vendor = fakeVendor(['ok'])
    const created = await createWithReconcile(vendor.options)
    expect(created.key).toMatchObject({ id: 'key-1', name: 'ci' })
    expect(vendor.calls).toEqual({ send: 1, find: 0, settle: ['key-1'], remove: [] })
  })

  it('deletes the key a lost create made, found by its marker, and creates once more', async () => {
    const vendor = fakeVendor(['made-but-lost', 'ok'])
    const created = await createWithReconcile(vendor.options)
    expect(created.key.id).toBe('key-2')
    expect(vendor.calls.remove).toEqual(['key-1'])
    expect(vendor.ids()).toEqual(['sibling', 'key-2'])
    expect(vendor.waits).toEqual([])
  })

  it('never touches a sibling of the same name, even when the lost create made nothing', async () => {
    const vendor = fakeVendor(['lost-before-made', 'ok'])
    const created = await createWithReconcile(vendor.options)
    expect(created.key.id).toBe('key-1')
    expect(vendor.calls.remove).toEqual([])
    expect(vendor.ids()).toEqual(['sibling', 'key-1'])
  })

  it('looks over the whole window, at 0, 1, 3, 7 and 10 s, before sending again', async () => {
    const vendor = fakeVendor(['lost-before-made', 'ok'])
    await createWithReconcile(vendor.options)
    expect(vendor.waits).toEqual([1000, 2000, 4000, 3000])
    expect(vendor.calls.find).toBe(5 + 1)
    expect(vendor.calls.send).toBe(2)
  })

  it('finds the key of a slow vendor that makes it after the attempt timed out', async () => {
    const vendor = fakeVendor([{ lateBy: 3 }, 'ok'])
    const created = await createWithReconcile(vendor.options)
    expect(vendor.waits).toEqual([1000, 2000])
    expect(vendor.calls.remove).toEqual(['key-1'])
    expect(created.key.id).toBe('key-2')
    expect(vendor.ids()).toEqual(['sibling', 'key-2'])
  })

  it('deletes a first key that lands after the window, once the second create is settled', async () => {
    const vendor = fakeVendor([{ lateBy: 6 }, 'ok'])
    const created = await createWithReconcile(vendor.options)
    expect(created.key.id).toBe('key-1')
    // The first create's key, made by the slow vendor after the second was settled.
    expect(vendor.calls.remove).toEqual(['key-2'])
    expect(vendor.ids()).toEqual(['sibling', 'key-1'])
  })

  it('honours a configured window', async () => {
    const vendor = fakeVendor(['lost-before-made', 'ok'])
    await createWithReconcile({
      ...vendor.options,
      window: {
        ...defaultReconcileOptions,
        ...vendor.options.window,
        windowMs: 500,
        intervalMs: 200,
      },
    })
    expect(vendor.waits).toEqual([200, 300])
  })

  it('gives up after the second lost create, deleting what it made and naming the marker', async () => {
    const vendor = fakeVendor(['made-but-lost', 'made-but-lost'])
    const error = await rejection(createWithReconcile(vendor.options))
    expect(error).toBeInstanceOf(AmbiguousCreateError)
    const ambiguous = error as AmbiguousCreateError
    expect(ambiguous.candidateIds).toEqual([])
    expect(ambiguous.deletedIds).toEqual(['key-1', 'key-2'])
    expect(ambiguous.marker).toBe(MARKER)
    expect(ambiguous.message).toContain(`findCreated('${MARKER}')`)
    expect(vendor.ids()).toEqual(['sibling'])
    expect(vendor.calls.send).toBe(2)
  })

  it('says so, with the marker, when no key appeared after two lost creates', async () => {
    const vendor = fakeVendor(['lost-before-made', 'lost-before-made'])
    const error = await failure(vendor, AmbiguousCreateError)
    expect(error.message).toMatch(/no key carrying its marker appeared within 10000 ms/)
    expect(error.marker).toBe(MARKER)
    expect(vendor.calls.send).toBe(2)
  })

  it('throws, naming the marker and sending nothing more, when the reconcile cannot list', async () => {
    const vendor = fakeVendor(['made-but-lost'])
    const listError = down('list', 503)
    vendor.options.find = throws(listError)
    const error = await failure(vendor, AmbiguousCreateError)
    expect(error.message).toMatch(/outcome is unknown/)
    expect(error.message).toContain(MARKER)
    expect(error.marker).toBe(MARKER)
    expect(error.cause).toBe(listError)
    expect(error.candidateIds).toEqual([])
    expect(vendor.calls.send).toBe(1)
  })

  it('names the key it made when deleting it fails, and does not send again', async () => {
    const vendor = fakeVendor(['made-but-lost'])
    vendor.options.remove = throws(down('create', 503))
    const error = await failure(vendor, AmbiguousCreateError)
    expect(error.candidateIds).toEqual(['key-1'])
    expect(vendor.calls.send).toBe(1)
  })

  it('recovers the key where the vendor shows its secret again, and settles it', async () => {
    const vendor = fakeVendor(['made-but-lost'])
    const created = await createWithReconcile({
      ...vendor.options,
      recover: async (key) => ({ key, secret: new Secret(`fake-secret-${key.id}-000000`) }),
    })
    expect(created.key).toMatchObject({ id: 'key-1', name: 'ci' })
    expect(created.secret.reveal()).toBe('fake-secret-key-1-000000')
    expect(vendor.calls).toMatchObject({ send: 1, settle: ['key-1'], remove: [] })
  })

  it('deletes a key it cannot settle and says so in a CreateSettleError', async () => {
    const vendor = fakeVendor(['ok'])
    const settleError = down('update', 500)
    vendor.options.settle = throws(settleError)
    const error = await failure(vendor, CreateSettleError)
    expect(error.code).toBe('create_not_settled')
    expect(error.keyId).toBe('key-1')
    expect(error.deletedIds).toEqual(['key-1'])
    expect(error.candidateIds).toEqual([])
    expect(error.marker).toBe(MARKER)
    expect(error.cause).toBe(settleError)
    expect(vendor.ids()).toEqual(['sibling'])
  })

  it('names a key it could neither settle nor delete, which still carries the marker', async () => {
    const vendor = fakeVendor(['ok'])
    vendor.options.settle = throws(down('update', 500))
    vendor.options.remove = throws(down('delete', 500))
    const error = await failure(vendor, CreateSettleError)
    expect(error.candidateIds).toEqual(['key-1'])
    expect(error.message).toContain(MARKER)
    expect(vendor.keys.map((key) => key.name)).toEqual(['ci', `ci~${MARKER}`])
  })

  it('turns an abort while the create is in flight into an error that names the marker', async () => {
    const vendor = fakeVendor([])
    abortAt(vendor, 'send')
    const error = await failure(vendor, AmbiguousCreateError)
    expect(error.marker).toBe(MARKER)
    expect(error.message).toContain('aborted')
    expect((error.cause as Error).name).toBe('AbortError')
    expect(vendor.calls.find).toBe(0)
  })

  it('names the unsettled key when aborted while settling', async () => {
    const vendor = fakeVendor(['ok'])
    abortAt(vendor, 'settle')
    const error = await failure(vendor, AmbiguousCreateError)
    expect(error.candidateIds).toEqual(['key-1'])
    expect(vendor.calls.remove).toEqual([])
  })

  it('sends nothing when already aborted', async () => {
    const vendor = fakeVendor(['ok'])
    const error = await rejection(
      createWithReconcile({ ...vendor.options, signal: AbortSignal.abort() }),
    )
    expect((error as Error).name).toBe('AbortError')
    expect(vendor.calls.send).toBe(0)
  })

  it('never sends an unmarked create again, and only names the keys that may be its', async () => {
    const vendor = fakeVendor(['made-but-lost'])
    const error = (await rejection(
      createWithReconcile({ ...vendor.options, unmarked: 'the vendor takes no marker here' }),
    )) as AmbiguousCreateError
    expect(error).toBeInstanceOf(AmbiguousCreateError)
    expect(error.candidateIds).toEqual(['key-1'])
    expect(error.message).toContain('the vendor takes no marker here')
    expect(error.message).not.toContain('findCreated')
    expect(vendor.calls).toMatchObject({ send: 1, remove: [] })
  })

  it.each([
    ['a validation error', new ValidationError({ ...context, message: 'bad', status: 400 })],
    ['a rate limit', new RateLimitError({ ...context, message: 'slow', status: 429 })],
    [
      'a refused connection',
      new NetworkError({ ...context, message: 'refused', phase: 'before-send' }),
    ],
    ['a 404', new NotFoundError({ ...context, message: 'gone', status: 404 })],
  ])('passes %s straight through without looking', async (_name, failure) => {
    const vendor = fakeVendor([failure])
    await expect(createWithReconcile(vendor.options)).rejects.toBe(failure)
    expect(vendor.calls.find).toBe(0)
  })
})
