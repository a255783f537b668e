import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type AwsSecretsManagerEmulator,
  startAwsSecretsManagerEmulator,
} from './aws-secrets-manager-emulator.js'

let aws: AwsSecretsManagerEmulator
let client: SecretsManagerClient

function clientWith(overrides: { secretAccessKey?: string; region?: string } = {}) {
  return new SecretsManagerClient({
    endpoint: aws.url,
    region: overrides.region ?? aws.settings.region,
    credentials: {
      accessKeyId: aws.settings.accessKeyId,
      secretAccessKey: overrides.secretAccessKey ?? aws.settings.secretAccessKey,
      sessionToken: aws.settings.sessionToken,
    },
    maxAttempts: 1,
  })
}

beforeEach(async () => {
  aws = await startAwsSecretsManagerEmulator()
  client = clientWith()
})
afterEach(async () => {
  client.destroy()
  await aws.close()
})

const TOKEN_A = '0a1b2c3d-0000-4000-8000-00000000000a'
const TOKEN_B = '0a1b2c3d-0000-4000-8000-00000000000b'

describe('AWS Secrets Manager emulator, through the official client (@aws-sdk/client-secrets-manager)', () => {
  it('creates a secret, puts versions by token, and reads each back with its staging labels', async () => {
    const made = await client.send(
      new CreateSecretCommand({
        Name: 'prod/api',
        SecretString: 'first',
        ClientRequestToken: TOKEN_A,
      }),
    )
    expect(made).toMatchObject({
      Name: 'prod/api',
      VersionId: TOKEN_A,
      ARN: expect.stringMatching(/^arn:aws:secretsmanager:eu-west-1:/),
    })
    const put = await client.send(
      new PutSecretValueCommand({
        SecretId: 'prod/api',
        SecretString: 'second',
        ClientRequestToken: TOKEN_B,
      }),
    )
    expect(put).toMatchObject({ VersionId: TOKEN_B, VersionStages: ['AWSCURRENT'] })
    // The same token and value again: no new version.
    const again = await client.send(
      new PutSecretValueCommand({
        SecretId: made.ARN,
        SecretString: 'second',
        ClientRequestToken: TOKEN_B,
      }),
    )
    expect(again.VersionId).toBe(TOKEN_B)
    expect(aws.control.versionsPut).toBe(1)
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'prod/api' }))
    expect(described.VersionIdsToStages).toEqual({
      [TOKEN_A]: ['AWSPREVIOUS'],
      [TOKEN_B]: ['AWSCURRENT'],
    })
    expect(described.CreatedDate).toBeInstanceOf(Date)
    const byId = await client.send(
      new GetSecretValueCommand({ SecretId: 'prod/api', VersionId: TOKEN_A }),
    )
    expect(byId).toMatchObject({ SecretString: 'first', VersionStages: ['AWSPREVIOUS'] })
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'prod/api' }))
    expect(current).toMatchObject({ SecretString: 'second', VersionId: TOKEN_B })
  })

  it('refuses the same token with another value, and names a missing secret, as AWS does', async () => {
    aws.control.seedSecret('prod/api', 'first')
    await client.send(
      new PutSecretValueCommand({
        SecretId: 'prod/api',
        SecretString: 'x',
        ClientRequestToken: TOKEN_A,
      }),
    )
    await expect(
      client.send(
        new PutSecretValueCommand({
          SecretId: 'prod/api',
          SecretString: 'y',
          ClientRequestToken: TOKEN_A,
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceExistsException)
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: 'nope' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException)
    expect(aws.control.value('prod/api')).toBe('x')
  })

  it('moves AWSCURRENT to a pending version, leaving AWSPREVIOUS on the old one', async () => {
    aws.control.seedSecret('prod/api', 'old')
    const before = aws.control.versions('prod/api')?.[0]?.id as string
    await client.send(
      new PutSecretValueCommand({
        SecretId: 'prod/api',
        SecretString: 'new',
        ClientRequestToken: TOKEN_A,
        VersionStages: ['AWSPENDING'],
      }),
    )
    expect(aws.control.value('prod/api')).toBe('old')
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'prod/api',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_A,
        RemoveFromVersionId: before,
      }),
    )
    expect(
      aws.control.versions('prod/api')?.map((version) => [version.value, version.stages]),
    ).toEqual([
      ['old', ['AWSPREVIOUS']],
      ['new', ['AWSPENDING', 'AWSCURRENT']],
    ])
  })

  it('refuses a body changed after signing, as the signature covers it', async () => {
    aws.control.seedSecret('prod/api', 'old')
    const tampering = clientWith()
    // After the signing step: what goes over the wire is not what was signed.
    const tamper = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const request = (args as { request: { body: string } }).request
      request.body = request.body.replace('"signed"', '"forged"')
      return next(args)
    }
    tampering.middlewareStack.addRelativeTo(tamper as never, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'tamper',
    })
    await expect(
      tampering.send(new PutSecretValueCommand({ SecretId: 'prod/api', SecretString: 'signed' })),
    ).rejects.toMatchObject({ name: 'InvalidSignatureException' })
    tampering.destroy()
    expect(aws.requests.at(-1)?.body).toMatchObject({ SecretString: 'forged' })
    expect(aws.control.value('prod/api')).toBe('old')
  })

  it('checks the SigV4 signature: another secret key or region is refused and nothing changes', async () => {
    aws.control.seedSecret('prod/api', 'old')
    const forger = clientWith({ secretAccessKey: 'not-the-secret-access-key-0123456789abcd' })
    const error = await forger
      .send(new PutSecretValueCommand({ SecretId: 'prod/api', SecretString: 'forged' }))
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SecretsManagerServiceException)
    expect(error).toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 400 },
    })
    const elsewhere = clientWith({ region: 'us-east-1' })
    await expect(
      elsewhere.send(new DescribeSecretCommand({ SecretId: 'prod/api' })),
    ).rejects.toMatchObject({
      name: 'InvalidSignatureException',
    })
    forger.destroy()
    elsewhere.destroy()
    expect(aws.control.value('prod/api')).toBe('old')
    const log = JSON.stringify(aws.requests)
    expect(log).not.toContain(aws.settings.secretAccessKey)
    expect(log).not.toContain(aws.settings.sessionToken)
  })
})
