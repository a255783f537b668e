import { describe, expect, it } from 'vitest'
import { UnsupportedOperationError, ValidationError } from '../errors.js'
import { MemoryKeyStore } from './memory-key-store.test-support.js'
import { rotateKey } from './rotate-key.js'
import { rotateKeys } from './rotate-keys.js'

const deliver = () => {}

describe('rotation options are checked before anything is sent', () => {
  it.each([
    ['retire', { retire: 'deleted' }],
    ['strategy', { strategy: 'regen' }],
    ['verifyAttempts', { verifyAttempts: 0 }],
    ['verifyAttempts', { verifyAttempts: 1.5 }],
    ['verifyIntervalMs', { verifyIntervalMs: -1 }],
    ['graceMs', { graceMs: Number.NaN }],
    ['signal', { signal: 'x' }],
    ['deliver', { deliver: 'vault' }],
    ['deliver', { deliver: undefined }],
    ['onStep', { onStep: 1 }],
    ['onWait', { onWait: {} }],
    ['verify', { verify: true }],
    ['input', { input: [] }],
    ['allowSelf', { allowSelf: 'yes' }],
    ['rotationId', { rotationId: '' }],
    ['journal', { journal: {} }],
    ['retries', { retries: 3 }],
  ])('rotateKey: %s', async (path, bad) => {
    const store = new MemoryKeyStore()
    const old = store.seed({ name: 'x' })
    const error = await rotateKey(store, { keyId: old.id, deliver, ...bad } as never).catch(
      (thrown: unknown) => thrown,
    )
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).issues.map((issue) => issue.path)).toContain(path)
    expect((error as Error).message).toContain(path)
    expect(store.reads).toEqual([])
    expect(store.writes).toEqual([])
  })

  it.each([
    ['concurrency', { concurrency: 0 }],
    ['filter', { filter: 'ci-*' }],
    ['keyIds', { keyIds: [1] }],
    ['keyIds', { keyIds: ['a'], filter: () => true }],
    ['onProgress', { onProgress: 'log' }],
    ['batchId', { resume: true }],
    ['confirm', { confirm: true }],
  ])('rotateKeys: %s', async (path, bad) => {
    const store = new MemoryKeyStore()
    const error = await rotateKeys(store, { deliver, ...bad } as never).catch(
      (thrown: unknown) => thrown,
    )
    expect(error).toBeInstanceOf(ValidationError)
    const paths = (error as ValidationError).issues.map((issue) => issue.path.split('.')[0])
    expect(paths).toContain(path)
    expect(store.reads).toEqual([])
  })

  it('refuses input, retire and grace with a regenerate, and what the vendor lacks', async () => {
    const store = new MemoryKeyStore({ regenerate: true })
    const old = store.seed({ name: 'x' })
    for (const bad of [{ input: { name: 'y' } }, { retire: 'keep' }, { graceMs: 5 }]) {
      await expect(
        rotateKey(store, { keyId: old.id, deliver, strategy: 'regenerate', ...bad } as never),
      ).rejects.toBeInstanceOf(ValidationError)
    }
    await expect(
      rotateKey(new MemoryKeyStore(), { keyId: old.id, deliver, strategy: 'regenerate' }),
    ).rejects.toBeInstanceOf(UnsupportedOperationError)
    expect(store.writes).toEqual([])
  })

  it('needs no deliver for a dry run', async () => {
    const store = new MemoryKeyStore()
    const old = store.seed({ name: 'x' })
    await expect(rotateKey(store, { keyId: old.id, dryRun: true })).resolves.toMatchObject({
      action: 'rotate',
    })
  })
})
