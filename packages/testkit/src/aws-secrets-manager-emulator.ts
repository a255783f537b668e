import { randomUUID } from 'node:crypto'
import { isPlainObject, randomAlphanumeric } from './emulator-helpers.js'
import {
  type EmulatedRequest,
  type EmulatedResponse,
  EmulatorServer,
  INVALID_JSON,
} from './http-server.js'
import { verifySigV4 } from './sigv4-verify.js'
import type { TargetEmulator, TargetEmulatorOptions } from './target-emulator.js'

/** One version of a secret as the emulator holds it. */
export interface AwsSecretVersion {
  id: string
  value: string
  stages: string[]
  createdAt: number
}

/** Controls of the AWS Secrets Manager emulator. */
export interface AwsSecretsManagerControl {
  readonly region: string
  /** Adds a secret (with a first `AWSCURRENT` version holding `value`, where given); returns its ARN. */
  seedSecret(name: string, value?: string): string
  /** Every version of a secret (by name or ARN), oldest first, or `undefined`. */
  versions(secret: string): AwsSecretVersion[] | undefined
  /** The value of the version labelled `stage` (default `AWSCURRENT`), or `undefined`. */
  value(secret: string, stage?: string): string | undefined
  /** Names of every secret. */
  names(): string[]
  /** How many versions `PutSecretValue` made (a repeat with the same token makes none). */
  readonly versionsPut: number
  /**
   * Throttles the next `times` (default 1) signed calls of `action` (default any action) as
   * Secrets Manager does: 400 with `__type` `ThrottlingException`, nothing done.
   */
  throttle(times?: number, action?: string): void
}

/** What to pass to `createSecretsManagerTarget` (or an AWS client): every credential part is a secret. */
export interface AwsEmulatorSettings {
  baseUrl: string
  region: string
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
}

/** A running AWS Secrets Manager emulator: its settings are SigV4 credentials, not a token. */
export interface AwsSecretsManagerEmulator
  extends Omit<TargetEmulator<AwsSecretsManagerControl>, 'settings'> {
  settings: AwsEmulatorSettings
}

const ACCOUNT = '123456789012'
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/
const CURRENT = 'AWSCURRENT'
const PREVIOUS = 'AWSPREVIOUS'

/**
 * Starts a loopback server that plays AWS Secrets Manager's JSON 1.1 API as a delivery
 * target uses it: `CreateSecret`, `DescribeSecret`, `GetSecretValue`, `PutSecretValue` (a
 * `ClientRequestToken` seen before with the same value makes no new version; with another
 * value it is `ResourceExistsException`), `UpdateSecretVersionStage` (moving `AWSCURRENT`
 * moves `AWSPREVIOUS` to the version it left), `ListSecrets`. Every request's SigV4 signature
 * is checked (credential scope, time, session token, signature), and a bad one refused as AWS
 * does. `control.throttle()` answers calls with Secrets Manager's `ThrottlingException` (a 400). `@aws-sdk/client-secrets-manager` accepts it (`endpoint` pointed at it).
 */
export async function startAwsSecretsManagerEmulator(
  options: TargetEmulatorOptions & { region?: string } = {},
): Promise<AwsSecretsManagerEmulator> {
  const region = options.region ?? 'eu-west-1'
  const credentials = {
    accessKeyId: `AKIA${randomAlphanumeric(16).toUpperCase()}`,
    secretAccessKey: randomAlphanumeric(40),
    sessionToken: randomAlphanumeric(64),
  }
  const { handler, control } = createAwsEmulator(region, credentials)
  const server = new EmulatorServer(handler)
  const url = await server.listen(options.port ?? 0)
  return {
    service: 'aws-secrets-manager',
    url,
    settings: { baseUrl: url, region, ...credentials },
    close: () => server.close(),
    inject: (fault) => server.inject(fault),
    clearFaults: () => server.clearFaults(),
    idle: () => server.idle(),
    get requests() {
      return server.requests
    },
    control,
  }
}

interface StoredSecret {
  arn: string
  name: string
  createdAt: number
  versions: AwsSecretVersion[]
}

