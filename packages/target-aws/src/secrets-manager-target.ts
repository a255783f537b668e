import {
  AuthenticationError,
  type BaseStoreSettings,
  checkTargetSettings,
  createHttpClient,
  type DeliveryTarget,
  invalidTargetSetting,
  KeyStoreError,
  type KeyStoreErrorOptions,
  NotFoundError,
  PermissionError,
  ProviderError,
  pollUntil,
  type RequestOptions,
  type RetryOperation,
  resolveCredentialAlternatives,
  settingOrEnv,
  ValidationError,
} from '@keyway/core/adapter'
import * as v from 'valibot'
import {
  describeSecretSchema,
  putSecretValueSchema,
  readAwsError,
  secretValueSchema,
} from './aws-schemas.js'
import { readProfileCredentials } from './shared-profile.js'
import { sigV4Fetch } from './sigv4-fetch.js'
import { throttlingAsRateLimit } from './throttling.js'

/** Settings of `createSecretsManagerTarget`. */
export interface SecretsManagerTargetSettings
  extends Omit<BaseStoreSettings, 'reconcile' | 'scheduler'> {
  /** The secret's region, e.g. `eu-west-1`. Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`. */
  region?: string
  /** Default: the `AWS_ACCESS_KEY_ID` env var. */
  accessKeyId?: string
  /** Default: the `AWS_SECRET_ACCESS_KEY` env var. */
  secretAccessKey?: string
  /** For temporary credentials. Default: the `AWS_SESSION_TOKEN` env var, where set. */
  sessionToken?: string
  /**
   * A shared profile to read static keys from (`aws_access_key_id`, `aws_secret_access_key`,
   * `aws_session_token`). Without keys given (settings or env vars), the target reads
   * `AWS_PROFILE`'s profile, else `default`, where one exists. A profile that uses SSO, a
   * credential process or an assumed role is refused with how to export static keys.
   */
  profile?: string
  /** Default: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials` (and `~/.aws/config`). */
  sharedCredentialsFile?: string
  /** Default `https://secretsmanager.<region>.amazonaws.com`. */
  baseUrl?: string
  /** The secret's name or ARN. The secret must exist; keyway adds versions to it. */
  secretId: string
  /**
   * Where the secret is a JSON object holding several values: the one field keyway owns.
   * The other fields are carried over unchanged into the new version. Default: the whole
   * secret string is the key.
   */
  jsonKey?: string
  /**
   * `'current'` (default): the new version becomes `AWSCURRENT` as it is written (the old one
   * `AWSPREVIOUS`). `'pending'`: it is written as `AWSPENDING` and made `AWSCURRENT` in the
   * propagate step (`UpdateSecretVersionStage`), as AWS's own rotation functions do.
   */
  stage?: 'current' | 'pending'
  /** The target's name in journals and reports. Default `aws-secrets-manager:<region>:<secretId>`. */
  name?: string
  /** How long confirm may take, in ms. Default 60 s (a new version is readable within seconds). */
  confirmWithinMs?: number
  /** Pause between two reads of the version while confirming, in ms. Default `1000`. */
  confirmIntervalMs?: number
}

const settingsSchema = v.object({
  // A missing or invalid region is most often an unset AWS_REGION.
  region: v.pipe(
    v.string((issue) => `${issue.message}; or set AWS_REGION`),
    v.regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'an AWS region such as eu-west-1; or set AWS_REGION'),
  ),
  secretId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9/_+=.@:-]{1,2048}$/, "a secret's name or ARN")),
  jsonKey: v.optional(v.pipe(v.string(), v.minLength(1, 'a field name'))),
  stage: v.optional(v.picklist(['current', 'pending'])),
  confirmWithinMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  confirmIntervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
})

const CURRENT = 'AWSCURRENT'
const PENDING = 'AWSPENDING'
const PREVIOUS = 'AWSPREVIOUS'

/**
 * A delivery target that keeps a rotated key in one AWS Secrets Manager secret, as a new
 * version. write: `DescribeSecret` (a version with this rotation's token is already there:
 * nothing is sent again), then `PutSecretValue` with `ClientRequestToken` set to the
 * rotation's write token, so a resend after a lost answer is a no-op at AWS; with `jsonKey`
 * the other fields of the current version are carried over. propagate: with `stage:
 * 'pending'`, `UpdateSecretVersionStage` moves `AWSCURRENT` to the new version. confirm:
 * `GetSecretValue` of that version reads the value back and checks it is `AWSCURRENT`.
 * Requests are signed with SigV4 (aws4fetch); no AWS SDK. Every setting is checked here,
 * before anything is sent.
 */
