import { delimiter, resolve } from 'node:path'
import {
  type BaseStoreSettings,
  createCommandTarget,
  createDotenvTarget,
  type DeliveryTarget,
} from '@keyway/core'
import { createSecretsManagerTarget } from '@keyway/target-aws'
import { createGitHubActionsTarget } from '@keyway/target-github'
import { createKubernetesSecretTarget } from '@keyway/target-kubernetes'
import { createVaultKvTarget } from '@keyway/target-vault'
import { createVercelEnvTarget } from '@keyway/target-vercel'
import * as v from 'valibot'
import { withJsonSchema } from './json-schema-hints.js'

/** An env var's name, as a shell takes it. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const envName = v.pipe(
  v.string(),
  v.regex(ENV_NAME, 'expected the name of an env var (letters, digits, _)'),
)

/** Text once trimmed at least one character long: in JSON Schema, a non-space somewhere. */
export const nonBlank = (message: string) =>
  v.pipe(
    v.string(),
    withJsonSchema(v.trim(), { json: { pattern: '\\S' } }),
    v.minLength(1, message),
  )

/**
 * A `variable` on a kind that names the variable in its own fields: refused with the field to
 * use, where a plain strict object would say only "unknown field".
 */
const noVariable = (use: string) =>
  v.optional(
    v.pipe(
      v.unknown(),
      withJsonSchema(
        v.check(() => false, `this kind takes no variable: ${use}`),
        { json: { not: {} } },
      ),
      v.description(`Not taken by this kind: ${use}.`),
    ),
  )

const milliseconds = (minimum: number, description: string) =>
  v.pipe(
    v.number(),
    v.integer(`expected a whole number of ms, at least ${minimum}`),
    v.minValue(minimum, `expected a whole number of ms, at least ${minimum}`),
    v.description(description),
  )

/** The two confirm timings most kinds take, with their defaults in words. */
const confirmTimings = (within = '', interval = '') => ({
  confirmWithinMs: v.optional(
    milliseconds(1, `How long confirm may take, in ms.${within && ` ${within}`}`),
  ),
  confirmIntervalMs: v.optional(
    milliseconds(
      0,
      `Pause between two reads while confirming, in ms.${interval && ` ${interval}`}`,
    ),
  ),
})

/** What a kind's factory is given to make the target of one key. */
export interface TargetInput<Entry> {
  entry: Entry
  /** The variable this key's secret is kept under. */
  variable: string
  /** The target's name in journals and reports. */
  name: string
  /**
   * Each credential setting's value, read from the env var the entry names (or the default);
   * an optional one that is not set is absent.
   */
  credentials: Record<string, string>
  /** The API's base URL from its env var, where set. */
  baseUrl: string | undefined
  /** Reads an env var the entry names in `field` (`teamIdEnv`); a missing one is a config error. */
  envOf: (field: string) => string | undefined
  /** The config file's folder: relative paths resolve from it. */
  folder: string
  /** The store's label. */
  label: string
  /** The CLI's env, for a command's environment. */
  env: Record<string, string | undefined>
  /** Time limits and hooks, as the stores get them. */
  settings: Pick<BaseStoreSettings, 'timeoutMs' | 'retry' | 'hooks'>
}

/**
 * One kind of delivery target as a config names it: its fields, where its credentials come
 * from, and how to make the target. A new kind is one more entry of `TARGET_KINDS`; the
 * config schema, the checks and the commands follow from it.
 */
