import { PaymentRequiredError } from '@keyway/core'
import { useNock } from '@keyway/testkit/nock'
import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { createNoteDxKeyStore } from './notedx-key-store.js'

const store = () => createNoteDxKeyStore({ idToken: 'fake-given-id-token', retry: false })
const list = () => nock('https://api.notedx.io').get('/v1/user/list-api-keys').query(true)

useNock()

describe('NoteDx error bodies', () => {
  it('keeps the nested message when fields it does not need are null', async () => {
    list().reply(402, {
      error: { code: null, message: 'Account Inactive' },
      message: null,
      details: null,
    })
    const error = await store()
      .list()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PaymentRequiredError)
    expect((error as Error).message).toBe(
      'notedx list failed: 402 payment required: Account Inactive',
    )
  })

  it('falls back to the top-level message when the nested error has another shape', async () => {
    list().reply(403, { error: 'denied', message: 'Forbidden for this account' })
    await expect(store().list()).rejects.toThrow(
      'notedx list failed: 403 permission denied: Forbidden for this account',
    )
  })
})