export function createSecretsManagerTarget(settings: SecretsManagerTargetSettings): DeliveryTarget {
  const {
    region: _region,
    accessKeyId: _accessKeyId,
    secretAccessKey: _secretAccessKey,
    sessionToken: _sessionToken,
    profile,
    sharedCredentialsFile,
    baseUrl,
    secretId,
    jsonKey,
    stage,
    name,
    confirmWithinMs,
    confirmIntervalMs,
    fetch,
    ...httpSettings
  } = settings
  const region =
    settingOrEnv('aws', settings, 'region', 'AWS_REGION') ??
    settingOrEnv('aws', {}, 'region', 'AWS_DEFAULT_REGION')
  const { region: checkedRegion } = checkTargetSettings('aws', settingsSchema, {
    ...settings,
    region,
  })
  // A profile named in the settings, else keys given, else AWS_PROFILE's or the default profile.
  const keysGiven =
    ['accessKeyId', 'secretAccessKey'].some((setting) => Object.hasOwn(settings, setting)) ||
    Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_SECRET_ACCESS_KEY)
  const fromProfile =
    profile !== undefined || !keysGiven
      ? readProfileCredentials({
          ...(profile === undefined ? {} : { profile }),
          ...(sharedCredentialsFile === undefined
            ? {}
            : { credentialsFile: sharedCredentialsFile }),
        })
      : undefined
  const { accessKeyId, secretAccessKey, sessionToken } = fromProfile ?? keysFrom(settings)
  const pending = stage === 'pending'
  const client = createHttpClient({
    ...httpSettings,
    provider: 'aws',
    baseUrl: baseUrl ?? `https://secretsmanager.${checkedRegion}.amazonaws.com`,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    fetch: throttlingAsRateLimit(
      sigV4Fetch(
        {
          accessKeyId: accessKeyId as string,
          secretAccessKey: secretAccessKey as string,
          sessionToken,
        },
        { service: 'secretsmanager', region: checkedRegion },
        fetch ?? ((input, init) => globalThis.fetch(input, init)),
      ),
    ),
    secrets: [
      accessKeyId as string,
      secretAccessKey as string,
      ...(sessionToken ? [sessionToken] : []),
    ],
    errorBody: readAwsError,
  })
  const intervalMs = confirmIntervalMs ?? 1000

  /** One Secrets Manager action: a signed JSON 1.1 `POST /`. */
  const call = async <TSchema extends v.GenericSchema>(
    action: string,
    body: Record<string, unknown>,
    schema: TSchema,
    options: RequestOptions & { retryAs: RetryOperation; secrets?: readonly string[] },
  ): Promise<v.InferOutput<TSchema>> => {
    try {
      const response = await client.request({
        operation: action,
        retryAs: options.retryAs,
        method: 'POST',
        path: '/',
        headers: { 'x-amz-target': `secretsmanager.${action}` },
        json: body,
        schema,
        ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
      return response.data
    } catch (error) {
      throw awsError(error)
    }
  }
  const describe = (options: RequestOptions) =>
    call('DescribeSecret', { SecretId: secretId }, describeSecretSchema, {
      ...options,
      retryAs: 'read',
    })
  const readVersion = (body: Record<string, unknown>, options: RequestOptions) =>
    call('GetSecretValue', { SecretId: secretId, ...body }, secretValueSchema, {
      ...options,
      retryAs: 'read',
    })

  /** The new secret string: the value, or the current JSON object with one field replaced. */
  const nextSecretString = async (
    value: string,
    current: string | undefined,
    options: RequestOptions,
  ): Promise<{ text: string; others: string[] }> => {
    if (jsonKey === undefined) return { text: value, others: [] }
    const fields =
      current === undefined
        ? {}
        : parseObject((await readVersion({ VersionId: current }, options)).SecretString)
    const others = Object.values(fields).filter(
      (field): field is string => typeof field === 'string',
    )
    return { text: JSON.stringify({ ...fields, [jsonKey]: value }), others }
  }

  return {
    name: name ?? `aws-secrets-manager:${checkedRegion}:${secretId}`,
    description: {
      kind: 'aws-secrets-manager',
      location: `secret ${secretId} in ${checkedRegion}${jsonKey === undefined ? '' : `, field ${jsonKey}`}`,
      propagate: pending
        ? 'moves AWSCURRENT to the new version (written as AWSPENDING)'
        : 'nothing: readers fetch AWSCURRENT (caching clients when their cache expires)',
      confirm: 'reads the new version back by its id: the value, and that it is AWSCURRENT',
      cannotConfirm: null,
    },
    confirmWithinMs: confirmWithinMs ?? 60_000,
    async write(created, context) {
      const token = context.writeToken
      const { VersionIdsToStages: stages } = await describe(context)
      const current = versionWith(stages, CURRENT)
      if (stages[token] !== undefined) {
        // Written by an earlier call of this rotation: send nothing again.
        return {
          versionId: token,
          previousVersionId:
            current === token ? (versionWith(stages, PREVIOUS) ?? null) : (current ?? null),
        }
      }
      const value = created.secret.reveal()
      const next = await nextSecretString(value, current, context)
      const put = await call(
        'PutSecretValue',
        {
          SecretId: secretId,
          ClientRequestToken: token,
          SecretString: next.text,
          ...(pending ? { VersionStages: [PENDING] } : {}),
        },
        putSecretValueSchema,
        // The token makes a resend a no-op at AWS: safe to retry.
        { signal: context.signal, retryAs: 'update', secrets: [value, next.text, ...next.others] },
      )
      return { versionId: put.VersionId, previousVersionId: current ?? null }
    },
    ...(pending
      ? {
          async propagate(context) {
            const versionId = String(context.receipt.versionId ?? context.writeToken)
            const { VersionIdsToStages: stages } = await describe(context)
            const current = versionWith(stages, CURRENT)
            if (current === versionId) return undefined
            try {
              await call(
                'UpdateSecretVersionStage',
                {
                  SecretId: secretId,
                  VersionStage: CURRENT,
                  MoveToVersionId: versionId,
                  ...(current === undefined ? {} : { RemoveFromVersionId: current }),
                },
                v.looseObject({}),
                { signal: context.signal, retryAs: 'update' },
              )
            } catch (error) {
              // A resend after a lost answer finds the label already moved.
              const { VersionIdsToStages: after } = await describe(context)
              if (versionWith(after, CURRENT) !== versionId) throw error
            }
            return undefined
          },
        }
      : {}),
    async confirm(context) {
      const versionId = String(context.receipt.versionId ?? context.writeToken)
      const expected = context.created.secret.reveal()
      await pollUntil(
        async () => {
          const version = await readVersion({ VersionId: versionId }, context)
          const value =
            jsonKey === undefined
              ? version.SecretString
              : parseObject(version.SecretString)[jsonKey]
          if (value !== expected) {
            throw new ProviderError({
              provider: 'aws',
              operation: 'confirm',
              message: `aws confirm: version ${versionId} of ${secretId} does not hold the new key`,
            })
          }
          return version.VersionStages.includes(CURRENT) ? true : undefined
        },
        {
          deadline: context.deadline,
          intervalMs,
          signal: context.signal,
          provider: 'aws',
          operation: 'confirm',
          what: `version ${versionId} of ${secretId} did not become AWSCURRENT`,
        },
      )
    },
    async probe(options = {}) {
      // Reads the secret's metadata only: Secrets Manager has no dry run of a write.
      await describe(options)
    },
  }
}

/** The version id that holds `stage`, or `undefined`. */
function versionWith(stages: Record<string, string[]>, stage: string): string | undefined {
  return Object.entries(stages).find(([, labels]) => labels.includes(stage))?.[0]
}

/** A JSON object secret's fields; anything else is a typed error that never quotes it. */
function parseObject(text: string | undefined): Record<string, unknown> {
  let fields: unknown
  try {
    fields = text === undefined ? undefined : JSON.parse(text)
  } catch {
    fields = undefined
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new ValidationError({
      provider: 'aws',
      operation: 'write',
      message: 'aws write: the secret does not hold a JSON object, which jsonKey needs',
      issues: [{ path: 'jsonKey', message: 'the secret must hold a JSON object' }],
    })
  }
  return fields as Record<string, unknown>
}

/** The keyway error kinds of AWS's error types that come with a plain 400. */
const KINDS: Record<string, new (options: KeyStoreErrorOptions) => KeyStoreError> = {
  ResourceNotFoundException: NotFoundError,
  UnrecognizedClientException: AuthenticationError,
  InvalidSignatureException: AuthenticationError,
  IncompleteSignatureException: AuthenticationError,
  MissingAuthenticationTokenException: AuthenticationError,
  ExpiredTokenException: AuthenticationError,
  AccessDeniedException: PermissionError,
}

/**
 * AWS's JSON services answer most errors with 400 and name them in `__type`: a missing
 * secret, a bad signature and a denied permission become the keyway errors they are.
 */
function awsError(error: unknown): unknown {
  if (!KeyStoreError.is(error) || error.vendorCode === undefined) return error
  const Kind = KINDS[error.vendorCode]
  if (Kind === undefined || error.constructor === Kind) return error
  return new Kind({
    provider: 'aws',
    operation: error.operation,
    ...(error.status === undefined ? {} : { status: error.status }),
    vendorCode: error.vendorCode,
    ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
    message: error.message,
  })
}

/** The keys from the settings, else `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`. */
function keysFrom(settings: SecretsManagerTargetSettings): {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string | undefined
} {
  const { accessKeyId, secretAccessKey } = resolveCredentialAlternatives('aws', settings, [
    [
      { setting: 'accessKeyId', envVar: 'AWS_ACCESS_KEY_ID' },
      { setting: 'secretAccessKey', envVar: 'AWS_SECRET_ACCESS_KEY' },
    ],
  ])
  const sessionToken =
    (settingOrEnv('aws', settings, 'sessionToken', 'AWS_SESSION_TOKEN') as string | undefined) ||
    undefined
  if (
    sessionToken !== undefined &&
    (typeof sessionToken !== 'string' || /[\r\n]/.test(sessionToken))
  ) {
    throw invalidTargetSetting(
      'aws',
      'sessionToken',
      'one line of text (setting or AWS_SESSION_TOKEN)',
    )
  }
  return {
    accessKeyId: accessKeyId as string,
    secretAccessKey: secretAccessKey as string,
    sessionToken,
  }
}