export interface TargetKind<Entry = Record<string, unknown>> {
  /** What the kind is, for help and errors. */
  title: string
  /** What the kind does, in a sentence or two: the config's JSON Schema shows it in editors. */
  description: string
  /**
   * What each credential setting's env var (and `baseUrl`'s) holds, in words (`token`: `'a
   * Vercel access token'`), for the `<setting>Env` fields' descriptions.
   */
  envHelp: Readonly<Record<string, string>>
  /** `check`, as JSON Schema says it (editors refuse the same entries); needed with `check`. */
  checkJsonSchema?: Readonly<Record<string, unknown>>
  /** The entry's own fields, beside `kind`, `keys` and `variable`. */
  fields: v.ObjectEntries
  /** A check over the whole entry (one of two fields, …): a message, or `undefined`. */
  check?: (entry: Entry) => string | undefined
  /** Credential settings and their default env vars; the entry may name others as `<setting>Env`. */
  credentials: Readonly<Record<string, string>>
  /**
   * Credential settings read where set (an AWS session token, a Kubernetes token that only
   * token auth needs), and their default env vars; the entry may name others as `<setting>Env`.
   */
  optionalCredentials?: Readonly<Record<string, string>>
  /** Which optional credentials this entry needs after all (Kubernetes token auth: the token). */
  needs?: (entry: Entry, baseUrl: string | undefined) => readonly string[]
  /**
   * The variable the key is kept under, where the entry names it in its own fields (a Secret's
   * data entry, a Vault field): then the config's `variable` template does not apply.
   */
  variable?: (entry: Entry) => string
  /** Non-secret env vars a config of this kind reads by default (a region), for `emulate`. */
  settingsEnv?: readonly string[]
  /** The base URL's default env var (the entry's `baseUrlEnv` overrides it). */
  baseUrlEnv?: string
  /** The base URL has no default (a Vault address): its env var must be set. */
  baseUrlRequired?: boolean
  /**
   * Placeholders a variable template may hold here. Where a variable outlives a rotation (a
   * CI secret, a platform variable), `{ID}` is left out: it would name a new variable at every
   * rotation and leave the old one behind.
   */
  placeholders: readonly string[]
  /**
   * `'replaced'`: the variable is filled from the key being replaced, so it stays the same from
   * rotation to rotation and the plan shows it. `'successor'`: from the new key, when it is
   * written (the dotenv and `exec:` delivery as they always were).
   */
  naming: 'replaced' | 'successor'
  /** Where the entry's variables live, for the check that no two keys share one; `undefined` for none. */
  place: (entry: Entry, folder: string) => string | undefined
  /** Where, in a target's name and in messages. */
  where: (entry: Entry) => string
  /** Makes the target. Throws the factory's `ValidationError` for a bad setting. */
  create: (input: TargetInput<Entry>) => DeliveryTarget
}

/** Which keys of a store a target takes: every given field must match. None given = every key. */
export const targetKeysSchema = v.pipe(
  v.strictObject({
    name: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1, 'expected a non-empty glob'),
        v.description("Glob on the key's name (* any run, ? one character), or the name itself."),
      ),
    ),
    ids: v.optional(
      v.pipe(
        v.array(v.pipe(v.string(), v.minLength(1, 'expected a key id'))),
        v.minLength(1, 'expected at least one key id'),
        v.description('These key ids.'),
      ),
    ),
    metadata: v.optional(
      v.pipe(
        v.record(v.string(), v.string()),
        v.description('Labels the key carries (its metadata), each value exactly.'),
      ),
    ),
  }),
  v.description(
    'Which keys of the store this target takes; none given = every key. Every given field must match.',
  ),
)

interface GitHubEntry {
  repository?: string
  environment?: string
  organization?: string
  visibility?: 'all' | 'private' | 'selected'
  selectedRepositoryIds?: number[]
  confirmWithinMs?: number
  confirmIntervalMs?: number
}

interface VercelEntry {
  project: string
  teamId?: string
  teamIdEnv?: string
  environments?: Array<'production' | 'preview' | 'development'>
  type?: 'sensitive' | 'encrypted'
  redeploy?: boolean
  confirmWithinMs?: number
  confirmIntervalMs?: number
}

