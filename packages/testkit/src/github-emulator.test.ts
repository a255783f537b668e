import { Octokit } from '@octokit/rest'
import sodium from 'libsodium-wrappers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type GitHubEmulatorControl, startGitHubEmulator } from './github-emulator.js'
import type { TargetEmulator } from './target-emulator.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {} }
let github: TargetEmulator<GitHubEmulatorControl>
let octokit: Octokit

beforeEach(async () => {
  github = await startGitHubEmulator()
  octokit = new Octokit({ auth: github.settings.token, baseUrl: github.url, log: quiet })
  await sodium.ready
})
afterEach(async () => {
  await github.close()
})

/** Seals a value the way GitHub's documentation shows, with libsodium. */
function seal(value: string, key: string): string {
  const sealed = sodium.crypto_box_seal(
    sodium.from_string(value),
    sodium.from_base64(key, sodium.base64_variants.ORIGINAL),
  )
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL)
}

describe('GitHub emulator, through the official client (@octokit/rest)', () => {
  it('takes a repository secret sealed for its public key, which it opens to the same value', async () => {
    const { data: key } = await octokit.rest.actions.getRepoPublicKey({
      owner: 'acme',
      repo: 'app',
    })
    expect(key).toEqual(github.control.publicKey)
    const put = await octokit.rest.actions.createOrUpdateRepoSecret({
      owner: 'acme',
      repo: 'app',
      secret_name: 'API_KEY',
      encrypted_value: seal('value-one', key.key),
      key_id: key.key_id,
    })
    expect(put.status).toBe(201)
    expect(github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.value).toBe('value-one')
    const again = await octokit.rest.actions.createOrUpdateRepoSecret({
      owner: 'acme',
      repo: 'app',
      secret_name: 'API_KEY',
      encrypted_value: seal('value-two', key.key),
      key_id: key.key_id,
    })
    expect(again.status).toBe(204)
    // The emulator's private key opens what octokit sent.
    const sent = github.requests.filter((request) => request.method === 'PUT').at(-1)?.body as {
      encrypted_value: string
    }
    expect(github.control.open(sent.encrypted_value)).toBe('value-two')
    const { data: secret } = await octokit.rest.actions.getRepoSecret({
      owner: 'acme',
      repo: 'app',
      secret_name: 'API_KEY',
    })
    expect(secret).toMatchObject({
      name: 'API_KEY',
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    })
    const { data: list } = await octokit.rest.actions.listRepoSecrets({
      owner: 'acme',
      repo: 'app',
    })
    expect(list.secrets.map((entry) => entry.name)).toEqual(['API_KEY'])
  })

  it('keeps environment and organization secrets apart from the repository', async () => {
    const { data: envKey } = await octokit.rest.actions.getEnvironmentPublicKey({
      owner: 'acme',
      repo: 'app',
      environment_name: 'production',
    })
    await octokit.rest.actions.createOrUpdateEnvironmentSecret({
      owner: 'acme',
      repo: 'app',
      environment_name: 'production',
      secret_name: 'API_KEY',
      encrypted_value: seal('env-value', envKey.key),
      key_id: envKey.key_id,
    })
    const { data: orgKey } = await octokit.rest.actions.getOrgPublicKey({ org: 'acme' })
    await octokit.rest.actions.createOrUpdateOrgSecret({
      org: 'acme',
      secret_name: 'API_KEY',
      encrypted_value: seal('org-value', orgKey.key),
      key_id: orgKey.key_id,
      visibility: 'selected',
      selected_repository_ids: [42],
    })
    expect(
      github.control.secret({ repository: 'acme/app', environment: 'production' }, 'API_KEY')
        ?.value,
    ).toBe('env-value')
    expect(github.control.secret({ organization: 'acme' }, 'API_KEY')).toMatchObject({
      value: 'org-value',
      visibility: 'selected',
      selectedRepositoryIds: [42],
    })
    expect(github.control.names({ repository: 'acme/app' })).toEqual([])
    const { data: orgSecret } = await octokit.rest.actions.getOrgSecret({
      org: 'acme',
      secret_name: 'API_KEY',
    })
    expect(orgSecret.visibility).toBe('selected')
  })

  it('refuses a bad token, a value sealed for another key, a stale key id and a bad name, as GitHub does', async () => {
    const { data: key } = await octokit.rest.actions.getRepoPublicKey({
      owner: 'acme',
      repo: 'app',
    })
    const other = sodium.crypto_box_keypair()
    const otherKey = sodium.to_base64(other.publicKey, sodium.base64_variants.ORIGINAL)
    const put = (secret_name: string, encrypted_value: string, key_id: string) =>
      octokit.rest.actions.createOrUpdateRepoSecret({
        owner: 'acme',
        repo: 'app',
        secret_name,
        encrypted_value,
        key_id,
      })
    await expect(put('API_KEY', seal('x', otherKey), key.key_id)).rejects.toMatchObject({
      status: 422,
    })
    await expect(put('API_KEY', seal('x', key.key), 'stale')).rejects.toMatchObject({ status: 422 })
    await expect(put('GITHUB_TOKEN', seal('x', key.key), key.key_id)).rejects.toMatchObject({
      status: 422,
    })
    const stranger = new Octokit({ auth: 'ghp_wrong', baseUrl: github.url, log: quiet })
    await expect(
      stranger.rest.actions.getRepoPublicKey({ owner: 'acme', repo: 'app' }),
    ).rejects.toMatchObject({
      status: 401,
      response: { data: { message: 'Bad credentials' } },
    })
    expect(github.control.names({ repository: 'acme/app' })).toEqual([])
    // The log holds no token.
    expect(JSON.stringify(github.requests)).not.toContain(github.settings.token)
  })

  it('plays faults: a 503, and a write that lands whose answer is lost', async () => {
    const { data: key } = await octokit.rest.actions.getRepoPublicKey({
      owner: 'acme',
      repo: 'app',
    })
    github.inject({ match: { method: 'PUT' }, status: 503 })
    const put = () =>
      octokit.rest.actions.createOrUpdateRepoSecret({
        owner: 'acme',
        repo: 'app',
        secret_name: 'API_KEY',
        encrypted_value: seal('v', key.key),
        key_id: key.key_id,
      })
    await expect(put()).rejects.toMatchObject({ status: 503 })
    expect(github.control.secret({ repository: 'acme/app' }, 'API_KEY')).toBeUndefined()
    github.inject({ match: { method: 'PUT' }, drop: 'after' })
    await expect(put()).rejects.toThrow()
    expect(github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.value).toBe('v')
  })
})
