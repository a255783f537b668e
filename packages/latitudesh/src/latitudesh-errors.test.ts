import { ValidationError } from '@keyway/core'
import { useNock } from '@keyway/testkit/nock'
import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { createLatitudeKeyStore } from './latitudesh-key-store.js'

const TOKEN = 'fake-latitude-token-for-tests-00aa1'

useNock()

describe('Latitude.sh error bodies', () => {
  it('keeps the vendor message and field when fields it does not need are null', async () => {
    nock('https://api.latitude.sh')
      .patch('/auth/api_keys/tok_abcdefghijklm')
      .reply(422, {
        errors: [
          {
            status: '422',
            code: null,
            title: null,
            detail: 'allowed_ips must be a list of IP addresses or CIDR ranges',
            source: { pointer: '/data/attributes/allowed_ips', parameter: null },
            meta: null,
          },
        ],
      })
    const store = createLatitudeKeyStore({ token: TOKEN, retry: false })
    const error = await store.update('tok_abcdefghijklm', { name: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).message).toBe(
      'latitudesh update failed: 422 unprocessable input: allowed_ips must be a list of IP addresses or CIDR ranges',
    )
    expect((error as ValidationError).issues).toEqual([
      {
        path: 'allowed_ips',
        message: 'allowed_ips must be a list of IP addresses or CIDR ranges',
      },
    ])
  })

  it('reads the title when the detail has another shape', async () => {
    nock('https://api.latitude.sh')
      .get('/auth/api_keys')
      .reply(403, { errors: [{ title: 'Forbidden', detail: { why: 'scope' }, source: 'x' }] })
    const store = createLatitudeKeyStore({ token: TOKEN, retry: false })
    await expect(store.list()).rejects.toThrow(
      'latitudesh list failed: 403 permission denied: Forbidden',
    )
  })
})
