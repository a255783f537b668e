import vault from 'node-vault'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TargetEmulator } from './target-emulator.js'
import { startVaultEmulator, type VaultEmulatorControl } from './vault-emulator.js'

let emulator: TargetEmulator<VaultEmulatorControl>
beforeEach(async () => {
  emulator = await startVaultEmulator()
})
afterEach(async () => {
  await emulator.close()
})

function client(options: { token?: string; namespace?: string } = {}) {
  return vault({
    apiVersion: 'v1',
    endpoint: emulator.url,
    token: options.token ?? emulator.settings.token,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  })
}

describe('Vault emulator, through the official client (node-vault)', () => {
  it('writes KV v2 versions with check-and-set and reads the latest and a given version', async () => {
    const kv = client()
    const first = await kv.write('secret/data/web/prod', {
      data: { API_KEY: 'one', DB: 'db' },
      options: { cas: 0 },
    })
    expect(first.data).toMatchObject({ version: 1, destroyed: false, deletion_time: '' })
    const second = await kv.write('secret/data/web/prod', {
      data: { API_KEY: 'two', DB: 'db' },
      options: { cas: 1 },
    })
    expect(second.data.version).toBe(2)
    const latest = await kv.read('secret/data/web/prod')
    expect(latest.data).toMatchObject({
      data: { API_KEY: 'two', DB: 'db' },
      metadata: { version: 2 },
    })
    const older = await kv.read('secret/data/web/prod?version=1')
    expect(older.data.data).toEqual({ API_KEY: 'one', DB: 'db' })
    const metadata = await kv.read('secret/metadata/web/prod')
    expect(metadata.data).toMatchObject({ current_version: 2, oldest_version: 1 })
  })

  it('refuses a stale check-and-set with 400 and leaves the secret as it was', async () => {
    const kv = client()
    emulator.control.seed('web/prod', { API_KEY: 'one' })
    const error = await kv
      .write('secret/data/web/prod', { data: { API_KEY: 'mine' }, options: { cas: 0 } })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({
      response: {
        statusCode: 400,
        body: { errors: ['check-and-set parameter did not match the current version'] },
      },
    })
    emulator.control.writeBeforeNextWrite('web/prod', { API_KEY: 'theirs' })
    await expect(
      kv.write('secret/data/web/prod', { data: { API_KEY: 'mine' }, options: { cas: 1 } }),
    ).rejects.toMatchObject({ response: { statusCode: 400 } })
    expect(emulator.control.read('web/prod')).toEqual({ API_KEY: 'theirs' })
  })

  it('keeps namespaces apart, answers capabilities-self, and refuses another token', async () => {
    await client({ namespace: 'team-a' }).write('secret/data/app', { data: { API_KEY: 'a' } })
    expect(emulator.control.read('app', { namespace: 'team-a' })).toEqual({ API_KEY: 'a' })
    expect(emulator.control.read('app')).toBeUndefined()
    const capabilities = await client().request({
      path: '/sys/capabilities-self',
      method: 'POST',
      json: { paths: ['secret/data/app'] },
    })
    expect(capabilities['secret/data/app']).toEqual(['create', 'read', 'update', 'delete', 'list'])
    expect(capabilities.data.capabilities).toEqual(capabilities['secret/data/app'])
    await expect(
      client({ token: 'hvs.not-the-token' }).read('secret/data/app'),
    ).rejects.toMatchObject({
      response: { statusCode: 403, body: { errors: ['permission denied'] } },
    })
    expect(JSON.stringify(emulator.requests)).not.toContain(emulator.settings.token)
  })
})
