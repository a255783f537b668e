import { describe, expect, it } from 'vitest'
import type { KeywayRotationsOptions } from './keyway-rotations.js'
import { refusalOf, UNUSED_CONNECTION } from './keyway-rotations.test-support.js'

// Every call here is refused before anything is registered or connected.
const base: KeywayRotationsOptions = { stores: {}, ...UNUSED_CONNECTION, deliver: () => {} }

const refusal = (options: Partial<KeywayRotationsOptions>) => refusalOf({ ...base, ...options })

describe('defineKeywayRotations refuses bad options before anything starts', () => {
  it('an audit policy with a wrong value, naming the policy and field', () => {
    const error = refusal({
      policies: [{ name: 'weekly', schedule: '0 3 * * 1', audit: { maxAgeDays: -1 } }],
    })
    expect(error.issues.map((issue) => issue.path)).toEqual(['policies.weekly.audit.maxAgeDays'])
  })

  it('an audit policy that also gives maxAgeMs or select', () => {
    expect(
      refusal({
        policies: [{ name: 'weekly', schedule: '0 3 * * 1', audit: {}, maxAgeMs: 1 }],
      }).message,
    ).toBe('policies.audit replaces maxAgeMs and select: give one or the other')
    expect(
      refusal({
        policies: [{ name: 'weekly', schedule: '0 3 * * 1', audit: {}, select: () => true }],
      }).issues[0]?.path,
    ).toBe('policies.audit')
  })

  it('a takeover that would call live workers dead', () => {
    expect(refusal({ takeover: { heartbeatMs: 1_000, deadAfterMs: 2_000 } }).issues).toEqual([
      {
        path: 'takeover.deadAfterMs',
        message: 'must be a whole number of milliseconds, at least three heartbeats (3000)',
      },
    ])
  })

  it('a store schedule with a bad interval or time of day, or beside retire "keep", naming the store', async () => {
    const { createOpenRouterKeyStore } = await import('@keyway/openrouter')
    const store = () =>
      createOpenRouterKeyStore({ managementKey: 'unused-test-key', baseUrl: 'http://127.0.0.1:9' })
    const policies = [{ name: 'sched', schedule: '* * * * *', fromSchedules: true }]
    const withSchedule = (schedule: unknown) => ({
      stores: { prod: { store: store(), schedule: schedule as never } },
      policies,
    })
    expect(refusal(withSchedule({ every: '30x' })).issues[0]).toMatchObject({
      path: 'stores.prod.schedule.every',
      message: expect.stringContaining('expected a whole number and a unit'),
    })
    expect(refusal(withSchedule([{ every: '30d', at: '25:00Z' }])).issues[0]?.path).toBe(
      'stores.prod.schedule.0.at',
    )
    expect(
      refusal({ ...withSchedule({ every: '30d' }), rotation: { retire: 'keep' } }).issues[0]?.path,
    ).toBe('stores.prod.rotation.retire')
    expect(refusal({ stores: { prod: { store: store() } }, policies }).message).toBe(
      'policies.fromSchedules needs a store with a schedule among its labels',
    )
  })

  it('a policy name that cannot name a schedule', () => {
    expect(refusal({ policies: [{ name: 'a b', schedule: '* * * * *' }] }).issues[0]?.path).toBe(
      'policies.name',
    )
  })
})
