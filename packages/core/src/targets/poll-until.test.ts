import { afterEach, describe, expect, it, vi } from 'vitest'
import { TimeoutError } from '../errors.js'
import { pollUntil } from './poll-until.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('pollUntil', () => {
  const base = {
    intervalMs: 1000,
    provider: 'place',
    operation: 'confirm',
    what: 'the deployment never became ready',
  }

  it('returns the first value a check gives, checking again after each pause', async () => {
    const answers = [undefined, undefined, 'READY']
    const check = vi.fn(async () => answers.shift())
    await expect(
      pollUntil(check, { ...base, intervalMs: 0, deadline: Date.now() + 60_000 }),
    ).resolves.toBe('READY')
    expect(check).toHaveBeenCalledTimes(3)
  })

  it('gives up with a TimeoutError once the deadline passed, without waiting past it', async () => {
    vi.useFakeTimers()
    const check = vi.fn(async () => undefined)
    const waiting = pollUntil(check, { ...base, deadline: Date.now() + 2500 })
    const settled = expect(waiting).rejects.toThrow(
      new TimeoutError({
        provider: 'place',
        operation: 'confirm',
        message: 'place confirm: the deployment never became ready by the deadline',
      }),
    )
    await vi.advanceTimersByTimeAsync(2500)
    await settled
    // At 0, 1000, 2000 and at the deadline itself.
    expect(check).toHaveBeenCalledTimes(4)
  })

  it('ends at once with the error of a check that throws', async () => {
    const check = vi.fn(async () => {
      throw new Error('deployment ERROR')
    })
    await expect(pollUntil(check, { ...base, deadline: Date.now() + 60_000 })).rejects.toThrow(
      'deployment ERROR',
    )
    expect(check).toHaveBeenCalledTimes(1)
  })
})
