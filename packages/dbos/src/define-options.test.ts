import { randomBytes } from 'node:crypto'
import { ValidationError } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import { defineKeywayRotations, type KeywayRotationsOptions } from './keyway-rotations.js'

// Every call here is refused before anything is registered or connected.
const base: KeywayRotationsOptions = {
  stores: {},
  databaseUrl: 'postgresql://127.0.0.1:1/unused',
  sealingKey: randomBytes(32).toString('base64'),
  deliver: () => {},
}

function refusal(options: Partial<KeywayRotationsOptions>): ValidationError {
  try {
    defineKeywayRotations({ ...base, ...options })
  } catch (error) {
    if (error instanceof ValidationError) return error
    throw error
  }
  throw new Error('accepted')
}

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

  it('a policy name that cannot name a schedule', () => {
    expect(refusal({ policies: [{ name: 'a b', schedule: '* * * * *' }] }).issues[0]?.path).toBe(
      'policies.name',
    )
  })
})
