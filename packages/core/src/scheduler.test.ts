import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ValidationError } from './errors.js'
import { Scheduler } from './scheduler.js'

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  vi.setSystemTime(0)
})
afterEach(() => vi.useRealTimers())

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((done) => {
    resolve = done
  })
  return { promise, resolve }
}

describe('Scheduler', () => {
  it('caps the requests in flight', async () => {
    const scheduler = new Scheduler({ concurrency: 2 })
    const gates = [deferred(), deferred(), deferred()]
    let peak = 0
    const started: number[] = []
    const runs = gates.map((gate, index) =>
      scheduler.run('read', async () => {
        started.push(index)
        peak = Math.max(peak, scheduler.active)
        await gate.promise
      }),
    )
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toEqual([0, 1])
    gates[0]?.resolve()
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toEqual([0, 1, 2])
    gates[1]?.resolve()
    gates[2]?.resolve()
    await Promise.all(runs)
    expect(peak).toBe(2)
    expect(scheduler.active).toBe(0)
  })

  it('spaces reads and writes by their own rates', async () => {
    const scheduler = new Scheduler({ readsPerSecond: 2, writesPerSecond: 1 })
    const starts: Array<[string, number]> = []
    const runs = [
      ...[1, 2, 3].map(() =>
        scheduler.run('read', async () => void starts.push(['read', Date.now()])),
      ),
      ...[1, 2].map(() =>
        scheduler.run('write', async () => void starts.push(['write', Date.now()])),
      ),
    ]
    await vi.advanceTimersByTimeAsync(5000)
    await Promise.all(runs)
    expect(starts.filter(([kind]) => kind === 'read').map(([, time]) => time)).toEqual([
      0, 500, 1000,
    ])
    expect(starts.filter(([kind]) => kind === 'write').map(([, time]) => time)).toEqual([0, 1000])
  })

  it('holds every request while paused, and never shortens a pause', async () => {
    const scheduler = new Scheduler()
    scheduler.pause(3000)
    scheduler.pause(1000)
    let startedAt: number | undefined
    const run = scheduler.run('write', async () => {
      startedAt = Date.now()
    })
    await vi.advanceTimersByTimeAsync(2999)
    expect(startedAt).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    await run
    expect(startedAt).toBe(3000)
  })

  it('gives up a queued request at once when its signal aborts', async () => {
    const scheduler = new Scheduler({ concurrency: 1 })
    const gate = deferred()
    const first = scheduler.run('read', () => gate.promise)
    const controller = new AbortController()
    const task = vi.fn(async () => {})
    const second = scheduler.run('read', task, controller.signal)
    controller.abort(new Error('stop'))
    await expect(second).rejects.toThrow('stop')
    gate.resolve()
    await first
    expect(task).not.toHaveBeenCalled()
    expect(scheduler.active).toBe(0)
  })

  it.each([
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 1.5 }, 'concurrency'],
    [{ readsPerSecond: -1 }, 'readsPerSecond'],
    [{ writesPerSecond: Number.NaN }, 'writesPerSecond'],
    [{ writesPerSecond: Number.POSITIVE_INFINITY }, 'writesPerSecond'],
    [{ concurency: 2 }, 'concurency'],
  ])('refuses %o with a ValidationError naming %s', (options, path) => {
    expect.assertions(2)
    try {
      new Scheduler(options as never)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([path])
    }
  })
})
