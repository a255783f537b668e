import type { ApiKey } from '@keyway/core'
import { apiKeyFixture } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { isDue } from './rotation-policy.js'
import { rotationQueueName, rotationWorkflowId } from './workflow-id.js'

const now = Date.parse('2026-01-31T00:00:00Z')
const day = 86_400_000

function key(fields: Partial<ApiKey>): ApiKey {
  return apiKeyFixture({ provider: 'openrouter', createdAt: new Date(now - 40 * day), ...fields })
}

describe('isDue', () => {
  const policy = { name: 'p', schedule: '0 3 * * *', maxAgeMs: 30 * day }

  it('takes active keys at least maxAgeMs old', () => {
    expect(isDue(policy, key({}), 'main', now)).toBe(true)
    expect(isDue(policy, key({ createdAt: new Date(now - 29 * day) }), 'main', now)).toBe(false)
    expect(isDue(policy, key({ createdAt: new Date(now - 30 * day) }), 'main', now)).toBe(true)
  })

  it('counts the age of a key regenerated in place from its last regenerate in history', async () => {
    const { rotationHistory } = await import('@keyway/core')
    const history = rotationHistory([
      {
        change: 'c1',
        phase: 'outcome',
        at: new Date(now - 2 * day).toISOString(),
        action: 'regenerate',
        provider: 'latitudesh',
        store: 'main',
        account: null,
        keyId: 'k1',
        target: null,
        batchId: null,
        rotationId: null,
        step: null,
        outcome: 'succeeded',
        actor: { worker: 'w' },
      },
    ])
    expect(isDue(policy, key({}), 'main', now, history)).toBe(false)
    expect(isDue(policy, key({}), 'other', now, history)).toBe(true)
  })

  it('skips disabled keys, counts a key without a creation date as old, and applies select', () => {
    expect(isDue(policy, key({ status: 'disabled' }), 'main', now)).toBe(false)
    expect(isDue(policy, key({ createdAt: null }), 'main', now)).toBe(true)
    const select = (each: ApiKey, label: string) => each.name === 'ci' && label === 'main'
    expect(isDue({ ...policy, select }, key({}), 'main', now)).toBe(true)
    expect(isDue({ ...policy, select }, key({}), 'other', now)).toBe(false)
  })
})

describe('rotationWorkflowId', () => {
  it('derives one id per batch, label and key, with no two triples alike', () => {
    expect(rotationWorkflowId('nightly', 'main', 'k1')).toBe('keyway-rotate/nightly/main/k1')
    expect(rotationWorkflowId('a/b', 'c', 'd')).not.toBe(rotationWorkflowId('a', 'b/c', 'd'))
    expect(rotationQueueName('main')).toBe('keyway-main')
  })
})
