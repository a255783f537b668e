import { startVaultEmulator, targetTestKit, targetUnderTest } from '@keyway/testkit'
import { expectNoSecret, useEmulator } from '@keyway/testkit/conformance'
import { describe, expect, it } from 'vitest'
import { createVaultKvTarget, type VaultKvTargetSettings } from './vault-kv-target.js'

const vault = useEmulator(startVaultEmulator)
const { created, context, writeError, secret: NEW_SECRET } = targetTestKit({ target: 'vault' })

const target = targetUnderTest(createVaultKvTarget, vault, { path: 'web/prod', key: 'API_KEY' })

const writes = () =>
  vault.requests.filter((request) => request.method === 'POST' && request.path.includes('/data/'))

describe('Vault KV v2 target', () => {
  it('writes one field with check-and-set on the current version, keeps the others, and confirms that version', async () => {
    vault.control.seed('web/prod', { API_KEY: 'old', DATABASE_URL: 'postgres://untouched' })
    const delivery = target()
    expect(delivery.name).toBe('vault:secret/web/prod#API_KEY')
    expect(delivery.description).toMatchObject({
      kind: 'vault-kv',
      location: 'KV v2 secret secret/web/prod, field API_KEY',
      cannotConfirm: null,
    })
    const receipt = (await delivery.write(created(), context())) ?? {}
    expect(receipt).toEqual({ version: 2 })
    await delivery.confirm(context(receipt))
    expect(vault.control.read('web/prod')).toEqual({
      API_KEY: NEW_SECRET,
      DATABASE_URL: 'postgres://untouched',
    })
    expect(writes()).toHaveLength(1)
    expect(writes()[0]?.body).toEqual({
      data: { API_KEY: NEW_SECRET, DATABASE_URL: 'postgres://untouched' },
      options: { cas: 1 },
    })
    expect(writes()[0]?.headers).toMatchObject({ 'x-vault-token': '[REDACTED]' })
  })

  it('creates the secret with cas 0 where there is none, in the namespace given', async () => {
    const delivery = target({ namespace: 'team-a', mount: 'secret' })
    expect(delivery.description.location).toBe(
      'namespace team-a, KV v2 secret secret/web/prod, field API_KEY',
    )
    const receipt = (await delivery.write(created(), context())) ?? {}
    await delivery.confirm(context(receipt))
    expect(vault.control.read('web/prod', { namespace: 'team-a' })).toEqual({ API_KEY: NEW_SECRET })
    expect(vault.control.read('web/prod')).toBeUndefined()
    expect(writes()[0]?.body).toMatchObject({ options: { cas: 0 } })
  })

  it('a stale check-and-set reads again and keeps what the other writer wrote', async () => {
    vault.control.seed('web/prod', { API_KEY: 'old' })
    vault.control.writeBeforeNextWrite('web/prod', { API_KEY: 'old', ADDED: 'by-someone-else' })
    const receipt = (await target().write(created(), context())) ?? {}
    expect(receipt).toEqual({ version: 3 })
    expect(vault.control.read('web/prod')).toEqual({
      API_KEY: NEW_SECRET,
      ADDED: 'by-someone-else',
    })
    expect(
      writes().map((request) => (request.body as { options: { cas: number } }).options.cas),
    ).toEqual([1, 2])
  })

  it('a write whose answer was lost is not applied twice; a rerun writes nothing', async () => {
    vault.control.seed('web/prod', { API_KEY: 'old' })
    vault.inject({ match: { method: 'POST' }, drop: 'after' })
    const receipt = (await target().write(created(), context())) ?? {}
    expect(receipt).toEqual({ version: 2 })
    const again = (await target().write(created(), context())) ?? {}
    expect(again).toEqual({ version: 2 })
    expect(vault.control.versions('web/prod')).toHaveLength(2)
    expect(vault.control.writes).toBe(1)
  })

  it('retries a 503, and confirm refuses a version without the new key', async () => {
    expect.assertions(2)
    vault.inject({ match: { method: 'GET' }, status: 503 })
    const receipt = (await target().write(created(), context())) ?? {}
    expect(vault.control.read('web/prod')).toEqual({ API_KEY: NEW_SECRET })
    await expect(
      target().confirm(context(receipt, { value: 'another-value' })),
    ).rejects.toMatchObject({
      name: 'ProviderError',
    })
  })

  it('another token is a PermissionError that holds neither token nor secret', async () => {
    expect.assertions(3)
    const error = await writeError(target({ token: 'hvs.not-the-token' }))
    expect(error).toMatchObject({
      name: 'PermissionError',
      status: 403,
      message: expect.stringContaining('permission denied'),
    })
    expectNoSecret(error, [vault.settings.token, NEW_SECRET])
  })

  it('probes with capabilities-self, writing nothing, and names a missing capability', async () => {
    await target().probe?.()
    expect(vault.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /v1/sys/capabilities-self',
    ])
    expect(vault.requests[0]?.body).toEqual({ paths: ['secret/data/web/prod'] })
    vault.control.setCapabilities(['read'])
    await expect(target().probe?.()).rejects.toMatchObject({
      name: 'PermissionError',
      message: 'vault probe: the token lacks update on secret/data/web/prod',
    })
  })

  it('refuses bad settings before anything is sent', () => {
    const bad: Array<[Partial<VaultKvTargetSettings>, string]> = [
      [{ path: '/web/prod' }, 'path'],
      [{ path: 'web//prod' }, 'path'],
      [{ key: '' }, 'key'],
      [{ mount: 'se cret' }, 'mount'],
      [{ baseUrl: 'not a url' }, 'baseUrl'],
    ]
    for (const [settings, path] of bad) {
      expect(() => target(settings)).toThrow(
        expect.objectContaining({
          name: 'ValidationError',
          issues: [expect.objectContaining({ path })],
        }),
      )
    }
    expect(vault.requests).toEqual([])
  })
})
