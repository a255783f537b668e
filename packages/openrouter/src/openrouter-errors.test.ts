import { ValidationError } from '@keyway/core'
import { useNock } from '@keyway/testkit/nock'
import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { createOpenRouterKeyStore } from './openrouter-key-store.js'

const MANAGEMENT_KEY = 'sk-or-v1-fake-management-key-for-tests-only'
const store = () => createOpenRouterKeyStore({ managementKey: MANAGEMENT_KEY, retry: false })

useNock()

describe('OpenRouter error bodies', () => {
  it('keeps the vendor message when fields it does not need are null', async () => {
    nock('https://openrouter.ai')
      .post('/api/v1/keys')
      .reply(400, { error: { code: null, message: 'name: Required', metadata: null } })
    const error = await store()
      .create({ name: 'ci' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as Error).message).toBe(
      'openrouter create failed: 400 bad request: name: Required',
    )
  })

  it('keeps the vendor code and message when the metadata has any shape', async () => {
    nock('https://openrouter.ai')
      .get(`/api/v1/keys/${'a'.repeat(64)}`)
      .reply(403, { error: { code: 'forbidden', message: 'Only management keys', metadata: 7 } })
    const error = await store()
      .get('a'.repeat(64))
      .catch((e: unknown) => e)
    expect((error as ValidationError).vendorCode).toBe('forbidden')
    expect((error as Error).message).toBe(
      'openrouter get failed: 403 permission denied: Only management keys',
    )
  })
})