const github: TargetKind<GitHubEntry> = {
  title: 'GitHub Actions secret',
  description:
    "A GitHub Actions secret (repository, environment or organization), sealed with libsodium's sealed box; confirmed by its updated_at, since GitHub never shows a secret's value.",
  envHelp: {
    token: 'a token that may write Actions secrets there',
    baseUrl: 'the API base URL (unset: https://api.github.com)',
  },
  fields: {
    repository: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name'),
        v.description('The repository, owner/name: a repository secret.'),
      ),
    ),
    environment: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1, 'expected an environment name'),
        v.description('An environment of the repository: an environment secret.'),
      ),
    ),
    organization: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[\w.-]+$/, 'expected an organization login'),
        v.description('An organization: an organization secret.'),
      ),
    ),
    visibility: v.optional(
      v.pipe(
        v.picklist(['all', 'private', 'selected']),
        v.description('Organization secrets: which repositories may use it. Default private.'),
      ),
    ),
    selectedRepositoryIds: v.optional(
      v.pipe(
        v.array(v.pipe(v.number(), v.integer(), v.minValue(1))),
        v.description("With visibility selected: the repositories' ids."),
      ),
    ),
    ...confirmTimings('Default 60000.', 'Default 1000.'),
  },
  checkJsonSchema: {
    oneOf: [
      {
        required: ['repository'],
        not: {
          anyOf: [
            { required: ['organization'] },
            { required: ['visibility'] },
            { required: ['selectedRepositoryIds'] },
          ],
        },
      },
      {
        required: ['organization'],
        not: { anyOf: [{ required: ['repository'] }, { required: ['environment'] }] },
      },
    ],
  },
  check: (entry) => {
    if ((entry.repository === undefined) === (entry.organization === undefined))
      return 'needs either "repository" (with an optional "environment") or "organization"'
    if (entry.environment !== undefined && entry.repository === undefined)
      return '"environment" goes with "repository"'
    if (
      entry.repository !== undefined &&
      (entry.visibility !== undefined || entry.selectedRepositoryIds !== undefined)
    )
      return '"visibility" and "selectedRepositoryIds" go with "organization"'
    return undefined
  },
  credentials: { token: 'GITHUB_TOKEN' },
  baseUrlEnv: 'GITHUB_API_URL',
  placeholders: ['NAME', 'LABEL', 'PROVIDER'],
  naming: 'replaced',
  place: (entry) => `github:${githubWhere(entry)}`,
  where: githubWhere,
  create: ({ entry, variable, name, credentials, baseUrl, settings }) =>
    createGitHubActionsTarget({
      ...settings,
      token: credentials.token as string,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      secret: variable,
      name,
      scope:
        entry.organization !== undefined
          ? {
              organization: entry.organization,
              ...(entry.visibility === undefined ? {} : { visibility: entry.visibility }),
              ...(entry.selectedRepositoryIds === undefined
                ? {}
                : { selectedRepositoryIds: entry.selectedRepositoryIds }),
            }
          : {
              repository: entry.repository as string,
              ...(entry.environment === undefined ? {} : { environment: entry.environment }),
            },
      ...(entry.confirmWithinMs === undefined ? {} : { confirmWithinMs: entry.confirmWithinMs }),
      ...(entry.confirmIntervalMs === undefined
        ? {}
        : { confirmIntervalMs: entry.confirmIntervalMs }),
    }),
}

function githubWhere(entry: GitHubEntry): string {
  if (entry.organization !== undefined) return `org ${entry.organization}`
  return entry.environment === undefined
    ? `${entry.repository}`
    : `${entry.repository}@${entry.environment}`
}

