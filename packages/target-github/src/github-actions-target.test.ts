import { type DeliveryTarget, type KeyStoreError, ValidationError } from '@keyway/core'
import { startGitHubEmulator, targetTestKit, targetUnderTest } from '@keyway/testkit'
import { expectNoSecret, useEmulator } from '@keyway/testkit/conformance'
import { describe, expect, it } from 'vitest'
import {
  createGitHubActionsTarget,
  type GitHubActionsTargetSettings,
  type GitHubSecretScope,
} from './github-actions-target.js'

const github = useEmulator(startGitHubEmulator)
const { created, context, writeError, secret: NEW_SECRET } = targetTestKit({ target: 'github' })

const targetIn = targetUnderTest(createGitHubActionsTarget, github, {
  secret: 'API_KEY',
  confirmIntervalMs: 10,
})
const target = (scope: GitHubSecretScope, extra: Partial<GitHubActionsTargetSettings> = {}) =>
  targetIn({ scope, ...extra })

/** Writes and confirms, as a rotation does. */
async function deliver(delivery: DeliveryTarget, value = NEW_SECRET) {
  const receipt = (await delivery.write(created(value), context())) ?? {}
  await delivery.confirm(context(receipt))
  return receipt
}

describe('GitHub Actions target', () => {
  it.each([
    [
      { repository: 'acme/app' },
      'github:acme/app:API_KEY',
      'repository acme/app, Actions secret API_KEY',
    ],
    [
      { repository: 'acme/app', environment: 'production' },
      'github:acme/app@production:API_KEY',
      'repository acme/app, environment production, Actions secret API_KEY',
    ],
    [{ organization: 'acme' }, 'github:acme:API_KEY', 'organization acme, Actions secret API_KEY'],
  ] as const)(
    'seals the secret for %j so that GitHub opens the same value, and confirms it by updated_at',
    async (scope, name, location) => {
      const delivery = target(scope)
      expect(delivery.name).toBe(name)
      expect(delivery.description).toMatchObject({
        kind: 'github-actions',
        location,
        cannotConfirm: expect.stringContaining('never shows a secret'),
      })
      const receipt = await deliver(delivery)
      expect(github.control.secret(scope, 'API_KEY')?.value).toBe(NEW_SECRET)
      expect(receipt).toMatchObject({
        updatedBefore: null,
        publicKeyId: github.control.publicKey.key_id,
        status: 201,
      })
      // What went over the wire: read the secret, read the key, put the sealed value. No plain value.
      expect(
        github.requests.map((request) => `${request.method} ${request.path}`).slice(0, 3),
      ).toEqual([
        expect.stringMatching(/^GET .*\/secrets\/API_KEY$/),
        expect.stringMatching(/^GET .*\/secrets\/public-key$/),
        expect.stringMatching(/^PUT .*\/secrets\/API_KEY$/),
      ])
      const put = github.requests[2]
      expect(put?.headers).toMatchObject({
        authorization: '[REDACTED]',
        'x-github-api-version': '2022-11-28',
        accept: 'application/vnd.github+json',
      })
      expect(JSON.stringify(github.requests)).not.toContain(NEW_SECRET)
      expect(Object.keys(put?.body as object).sort()).toEqual(
        'organization' in scope
          ? ['encrypted_value', 'key_id', 'visibility']
          : ['encrypted_value', 'key_id'],
      )
    },
  )

  it('replaces an existing secret (204) and touches no other secret of the repository', async () => {
    github.control.seedSecret({ repository: 'acme/app' }, 'API_KEY', 'old-value')
    github.control.seedSecret({ repository: 'acme/app' }, 'DATABASE_URL', 'postgres://untouched')
    const before = github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.updatedAt
    github.control.advanceClock(5_000)
    const receipt = await deliver(target({ repository: 'acme/app' }))
    expect(receipt).toMatchObject({ updatedBefore: before, status: 204 })
    expect(github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.value).toBe(NEW_SECRET)
    expect(github.control.secret({ repository: 'acme/app' }, 'DATABASE_URL')?.value).toBe(
      'postgres://untouched',
    )
    expect(
      github.requests.filter((request) => request.method !== 'GET').map((request) => request.path),
    ).toEqual(['/repos/acme/app/actions/secrets/API_KEY'])
  })

  it('sends an organization secret with its visibility and repositories', async () => {
    await deliver(
      target({ organization: 'acme', visibility: 'selected', selectedRepositoryIds: [7, 9] }),
    )
    expect(github.control.secret({ organization: 'acme' }, 'API_KEY')).toMatchObject({
      value: NEW_SECRET,
      visibility: 'selected',
      selectedRepositoryIds: [7, 9],
    })
  })

  it('confirms a write in the same second as the update before it, by the time GitHub answered the write', async () => {
    github.control.seedSecret({ repository: 'acme/app' }, 'API_KEY', 'old-value')
    const before = github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.updatedAt
    const delivery = target({ repository: 'acme/app' })
    const receipt = (await delivery.write(created(), context())) ?? {}
    expect(receipt.writtenAt).toEqual(expect.stringMatching(/GMT$/))
    // However the seconds fell, an updated_at equal to the one before still confirms the write.
    const updatedAt = github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.updatedAt
    await delivery.confirm(context({ ...receipt, updatedBefore: updatedAt ?? null }))
    expect(before).toBeDefined()
  })

  it('does not confirm a secret whose updated_at never moved, and says so by the deadline', async () => {
    expect.assertions(2)
    github.control.seedSecret({ repository: 'acme/app' }, 'API_KEY', 'old-value')
    const updatedBefore = github.control.secret({ repository: 'acme/app' }, 'API_KEY')
      ?.updatedAt as string
    const delivery = target({ repository: 'acme/app' })
    const error = await delivery
      .confirm({ ...context({ updatedBefore }), deadline: Date.now() + 50 })
      .catch((caught: KeyStoreError) => caught)
    expect(error).toMatchObject({
      code: 'timeout',
      message:
        'github confirm: the secret API_KEY showed no update after the write by the deadline',
    })
    expect(github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.value).toBe('old-value')
  })

  it('retries a 503 and a write whose answer was lost; the second PUT of the same value is harmless', async () => {
    github.inject({ match: { method: 'PUT' }, status: 503 })
    github.inject({ match: { method: 'PUT' }, drop: 'after' })
    await deliver(target({ repository: 'acme/app' }))
    expect(github.requests.filter((request) => request.method === 'PUT')).toHaveLength(3)
    expect(github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.value).toBe(NEW_SECRET)
  })

  it('a refusal is a typed error that holds neither the token nor the secret', async () => {
    expect.assertions(4)
    github.inject({
      match: { method: 'PUT' },
      status: 403,
      body: {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com',
      },
    })
    const error = await writeError(target({ repository: 'acme/app' }))
    expect(error).toMatchObject({ name: 'PermissionError', status: 403, provider: 'github' })
    expect(String(error.message)).toContain('Resource not accessible by integration')
    expectNoSecret(error, [github.settings.token, NEW_SECRET])
  })

  it('probes reach and permission by reading the public key, writing nothing', async () => {
    await target({ repository: 'acme/app' }).probe?.()
    expect(github.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /repos/acme/app/actions/secrets/public-key',
    ])
    const stranger = target({ repository: 'acme/app' }, { token: 'ghp_not-the-right-one' })
    await expect(stranger.probe?.()).rejects.toMatchObject({
      name: 'AuthenticationError',
      status: 401,
    })
  })

  it('finds a write whose answer was lost by the update time it looked at before, and none that did not land', async () => {
    const delivery = target({ repository: 'acme/app' })
    const beforeWrite = (await delivery.look?.('write', context())) ?? {}
    expect(beforeWrite).toEqual({ updatedBefore: null })
    expect(await delivery.look?.('propagate', context())).toEqual({})
    expect(await delivery.landed?.('write', context(beforeWrite))).toBeUndefined()
    github.inject({ match: { method: 'PUT' }, drop: 'after', times: 3 })
    await expect(delivery.write(created(), context(beforeWrite))).rejects.toMatchObject({
      name: 'NetworkError',
    })
    expect(github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.value).toBe(NEW_SECRET)
    const found = await delivery.landed?.('write', context(beforeWrite))
    expect(found).toEqual({ updatedBefore: null, writtenAt: null })
    await delivery.confirm(context(found))
    // A secret that was there before: only an update after the look counts.
    const again = (await delivery.look?.('write', context())) ?? {}
    expect(again.updatedBefore).toBe(
      github.control.secret({ repository: 'acme/app' }, 'API_KEY')?.updatedAt,
    )
    expect(await delivery.landed?.('write', context(again))).toBeUndefined()
    github.control.advanceClock(2_000)
    await delivery.write(created('sk-newer-0123456789abcdef0123456789abcdef'), context(again))
    expect(await delivery.landed?.('write', context(again))).toEqual({
      updatedBefore: again.updatedBefore,
      writtenAt: null,
    })
  })

  it('refuses bad settings before anything is sent', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ secret: 'GITHUB_TOKEN', scope: { repository: 'acme/app' } }, 'secret'],
      [{ secret: '1KEY', scope: { repository: 'acme/app' } }, 'secret'],
      [{ secret: 'API_KEY', scope: { repository: 'acme' } }, 'scope.repository'],
      [{ secret: 'API_KEY', scope: { repository: 'acme/app/x' } }, 'scope.repository'],
      [
        { secret: 'API_KEY', scope: { organization: 'acme', visibility: 'selected' } },
        'scope.selectedRepositoryIds',
      ],
      [
        { secret: 'API_KEY', scope: { organization: 'acme', visibility: 'some' } },
        'scope.visibility',
      ],
      [
        { secret: 'API_KEY', scope: { repository: 'acme/app', environment: '' } },
        'scope.environment',
      ],
      [{ secret: 'API_KEY' }, 'scope'],
    ]
    for (const [settings, path] of bad) {
      expect(() => createGitHubActionsTarget({ ...github.settings, ...settings } as never)).toThrow(
        expect.objectContaining({
          name: 'ValidationError',
          issues: [expect.objectContaining({ path })],
        }),
      )
    }
    const saved = process.env.GITHUB_TOKEN
    delete process.env.GITHUB_TOKEN
    try {
      expect(() =>
        createGitHubActionsTarget({
          baseUrl: github.url,
          secret: 'API_KEY',
          scope: { repository: 'acme/app' },
        }),
      ).toThrow(ValidationError)
    } finally {
      if (saved !== undefined) process.env.GITHUB_TOKEN = saved
    }
    expect(github.requests).toEqual([])
  })
})
