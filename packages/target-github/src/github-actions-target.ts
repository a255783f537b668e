import {
  type BaseStoreSettings,
  createHttpClient,
  type DeliveryTarget,
  type HttpClient,
  invalidTargetSetting,
  NotFoundError,
  pollUntil,
  type RequestOptions,
  resolveCredential,
  type TargetReceipt,
} from '@keyway/core/adapter'
import * as v from 'valibot'
import { publicKeySchema, readGitHubError, secretSchema } from './github-schemas.js'
import { sealForGitHub } from './sealed-box.js'

/** GitHub's REST API, the default `baseUrl`. */
export const GITHUB_API_URL = 'https://api.github.com'
/** The REST API version keyway speaks. */
export const GITHUB_API_VERSION = '2022-11-28'

/** Where the secret lives: a repository, one of its environments, or an organization. */
export type GitHubSecretScope =
  | { repository: string; environment?: string }
  | {
      organization: string
      /** Which repositories may use it. Default `'private'`. */
      visibility?: 'all' | 'private' | 'selected'
      /** With `visibility: 'selected'`: the repositories' numeric ids. */
      selectedRepositoryIds?: readonly number[]
    }

/** Settings of `createGitHubActionsTarget`. */
export interface GitHubActionsTargetSettings
  extends Omit<BaseStoreSettings, 'reconcile' | 'scheduler'> {
  /**
   * A token that may write Actions secrets there (a fine-grained token with "Secrets: write",
   * or a GitHub App's). Default: the `GITHUB_TOKEN` env var.
   */
  token?: string
  /** Default `https://api.github.com` (GitHub Enterprise: `https://HOST/api/v3`). */
  baseUrl?: string
  /** The secret's name: letters, digits and `_`, not starting with a digit or `GITHUB_`. */
  secret: string
  /** Where the secret lives. */
  scope: GitHubSecretScope
  /** The target's name in journals and reports. Default `github:<where>:<secret>`. */
  name?: string
  /** How long confirm may take, in ms. Default 60 s (the update time shows at once). */
  confirmWithinMs?: number
  /** Pause between two reads of the secret while confirming, in ms. Default `1000`. */
  confirmIntervalMs?: number
}

const SECRET_NAME = /^(?!GITHUB_)[A-Za-z_][A-Za-z0-9_]*$/i
const OWNER_OR_REPOSITORY = /^[A-Za-z0-9_.-]+$/

/**
 * A delivery target that keeps a rotated key in one GitHub Actions secret. write: reads the
 * scope's public key, seals the secret with libsodium's sealed box and `PUT`s it (201 made,
 * 204 replaced; a `PUT` of the same value again is harmless); propagate: nothing (the next
 * workflow run reads the secret); confirm: the secret's `updated_at` moved past what it was
 * before the write, since GitHub never shows a secret's value. Only the one secret is
 * touched. Every setting is checked here, before anything is sent.
 */
export function createGitHubActionsTarget(settings: GitHubActionsTargetSettings): DeliveryTarget {
  const { where, base, body } = scopeOf(settings)
  if (typeof settings.secret !== 'string' || !SECRET_NAME.test(settings.secret)) {
    throw invalidTargetSetting(
      'github',
      'secret',
      'letters, digits and _, not starting with a digit or GITHUB_',
    )
  }
  const token = resolveCredential({
    provider: 'github',
    settings,
    setting: 'token',
    envVar: 'GITHUB_TOKEN',
  })
  const {
    token: _token,
    secret,
    scope: _scope,
    name,
    baseUrl,
    confirmWithinMs,
    confirmIntervalMs,
    ...httpSettings
  } = settings
  const client: HttpClient = createHttpClient({
    ...httpSettings,
    provider: 'github',
    baseUrl: baseUrl ?? GITHUB_API_URL,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': GITHUB_API_VERSION,
    },
    secrets: [token],
    errorBody: readGitHubError,
  })
  const secretPath = `${base}/secrets/${secret}`
  const intervalMs = confirmIntervalMs ?? 1000

  const readUpdatedAt = async (options: RequestOptions): Promise<string | null> => {
    try {
      const response = await client.request({
        operation: 'get',
        method: 'GET',
        path: secretPath,
        schema: secretSchema,
        signal: options.signal,
      })
      return response.data.updated_at
    } catch (error) {
      if (error instanceof NotFoundError) return null
      throw error
    }
  }
  const readPublicKey = (options: RequestOptions) =>
    client.request({
      operation: 'get',
      method: 'GET',
      path: `${base}/secrets/public-key`,
      schema: publicKeySchema,
      signal: options.signal,
    })

  return {
    name: name ?? `github:${where}:${secret}`,
    description: {
      kind: 'github-actions',
      location: `${describeScope(settings.scope)}, Actions secret ${secret}`,
      propagate: 'nothing: the next workflow run reads the secret',
      confirm: "the secret's updated_at moved past its time before the write",
      cannotConfirm:
        'the value itself: GitHub never shows a secret, so only its update time is checked',
    },
    confirmWithinMs: confirmWithinMs ?? 60_000,
    async write(created, target) {
      // What `look` read just before (journalled), else read here.
      const looked = target.receipt.updatedBefore
      const before =
        typeof looked === 'string' || (looked === null && 'updatedBefore' in target.receipt)
          ? looked
          : await readUpdatedAt(target)
      const { data: publicKey } = await readPublicKey(target)
      const value = created.secret.reveal()
      const response = await client.request({
        operation: 'update',
        method: 'PUT',
        path: secretPath,
        json: {
          encrypted_value: sealForGitHub(value, publicKey.key),
          key_id: publicKey.key_id,
          ...body,
        },
        secrets: [value],
        signal: target.signal,
      })
      return {
        updatedBefore: before,
        // GitHub's clock (whole seconds) when it took the write.
        writtenAt: response.headers.date ?? null,
        publicKeyId: publicKey.key_id,
        status: response.status,
      }
    },
    async confirm(target) {
      const { updatedBefore = null, writtenAt = null } = target.receipt
      await pollUntil(
        async () => {
          const updatedAt = await readUpdatedAt(target)
          return updatedAt !== null && showsWrite(updatedAt, updatedBefore, writtenAt)
            ? updatedAt
            : undefined
        },
        {
          deadline: target.deadline,
          intervalMs,
          signal: target.signal,
          provider: 'github',
          operation: 'confirm',
          what: `the secret ${secret} showed no update after the write`,
        },
      )
    },
    async look(step, context): Promise<TargetReceipt> {
      // Nothing to propagate: a workflow run reads the secret as it stands.
      return step === 'write' ? { updatedBefore: await readUpdatedAt(context) } : {}
    },
    async landed(step, context): Promise<TargetReceipt | undefined> {
      if (step !== 'write' || !('updatedBefore' in context.receipt)) return undefined
      const updatedAt = await readUpdatedAt(context)
      // keyway owns the secret: an update since the look is the write that was sent. One in
      // the same second as the update before it does not show, and is sent again (harmless).
      if (updatedAt === null || updatedAt === context.receipt.updatedBefore) return undefined
      return { updatedBefore: context.receipt.updatedBefore ?? null, writtenAt: null }
    },
    async probe(options = {}) {
      // Reading the public key needs the same secrets permission; nothing is written.
      await readPublicKey(options)
    },
  }
}