const vercel: TargetKind<VercelEntry> = {
  title: 'Vercel environment variable',
  description:
    "A Vercel project's environment variable (upserted), with an optional redeploy of the last production deployment that is waited for until READY.",
  envHelp: {
    token: 'a Vercel access token',
    baseUrl: 'the API base URL (unset: https://api.vercel.com)',
  },
  fields: {
    project: v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9._-]{1,100}$/, "expected a project's id or name"),
      v.description("The project's id or name."),
    ),
    teamId: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9_-]+$/, 'expected a team id'),
        v.description('The team that owns the project (team_…).'),
      ),
    ),
    teamIdEnv: v.optional(
      v.pipe(envName, v.description('Env var holding the team id, instead of teamId.')),
    ),
    environments: v.optional(
      v.pipe(
        v.array(v.picklist(['production', 'preview', 'development'])),
        v.minLength(1, 'expected at least one environment'),
        v.description('Which environments the variable applies to. Default ["production"].'),
      ),
    ),
    type: v.optional(
      v.pipe(
        v.picklist(['sensitive', 'encrypted']),
        v.description('Default sensitive (no one can read the value back).'),
      ),
    ),
    redeploy: v.optional(
      v.pipe(
        v.boolean(),
        v.description(
          'Redeploy the last production deployment after the write and confirm only once it is READY. Default false.',
        ),
      ),
    ),
    ...confirmTimings(
      'Default 15 minutes with a redeploy, else 60000.',
      'Default 5000 (reads of the deployment).',
    ),
  },
  check: (entry) =>
    entry.teamId !== undefined && entry.teamIdEnv !== undefined
      ? 'give "teamId" or "teamIdEnv", not both'
      : undefined,
  checkJsonSchema: { not: { required: ['teamId', 'teamIdEnv'] } },
  credentials: { token: 'VERCEL_TOKEN' },
  baseUrlEnv: 'VERCEL_API_URL',
  placeholders: ['NAME', 'LABEL', 'PROVIDER'],
  naming: 'replaced',
  place: (entry) => `vercel:${entry.teamId ?? `$${entry.teamIdEnv ?? ''}`}:${entry.project}`,
  where: (entry) => entry.project,
  create: ({ entry, variable, name, credentials, baseUrl, envOf, settings }) => {
    const teamId = entry.teamId ?? (entry.teamIdEnv === undefined ? undefined : envOf('teamIdEnv'))
    return createVercelEnvTarget({
      ...settings,
      token: credentials.token as string,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(teamId === undefined ? {} : { teamId }),
      project: entry.project,
      key: variable,
      name,
      ...(entry.environments === undefined ? {} : { environments: entry.environments }),
      ...(entry.type === undefined ? {} : { type: entry.type }),
      ...(entry.redeploy === undefined ? {} : { redeploy: entry.redeploy }),
      ...(entry.confirmWithinMs === undefined ? {} : { confirmWithinMs: entry.confirmWithinMs }),
      ...(entry.confirmIntervalMs === undefined
        ? {}
        : { confirmIntervalMs: entry.confirmIntervalMs }),
    })
  },
}

const dotenv: TargetKind<{ path: string }> = {
  title: 'dotenv file',
  description:
    'One variable of a dotenv file (relative to this file), replaced at once; confirmed by reading the file back.',
  envHelp: {},
  fields: {
    path: v.pipe(
      nonBlank('expected a file path'),
      v.description('The dotenv file, relative to this file.'),
    ),
  },
  credentials: {},
  placeholders: ['NAME', 'ID', 'LABEL', 'PROVIDER'],
  naming: 'successor',
  place: (entry, folder) => `dotenv:${resolve(folder, entry.path)}`,
  where: (entry) => entry.path,
  create: ({ entry, variable, name, folder }) =>
    createDotenvTarget({ path: resolve(folder, entry.path), variable, name }),
}

const exec: TargetKind<{ command: string }> = {
  title: 'command (the secret on its stdin)',
  description:
    'A shell command that gets the secret on stdin (KEYWAY_VAR_NAME, KEYWAY_KEY_ID, KEYWAY_STORE in its env); its exit status 0 is its word that the secret is in place.',
  envHelp: {},
  fields: {
    command: v.pipe(
      nonBlank('expected a shell command'),
      v.description("The shell command, run in this file's folder."),
    ),
  },
  credentials: {},
  placeholders: ['NAME', 'ID', 'LABEL', 'PROVIDER'],
  naming: 'successor',
  place: () => undefined,
  where: (entry) => entry.command,
  create: ({ entry, variable, name, folder, label, env }) =>
    createCommandTarget({
      command: entry.command,
      name,
      cwd: folder,
      env: { ...env, KEYWAY_STORE: label, KEYWAY_VAR_NAME: variable },
    }),
}

interface AwsEntry {
  secretId: string
  profile?: string
  jsonKey?: string
  stage?: 'current' | 'pending'
  region?: string
  confirmWithinMs?: number
  confirmIntervalMs?: number
}

