import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import type { KeyStoreError } from '@keyway/core'
import { writeTokenOf } from '@keyway/core/adapter'
import { startAwsSecretsManagerEmulator, targetTestKit, targetUnderTest } from '@keyway/testkit'
import { useEmulator } from '@keyway/testkit/conformance'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createSecretsManagerTarget,
  type SecretsManagerTargetSettings,
} from './secrets-manager-target.js'

const aws = useEmulator(startAwsSecretsManagerEmulator)
const { created, context, secret: NEW_SECRET } = targetTestKit({ target: 'aws' })

const target = targetUnderTest(createSecretsManagerTarget, aws, {
  secretId: 'prod/api',
  confirmIntervalMs: 5,
})

const puts = () =>
  aws.requests.filter(
    (request) => request.headers['x-amz-target'] === 'secretsmanager.PutSecretValue',
  )

describe('AWS Secrets Manager target', () => {
  it('puts a new version with the rotation token, which becomes AWSCURRENT and reads back', async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    const delivery = target()
    expect(delivery.name).toBe('aws-secrets-manager:eu-west-1:prod/api')
    expect(delivery.description).toMatchObject({ kind: 'aws-secrets-manager', cannotConfirm: null })
    const receipt = (await delivery.write(created(), context())) ?? {}
    const token = writeTokenOf('r1', 'aws', 'k2')
    expect(receipt).toEqual({
      versionId: token,
      previousVersionId: aws.control.versions('prod/api')?.[0]?.id,
    })
    await delivery.confirm(context(receipt))
    expect(aws.control.value('prod/api')).toBe(NEW_SECRET)
    expect(aws.control.value('prod/api', 'AWSPREVIOUS')).toBe('old-value')
    expect(puts().map((request) => request.body)).toEqual([
      { SecretId: 'prod/api', ClientRequestToken: token, SecretString: NEW_SECRET },
    ])
    expect(puts()[0]?.headers).toMatchObject({
      authorization: '[REDACTED]',
      'x-amz-security-token': '[REDACTED]',
      'content-type': 'application/x-amz-json-1.1',
    })
  })

  it('retries a 5xx; a second write of the same rotation finds its version and sends no PutSecretValue', async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    aws.inject({ match: { method: 'POST' }, status: 500, times: 2 })
    const first = (await target().write(created(), context())) ?? {}
    const again = (await target().write(created(), context())) ?? {}
    expect(again).toEqual(first)
    expect(puts()).toHaveLength(1)
    expect(aws.control.versionsPut).toBe(1)
  })

  it('resends a put whose answer was lost with the same token: AWS makes one version', async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    const delivery = target()
    let seen = 0
    const faulty = target({
      fetch: async (input, init) => {
        const request = new Request(input, init)
        const response = await globalThis.fetch(request)
        if (
          request.headers.get('x-amz-target') === 'secretsmanager.PutSecretValue' &&
          seen++ === 0
        ) {
          throw new TypeError('fetch failed: the answer was lost')
        }
        return response
      },
    })
    const receipt = (await faulty.write(created(), context())) ?? {}
    await delivery.confirm(context(receipt))
    expect(puts()).toHaveLength(2)
    expect(puts()[0]?.body).toEqual(puts()[1]?.body)
    expect(aws.control.versionsPut).toBe(1)
    expect(aws.control.versions('prod/api')).toHaveLength(2)
  })

  it('a put that times out while AWS still takes it is resent with the same token: one version', async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    // The describe goes through; the put is held past the time limit, then handled.
    aws.inject({ match: { method: 'POST' } })
    // Far apart, so that on a loaded machine only the held put runs out of time.
    aws.inject({ match: { method: 'POST' }, delayMs: 2500 })
    const receipt = (await target({ timeoutMs: 1000 }).write(created(), context())) ?? {}
    await aws.idle()
    // Resent with the same token, unless the held put had landed by the time the write looked
    // again (a slow machine): either way AWS made one version.
    const sent = puts()
    expect(sent.length).toBeGreaterThanOrEqual(1)
    expect(sent.length).toBeLessThanOrEqual(2)
    expect(new Set(sent.map((put) => JSON.stringify(put.body))).size).toBe(1)
    expect(aws.control.versionsPut).toBe(1)
    await target().confirm(context(receipt))
  })

  it('with jsonKey, replaces one field of a JSON secret and carries the others over', async () => {
    aws.control.seedSecret(
      'prod/api',
      JSON.stringify({ DATABASE_URL: 'postgres://untouched', API_KEY: 'old' }),
    )
    const delivery = target({ jsonKey: 'API_KEY' })
    expect(delivery.description.location).toBe('secret prod/api in eu-west-1, field API_KEY')
    const receipt = (await delivery.write(created(), context())) ?? {}
    await delivery.confirm(context(receipt))
    expect(JSON.parse(aws.control.value('prod/api') as string)).toEqual({
      DATABASE_URL: 'postgres://untouched',
      API_KEY: NEW_SECRET,
    })
  })

  it("with stage 'pending', writes AWSPENDING and moves AWSCURRENT only in propagate", async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    const delivery = target({ stage: 'pending' })
    const receipt = (await delivery.write(created(), context())) ?? {}
    expect(aws.control.value('prod/api')).toBe('old-value')
    expect(aws.control.value('prod/api', 'AWSPENDING')).toBe(NEW_SECRET)
    // Not current yet: confirm waits, then says so.
    await expect(
      delivery.confirm({ ...context(receipt), deadline: Date.now() + 30 }),
    ).rejects.toMatchObject({
      code: 'timeout',
    })
    await delivery.propagate?.(context(receipt))
    await delivery.propagate?.(context(receipt))
    await delivery.confirm(context(receipt))
    expect(aws.control.value('prod/api')).toBe(NEW_SECRET)
    expect(
      aws.requests.filter(
        (request) => request.headers['x-amz-target'] === 'secretsmanager.UpdateSecretVersionStage',
      ),
    ).toHaveLength(1)
  })

  it('confirm refuses a version that holds another value', async () => {
    expect.assertions(1)
    aws.control.seedSecret('prod/api', 'old-value')
    const delivery = target()
    const receipt = (await delivery.write(created(), context())) ?? {}
    await expect(
      delivery.confirm(context(receipt, { value: 'some-other-value' })),
    ).rejects.toMatchObject({
      name: 'ProviderError',
      message: expect.stringContaining('does not hold the new key'),
    })
  })

  it('a ThrottlingException (a 400) is retried after a backoff: one version, every put with the one token', async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    aws.control.throttle(2, 'PutSecretValue')
    const delivery = target({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } })
    const receipt = (await delivery.write(created(), context())) ?? {}
    await delivery.confirm(context(receipt))
    expect(aws.control.value('prod/api')).toBe(NEW_SECRET)
    expect(aws.control.versions('prod/api')?.map((version) => version.value)).toEqual([
      'old-value',
      NEW_SECRET,
    ])
    expect(
      puts().map((request) => (request.body as { ClientRequestToken?: string }).ClientRequestToken),
    ).toEqual([
      writeTokenOf('r1', 'aws', 'k2'),
      writeTokenOf('r1', 'aws', 'k2'),
      writeTokenOf('r1', 'aws', 'k2'),
    ])
  })

  it('throttled past its attempts: a RateLimitError naming ThrottlingException, nothing written', async () => {
    expect.assertions(3)
    aws.control.seedSecret('prod/api', 'old-value')
    aws.control.throttle(5, 'PutSecretValue')
    const error = await target({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } })
      .write(created(), context())
      .catch((caught: KeyStoreError) => caught)
    expect(error).toMatchObject({
      name: 'RateLimitError',
      vendorCode: 'ThrottlingException',
      retryable: true,
    })
    expect(puts()).toHaveLength(2)
    expect(aws.control.versions('prod/api')?.map((version) => version.value)).toEqual(['old-value'])
  })

  it('a missing secret is a NotFoundError; bad credentials are refused; no error holds a secret', async () => {
    expect.assertions(4)
    const missing = await target()
      .write(created(), context())
      .catch((caught: KeyStoreError) => caught)
    expect(missing).toMatchObject({
      name: 'NotFoundError',
      vendorCode: 'ResourceNotFoundException',
    })
    aws.control.seedSecret('prod/api', 'old-value')
    const forged = await target({ secretAccessKey: 'wrong-secret-access-key-0123456789abcdef' })
      .write(created(), context())
      .catch((caught: KeyStoreError) => caught)
    expect(forged).toMatchObject({
      name: 'AuthenticationError',
      vendorCode: 'InvalidSignatureException',
    })
    const text = [missing, forged]
      .map(
        (error) =>
          `${JSON.stringify(error)} ${inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })}`,
      )
      .join(' ')
    for (const secret of [aws.settings.secretAccessKey, aws.settings.sessionToken, NEW_SECRET]) {
      if (text.includes(secret)) throw new Error('a secret leaked into an error')
    }
    expect(aws.control.value('prod/api')).toBe('old-value')
    expect(puts()).toHaveLength(0)
  })

  it('probes with DescribeSecret only', async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    await target().probe?.()
    expect(aws.requests.map((request) => request.headers['x-amz-target'])).toEqual([
      'secretsmanager.DescribeSecret',
    ])
  })

  it('refuses bad settings before anything is sent', () => {
    const bad: Array<[Partial<SecretsManagerTargetSettings>, string]> = [
      [{ region: 'mars' }, 'region'],
      [{ secretId: 'has space' }, 'secretId'],
      [{ jsonKey: '' }, 'jsonKey'],
      [{ stage: 'later' as never }, 'stage'],
    ]
    for (const [settings, path] of bad) {
      expect(() => target(settings)).toThrow(
        expect.objectContaining({
          name: 'ValidationError',
          issues: [expect.objectContaining({ path })],
        }),
      )
    }
    const saved = { ...process.env }
    delete process.env.AWS_ACCESS_KEY_ID
    delete process.env.AWS_SECRET_ACCESS_KEY
    delete process.env.AWS_PROFILE
    // No shared profile either.
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), 'keyway-no-such-aws-credentials')
    process.env.AWS_CONFIG_FILE = join(tmpdir(), 'keyway-no-such-aws-config')
    try {
      expect(() =>
        createSecretsManagerTarget({ baseUrl: aws.url, region: 'eu-west-1', secretId: 'prod/api' }),
      ).toThrow(
        expect.objectContaining({
          name: 'ValidationError',
          message: expect.stringContaining('AWS_ACCESS_KEY_ID'),
        }),
      )
    } finally {
      process.env = saved
    }
    expect(aws.requests).toEqual([])
  })
})