/**
 * Whether `updated_at` shows the write: it moved, or (a write in the same second as the one
 * before, which leaves the whole-second time as it was) it is no earlier than the second
 * GitHub answered the write in, less one for the tick between the two clocks' reads.
 */
function showsWrite(
  updatedAt: string,
  updatedBefore: string | number | boolean | null,
  writtenAt: string | number | boolean | null,
): boolean {
  if (updatedAt !== updatedBefore) return true
  if (typeof writtenAt !== 'string') return false
  const written = Date.parse(writtenAt)
  return !Number.isNaN(written) && Date.parse(updatedAt) >= written - 1000
}

function scopeOf(settings: GitHubActionsTargetSettings): {
  where: string
  base: string
  body: Record<string, unknown>
} {
  const scope = settings.scope as Partial<Record<string, unknown>> | undefined
  if (typeof scope !== 'object' || scope === null) {
    throw invalidTargetSetting(
      'github',
      'scope',
      'expected { repository }, { repository, environment } or { organization }',
    )
  }
  if (typeof scope.organization === 'string') {
    if (!OWNER_OR_REPOSITORY.test(scope.organization))
      throw invalidTargetSetting('github', 'scope.organization', 'an organization login')
    const visibility = (scope.visibility as string | undefined) ?? 'private'
    if (!['all', 'private', 'selected'].includes(visibility)) {
      throw invalidTargetSetting(
        'github',
        'scope.visibility',
        "one of 'all', 'private', 'selected'",
      )
    }
    const ids = scope.selectedRepositoryIds
    const idsValid = v.is(v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(1)))), ids)
    if (!idsValid || (ids !== undefined) !== (visibility === 'selected')) {
      throw invalidTargetSetting(
        'github',
        'scope.selectedRepositoryIds',
        "repository ids, given exactly with visibility 'selected'",
      )
    }
    return {
      where: scope.organization,
      base: `/orgs/${scope.organization}/actions`,
      body: { visibility, ...(ids === undefined ? {} : { selected_repository_ids: ids }) },
    }
  }
  const repository = scope.repository
  const parts = typeof repository === 'string' ? repository.split('/') : []
  if (parts.length !== 2 || !parts.every((part) => OWNER_OR_REPOSITORY.test(part))) {
    throw invalidTargetSetting('github', 'scope.repository', 'owner/name')
  }
  const [owner, name] = parts as [string, string]
  if (scope.environment === undefined) {
    return { where: `${owner}/${name}`, base: `/repos/${owner}/${name}/actions`, body: {} }
  }
  if (
    typeof scope.environment !== 'string' ||
    scope.environment.length === 0 ||
    scope.environment.length > 255
  ) {
    throw invalidTargetSetting('github', 'scope.environment', 'an environment name')
  }
  return {
    where: `${owner}/${name}@${scope.environment}`,
    base: `/repos/${owner}/${name}/environments/${encodeURIComponent(scope.environment)}`,
    body: {},
  }
}

function describeScope(scope: GitHubSecretScope): string {
  if ('organization' in scope) return `organization ${scope.organization}`
  return scope.environment === undefined
    ? `repository ${scope.repository}`
    : `repository ${scope.repository}, environment ${scope.environment}`
}