const aws: TargetKind<AwsEntry> = {
  title: 'AWS Secrets Manager secret',
  description:
    'An AWS Secrets Manager secret (which must exist): the new secret put as a new version with a client request token derived from the rotation, SigV4-signed, and confirmed by reading that version back. Credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (where set), or from a shared "profile"; region from "region", AWS_REGION or AWS_DEFAULT_REGION.',
  envHelp: {
    accessKeyId: 'the access key id',
    secretAccessKey: 'the secret access key',
    sessionToken:
      'a session token (temporary credentials), read where set; an env var named here must be set',
    baseUrl: 'the endpoint (unset: https://secretsmanager.<region>.amazonaws.com)',
  },
  fields: {
    variable: noVariable(
      'the secret is `secretId`; to keep the key as one field of a JSON secret, use `jsonKey`',
    ),
    secretId: v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9/_+=.@:-]{1,2048}$/, "expected a secret's name or ARN"),
      v.description("The secret's name or ARN."),
    ),
    jsonKey: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1, 'expected a field name'),
        v.description(
          'Where the secret is a JSON object: the one field keyway owns (the others are carried over). Default: the whole secret string.',
        ),
      ),
    ),
    stage: v.optional(
      v.pipe(
        v.picklist(['current', 'pending']),
        v.description(
          'current (default): the new version is AWSCURRENT as written. pending: written as AWSPENDING, then made AWSCURRENT.',
        ),
      ),
    ),
    region: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'expected an AWS region such as eu-west-1'),
        v.description("The secret's region. Default AWS_REGION, then AWS_DEFAULT_REGION."),
      ),
    ),
    profile: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[\w.+@-]{1,128}$/, 'expected a profile name from ~/.aws/credentials'),
        v.description(
          'A shared profile whose static keys (aws_access_key_id, aws_secret_access_key, aws_session_token) sign the requests, from AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials (or ~/.aws/config), instead of the key env vars. Profiles that use SSO, credential_process or role_arn are refused.',
        ),
      ),
    ),
    ...confirmTimings(),
  },
  credentials: {},
  optionalCredentials: {
    accessKeyId: 'AWS_ACCESS_KEY_ID',
    secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
    sessionToken: 'AWS_SESSION_TOKEN',
  },
  // A shared profile (its static keys) stands in for the key env vars.
  needs: (entry) => (entry.profile === undefined ? ['accessKeyId', 'secretAccessKey'] : []),
  baseUrlEnv: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  settingsEnv: ['AWS_REGION'],
  placeholders: ['NAME', 'LABEL', 'PROVIDER'],
  naming: 'replaced',
  variable: (entry) => entry.jsonKey ?? entry.secretId,
  place: (entry) => `aws-secrets-manager:${entry.region ?? ''}:${entry.secretId}`,
  where: (entry) =>
    entry.jsonKey === undefined ? entry.secretId : `${entry.secretId}#${entry.jsonKey}`,
  create: ({ entry, name, credentials, baseUrl, env, settings }) => {
    const region =
      entry.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined)
    return createSecretsManagerTarget({
      ...settings,
      ...(entry.profile === undefined
        ? {
            accessKeyId: credentials.accessKeyId as string,
            secretAccessKey: credentials.secretAccessKey as string,
            // Passed even when unset, so the target does not read AWS_SESSION_TOKEN behind the config's back.
            sessionToken: credentials.sessionToken ?? '',
          }
        : { profile: entry.profile }),
      ...(region === undefined ? {} : { region }),
      ...(baseUrl === undefined ? {} : { baseUrl }),
      secretId: entry.secretId,
      ...(entry.jsonKey === undefined ? {} : { jsonKey: entry.jsonKey }),
      ...(entry.stage === undefined ? {} : { stage: entry.stage }),
      name,
      ...(entry.confirmWithinMs === undefined ? {} : { confirmWithinMs: entry.confirmWithinMs }),
      ...(entry.confirmIntervalMs === undefined
        ? {}
        : { confirmIntervalMs: entry.confirmIntervalMs }),
    })
  },
}

interface KubernetesEntry {
  secret: string
  key: string
  namespace?: string
  restart?: string[]
  auth?: 'token' | 'kubeconfig' | 'in-cluster'
  context?: string
  confirmWithinMs?: number
  confirmIntervalMs?: number
}