describe('AWS credentials from a shared profile', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyway-aws-profile-'))
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
    vi.unstubAllEnvs()
  })

  /** A credentials file with the emulator's keys under `[ci]`, and an unrelated default. */
  function credentialsFile(): string {
    const path = join(dir, 'credentials')
    writeFileSync(
      path,
      [
        '[default]',
        'aws_access_key_id = AKIAOTHEROTHEROTHER00',
        'aws_secret_access_key = not-this-one',
        '',
        '# the profile keyway uses',
        '[ci]',
        `aws_access_key_id = ${aws.settings.accessKeyId}`,
        `aws_secret_access_key=${aws.settings.secretAccessKey}`,
        `aws_session_token = ${aws.settings.sessionToken}`,
        '',
      ].join('\n'),
    )
    return path
  }

  const fromProfile = (extra: Partial<SecretsManagerTargetSettings> = {}) =>
    createSecretsManagerTarget({
      baseUrl: aws.url,
      region: 'eu-west-1',
      secretId: 'prod/api',
      confirmIntervalMs: 5,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      ...extra,
    })

  it('signs with the static keys and session token of the profile named, and the write lands', async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    vi.stubEnv('AWS_ACCESS_KEY_ID', '')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '')
    const delivery = fromProfile({ profile: 'ci', sharedCredentialsFile: credentialsFile() })
    const receipt = (await delivery.write(created(), context())) ?? {}
    await delivery.confirm(context(receipt))
    expect(aws.control.value('prod/api')).toBe(NEW_SECRET)
    // The emulator checks the signature and the session token: these are the profile's.
    expect(puts()[0]?.headers['x-amz-security-token']).toBe('[REDACTED]')
  })

  it('without keys given, reads AWS_PROFILE from AWS_SHARED_CREDENTIALS_FILE', async () => {
    aws.control.seedSecret('prod/api', 'old-value')
    vi.stubEnv('AWS_ACCESS_KEY_ID', '')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '')
    vi.stubEnv('AWS_PROFILE', 'ci')
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', credentialsFile())
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'))
    const receipt = (await fromProfile().write(created(), context())) ?? {}
    expect(receipt).toMatchObject({ versionId: writeTokenOf('r1', 'aws', 'k2') })
    expect(aws.control.value('prod/api')).toBe(NEW_SECRET)
  })

  it.each([
    [
      '[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n',
      'IAM Identity Center (SSO) (sso_session)',
    ],
    [
      '[profile sso]\ncredential_process = /usr/local/bin/get-creds\n',
      'a credential process (credential_process)',
    ],
    [
      '[profile sso]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = default\n',
      'an assumed role (role_arn)',
    ],
  ])(
    'refuses a profile that gets its credentials another way, before anything is sent: %#',
    (config, how) => {
      writeFileSync(join(dir, 'config'), config)
      vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'))
      expect(() =>
        fromProfile({ profile: 'sso', sharedCredentialsFile: join(dir, 'credentials') }),
      ).toThrow(
        expect.objectContaining({
          name: 'ValidationError',
          message: `aws target: profile "sso" gets its credentials from ${how}, which keyway does not run; it reads static keys only: export static ones, e.g. eval "$(aws configure export-credentials --profile sso --format env)"`,
        }),
      )
      expect(aws.requests).toEqual([])
    },
  )

  it('refuses a profile named that no file holds; the error names files, never a key', () => {
    const file = credentialsFile()
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'))
    let error: unknown
    try {
      fromProfile({ profile: 'prod', sharedCredentialsFile: file })
    } catch (thrown) {
      error = thrown
    }
    expect(error).toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(`profile "prod" is not in ${file}`),
    })
    expect(inspect(error)).not.toContain(aws.settings.secretAccessKey)
    expect(aws.requests).toEqual([])
  })
})
