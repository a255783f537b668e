import { ValidationError } from '@keyway/core'
import { useNock } from '@keyway/testkit/nock'
import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { createVoiceableKeyStore } from './voiceable-key-store.js'

const API_KEY = 'sk_live_fake-private-key-for-tests-only'
const api = () => nock('https://api.voiceable.dev/voiceable-api')

useNock()

describe('Voiceable error bodies', () => {
  it('keeps the vendor message when fields it does not need are null', async () => {
    api()
      .put('/api_keys/101')
      .reply(422, {
        status: { code: 422, message: 'Unprocessable Entity' },
        error: null,
        errors: ['Allowed origins must be valid URLs'],
        details: null,
      })
    const store = createVoiceableKeyStore({ apiKey: API_KEY, retry: false })
    // An origin keyway accepts, which this vendor answer still refuses.
    const error = await store
      .update('101', { allowedOrigins: ['https://app.example.com'] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).message).toBe(
      'voiceable update failed: 422 unprocessable input: Allowed origins must be valid URLs',
    )
    expect((error as ValidationError).issues).toEqual([
      { path: '', message: 'Allowed origins must be valid URLs' },
    ])
  })

  it('reads what it can from fields of unexpected shapes', async () => {
    api()
      .get('/api_keys/101')
      .reply(400, { status: 'bad', error: { nested: true }, errors: [7, 'Name is too long'] })
    const store = createVoiceableKeyStore({ apiKey: API_KEY, retry: false })
    await expect(store.get('101')).rejects.toThrow(
      'voiceable get failed: 400 bad request: Name is too long',
    )
  })
})

describe('allowed origins', () => {
  it('refuses what is not an origin before anything is sent', async () => {
    const store = createVoiceableKeyStore({ apiKey: API_KEY, retry: false })
    for (const origin of ['not a url', 'ftp://files.example.com', 'https://app.example.com/path']) {
      const error = await store.update('101', { allowedOrigins: [origin] }).catch((e: unknown) => e)
      expect(error, origin).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues).toEqual([
        { path: 'allowedOrigins.0', message: 'an origin such as https://app.example.com' },
      ])
    }
  })
})