const kubernetes: TargetKind<KubernetesEntry> = {
  title: 'Kubernetes Secret',
  description:
    "One data entry of a Kubernetes Secret, merge-patched; the named Deployments restarted as kubectl rollout restart does and waited for; confirmed by reading the Secret and the rollouts back. Auth by token (KUBERNETES_API_URL and KUBERNETES_TOKEN), a kubeconfig (KUBECONFIG or ~/.kube/config) or the pod's service account.",
  envHelp: {
    token: 'a bearer token (token auth)',
    baseUrl: "the API server's address (token auth)",
  },
  fields: {
    variable: noVariable("use `key`: the Secret's data entry that holds the key"),
    secret: v.pipe(
      v.string(),
      v.regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "expected a Secret's name"),
      v.description("The Secret's name; made where it does not exist."),
    ),
    key: v.pipe(
      v.string(),
      v.regex(/^[-._a-zA-Z0-9]{1,253}$/, 'expected a data key (letters, digits, -, _ and .)'),
      v.description('The one data entry keyway owns.'),
    ),
    namespace: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a namespace'),
        v.description("Default: the kubeconfig context's or the service account's, else default."),
      ),
    ),
    restart: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string(),
            v.regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "expected a Deployment's name"),
          ),
        ),
        v.description(
          'Deployments (same namespace) restarted after the write; confirm waits for each rollout.',
        ),
      ),
    ),
    auth: v.optional(
      v.pipe(
        v.picklist(['token', 'kubeconfig', 'in-cluster']),
        v.description(
          'Default: token where KUBERNETES_API_URL or KUBERNETES_TOKEN is set, else kubeconfig, else in-cluster inside a pod.',
        ),
      ),
    ),
    context: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1, "expected a kubeconfig context's name"),
        v.description(
          'The kubeconfig context (with auth kubeconfig). Default its current-context.',
        ),
      ),
    ),
    ...confirmTimings(),
  },
  check: (entry) =>
    entry.context !== undefined && entry.auth !== undefined && entry.auth !== 'kubeconfig'
      ? '"context" goes with "auth": "kubeconfig"'
      : undefined,
  checkJsonSchema: {
    not: {
      required: ['context', 'auth'],
      properties: { auth: { not: { const: 'kubeconfig' } } },
    },
  },
  credentials: {},
  optionalCredentials: { token: 'KUBERNETES_TOKEN' },
  // Token auth, said or implied by a server's address, needs the token.
  needs: (entry, baseUrl) =>
    entry.auth === 'token' || (entry.auth === undefined && baseUrl !== undefined) ? ['token'] : [],
  baseUrlEnv: 'KUBERNETES_API_URL',
  settingsEnv: ['KUBECONFIG'],
  placeholders: ['NAME', 'LABEL', 'PROVIDER'],
  naming: 'replaced',
  variable: (entry) => entry.key,
  place: (entry) => `kubernetes:${entry.namespace ?? ''}/${entry.secret}`,
  where: (entry) =>
    `${entry.namespace === undefined ? '' : `${entry.namespace}/`}${entry.secret}#${entry.key}`,
  create: ({ entry, name, credentials, baseUrl, env, settings }) => {
    // Token auth where the entry says so or gives a server or token; else a kubeconfig
    // (KUBECONFIG as the config's env has it), else the pod's service account.
    const kubeconfig = env.KUBECONFIG?.split(delimiter).find((path) => path !== '')
    const auth =
      entry.auth ??
      (baseUrl !== undefined || credentials.token !== undefined
        ? 'token'
        : kubeconfig !== undefined || env.KUBERNETES_SERVICE_HOST === undefined
          ? 'kubeconfig'
          : 'in-cluster')
    return createKubernetesSecretTarget({
      ...settings,
      auth,
      ...(auth === 'token'
        ? {
            token: credentials.token ?? '',
            ...(baseUrl === undefined ? {} : { baseUrl }),
          }
        : {}),
      ...(auth === 'kubeconfig' && kubeconfig !== undefined ? { kubeconfig } : {}),
      ...(entry.context === undefined ? {} : { context: entry.context }),
      ...(entry.namespace === undefined ? {} : { namespace: entry.namespace }),
      secret: entry.secret,
      key: entry.key,
      ...(entry.restart === undefined ? {} : { restart: entry.restart }),
      name,
      ...(entry.confirmWithinMs === undefined ? {} : { confirmWithinMs: entry.confirmWithinMs }),
      ...(entry.confirmIntervalMs === undefined
        ? {}
        : { confirmIntervalMs: entry.confirmIntervalMs }),
    })
  },
}

