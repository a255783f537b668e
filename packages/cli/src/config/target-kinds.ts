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

/** An env var's name, as a shell takes it. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const envName = v.pipe(
  v.string(),
  v.regex(ENV_NAME, 'expected the name of an env var (letters, digits, _)'),
)

/**
 * A `variable` on a kind that names the variable in its own fields: refused with the field to
 * use, where a plain strict object would say only "unknown field".
 */
const noVariable = (use: string) =>
  v.optional(
    v.pipe(
      v.unknown(),
      v.check(() => false, `this kind takes no variable: ${use}`),
    ),
  )

const milliseconds = (minimum: number) =>
  v.pipe(
    v.number(),
    v.integer(`expected a whole number of ms, at least ${minimum}`),
    v.minValue(minimum, `expected a whole number of ms, at least ${minimum}`),
  )

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
export const targetKeysSchema = v.strictObject({
  /** Glob on the key's name (`*`, `?`), or the name itself. */
  name: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a non-empty glob'))),
  /** These key ids. */
  ids: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.minLength(1, 'expected a key id'))),
      v.minLength(1, 'expected at least one key id'),
    ),
  ),
  /** Labels the key carries (its metadata), each value exactly. */
  metadata: v.optional(v.record(v.string(), v.string())),
})

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
  fields: {
    repository: v.optional(
      v.pipe(v.string(), v.regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name')),
    ),
    environment: v.optional(v.pipe(v.string(), v.minLength(1, 'expected an environment name'))),
    organization: v.optional(
      v.pipe(v.string(), v.regex(/^[\w.-]+$/, 'expected an organization login')),
    ),
    visibility: v.optional(v.picklist(['all', 'private', 'selected'])),
    selectedRepositoryIds: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(1)))),
    confirmWithinMs: v.optional(milliseconds(1)),
    confirmIntervalMs: v.optional(milliseconds(0)),
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
  fields: {
    project: v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9._-]{1,100}$/, "expected a project's id or name"),
    ),
    teamId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/, 'expected a team id'))),
    teamIdEnv: v.optional(envName),
    environments: v.optional(
      v.pipe(
        v.array(v.picklist(['production', 'preview', 'development'])),
        v.minLength(1, 'expected at least one environment'),
      ),
    ),
    type: v.optional(v.picklist(['sensitive', 'encrypted'])),
    redeploy: v.optional(v.boolean()),
    confirmWithinMs: v.optional(milliseconds(1)),
    confirmIntervalMs: v.optional(milliseconds(0)),
  },
  check: (entry) =>
    entry.teamId !== undefined && entry.teamIdEnv !== undefined
      ? 'give "teamId" or "teamIdEnv", not both'
      : undefined,
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
  fields: { path: v.pipe(v.string(), v.trim(), v.minLength(1, 'expected a file path')) },
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
  fields: {
    command: v.pipe(v.string(), v.trim(), v.minLength(1, 'expected a shell command')),
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
  fields: {
    variable: noVariable(
      'the secret is `secretId`; to keep the key as one field of a JSON secret, use `jsonKey`',
    ),
    secretId: v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9/_+=.@:-]{1,2048}$/, "expected a secret's name or ARN"),
    ),
    jsonKey: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a field name'))),
    stage: v.optional(v.picklist(['current', 'pending'])),
    region: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'expected an AWS region such as eu-west-1'),
      ),
    ),
    profile: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[\w.+@-]{1,128}$/, 'expected a profile name from ~/.aws/credentials'),
      ),
    ),
    confirmWithinMs: v.optional(milliseconds(1)),
    confirmIntervalMs: v.optional(milliseconds(0)),
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
  fields: {
    variable: noVariable("use `key`: the Secret's data entry that holds the key"),
    secret: v.pipe(
      v.string(),
      v.regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "expected a Secret's name"),
    ),
    key: v.pipe(
      v.string(),
      v.regex(/^[-._a-zA-Z0-9]{1,253}$/, 'expected a data key (letters, digits, -, _ and .)'),
    ),
    namespace: v.optional(
      v.pipe(v.string(), v.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a namespace')),
    ),
    restart: v.optional(
      v.array(
        v.pipe(
          v.string(),
          v.regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "expected a Deployment's name"),
        ),
      ),
    ),
    auth: v.optional(v.picklist(['token', 'kubeconfig', 'in-cluster'])),
    context: v.optional(v.pipe(v.string(), v.minLength(1, "expected a kubeconfig context's name"))),
    confirmWithinMs: v.optional(milliseconds(1)),
    confirmIntervalMs: v.optional(milliseconds(0)),
  },
  check: (entry) =>
    entry.context !== undefined && entry.auth !== undefined && entry.auth !== 'kubeconfig'
      ? '"context" goes with "auth": "kubeconfig"'
      : undefined,
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
  fields: {
    variable: noVariable('use `key`: the field at `path` that holds the key'),
    path: v.pipe(
      v.string(),
      v.regex(VAULT_SEGMENTS, 'expected a path such as web/prod, without a leading /'),
    ),
    key: v.pipe(v.string(), v.minLength(1, 'expected a field name'), v.maxLength(512)),
    mount: v.optional(
      v.pipe(v.string(), v.regex(VAULT_SEGMENTS, 'expected a mount path such as secret')),
    ),
    namespace: v.optional(
      v.pipe(v.string(), v.regex(VAULT_SEGMENTS, 'expected a namespace path such as admin/team')),
    ),
    confirmWithinMs: v.optional(milliseconds(1)),
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