function createAwsEmulator(
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
) {
  const secrets = new Map<string, StoredSecret>()
  let versionsPut = 0
  const throttles: Array<string | undefined> = []
  const now = () => Date.now() / 1000

  const error = (type: string, message: string, status = 400): EmulatedResponse => ({
    status,
    headers: { 'x-amzn-requestid': randomUUID() },
    body: { __type: type, message },
  })
  const ok = (body: unknown): EmulatedResponse => ({
    status: 200,
    headers: { 'x-amzn-requestid': randomUUID() },
    body,
  })
  const find = (id: unknown): StoredSecret | undefined => {
    if (typeof id !== 'string') return undefined
    return secrets.get(id) ?? [...secrets.values()].find((secret) => secret.arn === id)
  }
  const notFound = () =>
    error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
  /** Attaches `stage` to `version`, taking it from any other; `AWSCURRENT` leaves `AWSPREVIOUS` behind. */
  const attach = (secret: StoredSecret, version: AwsSecretVersion, stage: string) => {
    const holder = secret.versions.find((candidate) => candidate.stages.includes(stage))
    if (holder === version) return
    if (holder !== undefined) {
      holder.stages = holder.stages.filter((label) => label !== stage)
      if (stage === CURRENT) attach(secret, holder, PREVIOUS)
    }
    version.stages.push(stage)
  }
  const addSecret = (name: string): StoredSecret => {
    const secret = {
      arn: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-${randomAlphanumeric(6)}`,
      name,
      createdAt: now(),
      versions: [],
    }
    secrets.set(name, secret)
    return secret
  }
  const addVersion = (secret: StoredSecret, id: string, value: string, stages: string[]) => {
    const version: AwsSecretVersion = { id, value, stages: [], createdAt: now() }
    secret.versions.push(version)
    for (const stage of stages) attach(secret, version, stage)
    return version
  }
  const stagesOf = (secret: StoredSecret) =>
    Object.fromEntries(
      secret.versions
        .filter((version) => version.stages.length > 0)
        .map((version) => [version.id, [...version.stages]]),
    )
  const badToken = (token: unknown) =>
    token !== undefined && (typeof token !== 'string' || token.length < 32 || token.length > 64)

  const actions: Record<string, (body: Record<string, unknown>) => EmulatedResponse> = {
    CreateSecret(body) {
      const name = body.Name
      if (typeof name !== 'string' || !SECRET_NAME.test(name)) {
        return error(
          'ValidationException',
          'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
        )
      }
      if (badToken(body.ClientRequestToken)) {
        return error('ValidationException', 'ClientRequestToken must be 32-64 characters long.')
      }
      if (secrets.has(name)) {
        return error(
          'ResourceExistsException',
          `The operation failed because the secret ${name} already exists.`,
        )
      }
      const secret = addSecret(name)
      const token = (body.ClientRequestToken as string | undefined) ?? randomUUID()
      if (typeof body.SecretString === 'string')
        addVersion(secret, token, body.SecretString, [CURRENT])
      return ok({
        ARN: secret.arn,
        Name: name,
        ...(typeof body.SecretString === 'string' ? { VersionId: token } : {}),
      })
    },
    DescribeSecret(body) {
      const secret = find(body.SecretId)
      if (secret === undefined) return notFound()
      const last = secret.versions.at(-1)
      return ok({
        ARN: secret.arn,
        Name: secret.name,
        CreatedDate: secret.createdAt,
        LastChangedDate: last?.createdAt ?? secret.createdAt,
        VersionIdsToStages: stagesOf(secret),
      })
    },
    GetSecretValue(body) {
      const secret = find(body.SecretId)
      if (secret === undefined) return notFound()
      const stage = typeof body.VersionStage === 'string' ? body.VersionStage : undefined
      const id = typeof body.VersionId === 'string' ? body.VersionId : undefined
      const version = secret.versions.find(
        (candidate) =>
          (id === undefined || candidate.id === id) &&
          (stage !== undefined
            ? candidate.stages.includes(stage)
            : id !== undefined || candidate.stages.includes(CURRENT)),
      )
      if (version === undefined) {
        return error(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label or version id.",
        )
      }
      return ok({
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        SecretString: version.value,
        VersionStages: [...version.stages],
        CreatedDate: version.createdAt,
      })
    },
    PutSecretValue(body) {
      const secret = find(body.SecretId)
      if (secret === undefined) return notFound()
      if (typeof body.SecretString !== 'string') {
        return error(
          'InvalidRequestException',
          'You must provide either SecretString or SecretBinary.',
        )
      }
      if (badToken(body.ClientRequestToken)) {
        return error('ValidationException', 'ClientRequestToken must be 32-64 characters long.')
      }
      const stages = body.VersionStages ?? [CURRENT]
      if (!Array.isArray(stages) || !stages.every((stage) => typeof stage === 'string')) {
        return error('ValidationException', 'VersionStages must be a list of strings.')
      }
      const token = (body.ClientRequestToken as string | undefined) ?? randomUUID()
      const existing = secret.versions.find((version) => version.id === token)
      if (existing !== undefined) {
        if (existing.value !== body.SecretString) {
          return error(
            'ResourceExistsException',
            "You can't modify an existing version, you can only create a new version.",
          )
        }
        return ok({
          ARN: secret.arn,
          Name: secret.name,
          VersionId: token,
          VersionStages: [...existing.stages],
        })
      }
      const version = addVersion(secret, token, body.SecretString, stages as string[])
      versionsPut++
      return ok({
        ARN: secret.arn,
        Name: secret.name,
        VersionId: token,
        VersionStages: [...version.stages],
      })
    },
    UpdateSecretVersionStage(body) {
      const secret = find(body.SecretId)
      if (secret === undefined) return notFound()
      const stage = body.VersionStage
      if (typeof stage !== 'string')
        return error('ValidationException', 'VersionStage is required.')
      const holder = secret.versions.find((version) => version.stages.includes(stage))
      if (
        holder !== undefined &&
        holder.id !== body.RemoveFromVersionId &&
        holder.id !== body.MoveToVersionId
      ) {
        return error(
          'InvalidParameterException',
          `The staging label ${stage} is currently attached to version ${holder.id}, but you didn't specify that version in RemoveFromVersionId.`,
        )
      }
      if (body.MoveToVersionId !== undefined) {
        const target = secret.versions.find((version) => version.id === body.MoveToVersionId)
        if (target === undefined) return notFound()
        attach(secret, target, stage)
      } else if (holder !== undefined) {
        holder.stages = holder.stages.filter((label) => label !== stage)
      }
      return ok({ ARN: secret.arn, Name: secret.name })
    },
    ListSecrets() {
      return ok({
        SecretList: [...secrets.values()].map((secret) => ({
          ARN: secret.arn,
          Name: secret.name,
          CreatedDate: secret.createdAt,
          SecretVersionsToStages: stagesOf(secret),
        })),
      })
    },
  }

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    const refused = verifySigV4(request, { ...credentials, region, service: 'secretsmanager' })
    if (refused !== undefined) {
      return error(
        refused.type,
        refused.message,
        refused.type === 'MissingAuthenticationTokenException' ? 403 : 400,
      )
    }
    if (request.method !== 'POST' || request.path !== '/') {
      return error('UnknownOperationException', 'Unknown operation.', 404)
    }
    const target = /^secretsmanager\.(\w+)$/.exec(request.headers['x-amz-target'] ?? '')?.[1]
    const action = target === undefined ? undefined : actions[target]
    if (action === undefined) return error('UnknownOperationException', 'Unknown operation.')
    const throttled = throttles.findIndex((only) => only === undefined || only === target)
    if (throttled !== -1) {
      throttles.splice(throttled, 1)
      return error('ThrottlingException', 'Rate exceeded')
    }
    const body = request.body
    if (body === INVALID_JSON || (body !== undefined && !isPlainObject(body))) {
      return error('SerializationException', 'Start of structure or map found where not expected.')
    }
    return action((body ?? {}) as Record<string, unknown>)
  }

  const control: AwsSecretsManagerControl = {
    region,
    seedSecret: (name, value) => {
      const secret = addSecret(name)
      if (value !== undefined) addVersion(secret, randomUUID(), value, [CURRENT])
      return secret.arn
    },
    versions: (name) =>
      find(name)?.versions.map((version) => ({ ...version, stages: [...version.stages] })),
    value: (name, stage = CURRENT) =>
      find(name)?.versions.find((version) => version.stages.includes(stage))?.value,
    names: () => [...secrets.keys()],
    get versionsPut() {
      return versionsPut
    },
    throttle: (times = 1, action) => {
      for (let at = 0; at < times; at++) throttles.push(action)
    },
  }
  return {
    control,
    handler: {
      handle,
      errorResponse: (status: number, message: string) =>
        error(status >= 500 ? 'InternalServiceError' : 'ValidationException', message, status),
      credentialHeaders: ['authorization', 'x-amz-security-token'],
      contentType: 'application/x-amz-json-1.1',
    },
  }
}