interface VaultEntry {
  path: string
  key: string
  mount?: string
  namespace?: string
  confirmWithinMs?: number
}

const VAULT_SEGMENTS = /^[A-Za-z0-9_.@+=-]+(?:\/[A-Za-z0-9_.@+=-]+)*$/

const vault: TargetKind<VaultEntry> = {
  title: 'Vault KV v2 secret',
  description:
    'One field of a Vault or OpenBao KV v2 secret, written with check-and-set (the other fields carried over) and confirmed by reading that version back. Address from VAULT_ADDR, token from VAULT_TOKEN, namespace from "namespace" or VAULT_NAMESPACE.',
  envHelp: { token: 'the Vault token', baseUrl: "Vault's address (required)" },
  fields: {
    variable: noVariable('use `key`: the field at `path` that holds the key'),
    path: v.pipe(
      v.string(),
      v.regex(VAULT_SEGMENTS, 'expected a path such as web/prod, without a leading /'),
      v.description("The secret's path below the mount, e.g. web/prod."),
    ),
    key: v.pipe(
      v.string(),
      v.minLength(1, 'expected a field name'),
      v.maxLength(512),
      v.description('The one field keyway owns.'),
    ),
    mount: v.optional(
      v.pipe(
        v.string(),
        v.regex(VAULT_SEGMENTS, 'expected a mount path such as secret'),
        v.description('Where the KV v2 engine is mounted. Default secret.'),
      ),
    ),
    namespace: v.optional(
      v.pipe(
        v.string(),
        v.regex(VAULT_SEGMENTS, 'expected a namespace path such as admin/team'),
        v.description(
          'The namespace (Vault Enterprise, HCP Vault, OpenBao). Default VAULT_NAMESPACE, where set.',
        ),
      ),
    ),
    confirmWithinMs: v.optional(milliseconds(1, 'How long confirm may take, in ms.')),
  },
  credentials: { token: 'VAULT_TOKEN' },
  baseUrlEnv: 'VAULT_ADDR',
  baseUrlRequired: true,
  settingsEnv: ['VAULT_NAMESPACE'],
  placeholders: ['NAME', 'LABEL', 'PROVIDER'],
  naming: 'replaced',
  variable: (entry) => entry.key,
  place: (entry) => `vault:${entry.namespace ?? ''}:${entry.mount ?? 'secret'}/${entry.path}`,
  where: (entry) => `${entry.mount ?? 'secret'}/${entry.path}#${entry.key}`,
  create: ({ entry, name, credentials, baseUrl, env, settings }) => {
    const namespace = entry.namespace ?? (env.VAULT_NAMESPACE || undefined)
    return createVaultKvTarget({
      ...settings,
      token: credentials.token as string,
      baseUrl: baseUrl as string,
      ...(namespace === undefined ? {} : { namespace }),
      ...(entry.mount === undefined ? {} : { mount: entry.mount }),
      path: entry.path,
      key: entry.key,
      name,
      ...(entry.confirmWithinMs === undefined ? {} : { confirmWithinMs: entry.confirmWithinMs }),
    })
  },
}

/** Every kind of delivery target a config may name, by its `kind`. */
export const TARGET_KINDS = {
  github,
  vercel,
  dotenv,
  exec,
  'aws-secrets-manager': aws,
  'kubernetes-secret': kubernetes,
  'vault-kv': vault,
} as const satisfies Record<string, TargetKind<never>>

/** A kind a config may name. */
export type TargetKindId = keyof typeof TARGET_KINDS

/** The kinds, in the order help and errors list them. */
export const TARGET_KIND_IDS = Object.keys(TARGET_KINDS) as TargetKindId[]

/** A kind's config field naming the env var of a credential setting: `token` → `tokenEnv`. */
export const envField = (setting: string) => `${setting}Env`
