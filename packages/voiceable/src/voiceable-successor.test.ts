import { type ApiKey, ResponseValidationError, Secret, ValidationError } from '@keyway/core'
import { startEmulator } from '@keyway/testkit'
import { useEmulator } from '@keyway/testkit/conformance'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createVoiceableKeyStore,
  type VoiceableCreateKeyInput,
  type VoiceableKeyStore,
} from './voiceable-key-store.js'

const emulator = useEmulator(() => startEmulator('voiceable'))
let store: VoiceableKeyStore
beforeEach(() => {
  store = createVoiceableKeyStore({ ...emulator.settings, retry: false })
})
afterEach(() => {
  vi.unstubAllEnvs()
})

/** The emulator's settings without the key id, as an operator who did not name it has. */
const unnamed = () => {
  const { credentialKeyId: _id, ...settings } = emulator.settings
  return settings
}

const adminId = async () => (await store.list()).find((key) => key.name === 'admin')?.id as string

/** The listed keys, and the ids of the private ones among them. */
const listedPrivate = async () => {
  const keys = await store.list()
  const privateIds = keys
    .filter((key) => (key.raw as { key_type: string }).key_type === 'private')
    .map((key) => key.id)
  return { keys, privateIds }
}

describe('Voiceable successorInput', () => {
  it('carries a public key with its origins, assistants and transient setting', async () => {
    const input: VoiceableCreateKeyInput = {
      name: 'website widget',
      keyType: 'public',
      allowedOrigins: ['https://example.com'],
      allowedAssistants: ['17'],
      transientAssistant: true,
    }
    const old = await store.create(input)
    const plan = await store.successorInput(await store.get(old.key.id))
    expect(plan).toEqual({ input, warnings: [] })
    const successor = await store.create(plan.input)
    expect(emulator.control.keyAttributes(successor.secret.reveal())).toEqual({
      name: 'website widget',
      key_type: 'public',
      allowed_origins: ['https://example.com'],
      allowed_assistants: ['17'],
      transient_assistant: true,
    })
  })
})

describe('Voiceable credentialKeyIds', () => {
  it('returns exactly the credentialKeyId setting, once the listing shows it as a private key', async () => {
    const id = await adminId()
    expect(emulator.settings.credentialKeyId).toBe(id)
    const named = createVoiceableKeyStore({ ...unnamed(), credentialKeyId: id })
    const before = emulator.requests.length
    expect(await named.credentialKeyIds?.()).toEqual([id])
    expect(
      emulator.requests.slice(before).map((request) => `${request.method} ${request.path}`),
    ).toEqual(['GET /voiceable-api/api_keys'])
    const keys = await named.list()
    const listed = emulator.requests.length
    expect(await named.credentialKeyIds?.({ among: keys })).toEqual([id])
    expect(emulator.requests.length).toBe(listed)
  })

  it('reads the id from VOICEABLE_API_KEY_ID', async () => {
    const id = await adminId()
    vi.stubEnv('VOICEABLE_API_KEY_ID', id)
    expect(await createVoiceableKeyStore(unnamed()).credentialKeyIds?.()).toEqual([id])
  })

  it('a named id that is not listed as a private key proves nothing: every private key may be the credential', async () => {
    vi.stubEnv('VOICEABLE_API_KEY_ID', '')
    const { keys, privateIds } = await listedPrivate()
    const publicId = keys.find((key) => !privateIds.includes(key.id))?.id as string
    // A typo, or the id of a key an earlier rotation retired while the setting still names it.
    const stale = createVoiceableKeyStore({ ...unnamed(), credentialKeyId: '999999' })
    expect(await stale.credentialKeyIds?.()).toEqual(privateIds)
    // Only a private key can manage keys: a public one cannot be the credential.
    const wrong = createVoiceableKeyStore({ ...unnamed(), credentialKeyId: publicId })
    expect(await wrong.credentialKeyIds?.({ among: keys })).toEqual(privateIds)
  })

  it('without an id, returns every private key: each may be the credential', async () => {
    vi.stubEnv('VOICEABLE_API_KEY_ID', '')
    const { keys, privateIds } = await listedPrivate()
    expect(privateIds).toContain(await adminId())
    expect(privateIds.length).toBeLessThan(keys.length)
    expect(await createVoiceableKeyStore(unnamed()).credentialKeyIds?.()).toEqual(privateIds)
  })

  it('picks from a listing the caller already has, asking nothing', async () => {
    vi.stubEnv('VOICEABLE_API_KEY_ID', '')
    const unnamedStore = createVoiceableKeyStore(unnamed())
    const keys = await unnamedStore.list()
    const before = emulator.requests.length
    const among = await unnamedStore.credentialKeyIds?.({ among: keys })
    expect(emulator.requests.length).toBe(before)
    expect(among).toEqual(await unnamedStore.credentialKeyIds?.())
    expect(among).toContain(await adminId())
  })

  it('refuses a listing of another store', async () => {
    expect.assertions(1)
    const foreign = { ...(await store.list())[0], raw: { id: 'not-voiceable' } } as ApiKey
    await expect(
      createVoiceableKeyStore(unnamed()).credentialKeyIds?.({ among: [foreign] }),
    ).rejects.toThrow(ValidationError)
  })

  it('with a session token, returns none: a token is not a key', async () => {
    const before = emulator.requests.length
    const withToken = createVoiceableKeyStore({
      baseUrl: emulator.settings.baseUrl as string,
      token: 'fake-session-jwt',
    })
    expect(await withToken.credentialKeyIds?.()).toEqual([])
    expect(emulator.requests.length).toBe(before)
  })

  it('forgets the named id once the store switches to another key', async () => {
    vi.stubEnv('VOICEABLE_API_KEY_ID', '')
    const id = await adminId()
    const named = createVoiceableKeyStore({ ...unnamed(), credentialKeyId: id })
    const next = await named.create({ name: 'next admin' })
    named.useCredential?.(next.secret)
    const ids = await named.credentialKeyIds?.()
    expect(ids).toContain(next.key.id)
    expect(ids).toContain(id)
  })

  it('refuses a malformed id, or an id beside a session token', () => {
    expect(() => createVoiceableKeyStore({ ...unnamed(), credentialKeyId: 'abc' })).toThrow(
      ValidationError,
    )
    vi.stubEnv('VOICEABLE_API_KEY_ID', '12/3')
    expect(() => createVoiceableKeyStore(unnamed())).toThrow(/VOICEABLE_API_KEY_ID/)
    expect(() =>
      createVoiceableKeyStore({ token: 'fake-session-jwt', credentialKeyId: '101' }),
    ).toThrow(ValidationError)
  })
})

describe('Voiceable verify', () => {
  it('is true for a private or public key and false for an unknown one', async () => {
    const privateKey = await store.create({ name: 'p' })
    const publicKey = await store.create({ name: 'q', keyType: 'public' })
    expect(await store.verify(privateKey.secret)).toBe(true)
    expect(await store.verify(publicKey.secret)).toBe(true)
    expect(await store.verify(new Secret(`sk_live_${'0'.repeat(64)}`))).toBe(false)
  })

  it.each([
    ['a body that is not JSON', { malformed: true }],
    ['a JSON body of another shape', { status: 200, body: { ok: true } }],
    ['an envelope without data', { status: 200, body: { status: { code: 200 } } }],
  ])('throws ResponseValidationError for a 2xx with %s', async (_name, fault) => {
    const created = await store.create({ name: 'fresh' })
    emulator.inject({ match: { method: 'GET' }, times: 5, ...fault })
    await expect(store.verify(created.secret)).rejects.toBeInstanceOf(ResponseValidationError)
  })
})
