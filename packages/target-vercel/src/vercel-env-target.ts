import {
  type BaseStoreSettings,
  checkTargetSettings,
  createHttpClient,
  type DeliveryTarget,
  invalidTargetSetting,
  ProviderError,
  pollUntil,
  type RequestOptions,
  resolveCredential,
  type TargetReceipt,
  ValidationError,
} from '@keyway/core/adapter'
import * as v from 'valibot'
import {
  deploymentListSchema,
  deploymentSchema,
  envListSchema,
  envVarSchema,
  projectSchema,
  readVercelError,
  upsertResponseSchema,
} from './vercel-schemas.js'

/** Vercel's REST API, the default `baseUrl`. */
export const VERCEL_API_URL = 'https://api.vercel.com'

/** The environments a variable can apply to. */
export type VercelEnvironment = 'production' | 'preview' | 'development'

/** Settings of `createVercelEnvTarget`. */
export interface VercelEnvTargetSettings
  extends Omit<BaseStoreSettings, 'reconcile' | 'scheduler'> {
  /** A Vercel access token. Default: the `VERCEL_TOKEN` env var. */
  token?: string
  /** Default `https://api.vercel.com`. */
  baseUrl?: string
  /** The team that owns the project (`team_…`), where it is a team's. */
  teamId?: string
  /** The project's id or name. */
  project: string
  /** The variable's name: the one variable keyway owns there. */
  key: string
  /** Which environments the variable applies to. Default `['production']`. */
  environments?: readonly VercelEnvironment[]
  /**
   * `'sensitive'` (default: no one can read the value back, not even keyway) or `'encrypted'`.
   * Sensitive variables cannot apply to `development`.
   */
  type?: 'sensitive' | 'encrypted'
  /**
   * Redeploy the last production deployment after the write, and confirm only once the new
   * deployment is READY: a running deployment keeps the variables it was built with. Default
   * `false` (the next deployment picks the value up). Needs `'production'` in `environments`.
   */
  redeploy?: boolean
  /** The target's name in journals and reports. Default `vercel:<project>:<key>`. */
  name?: string
  /** How long confirm may take, in ms. Default 15 minutes with a redeploy, else 60 s. */
  confirmWithinMs?: number
  /** Pause between two reads of the deployment while confirming, in ms. Default `5000`. */
  confirmIntervalMs?: number
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/
const ENVIRONMENTS = ['production', 'preview', 'development'] as const

const settingsSchema = v.object({
  teamId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/, 'a team id such as team_…'))),
  project: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,100}$/, "a project's id or name")),
  key: v.pipe(v.string(), v.regex(KEY, 'letters, digits and _, not starting with a digit')),
  environments: v.optional(
    v.pipe(v.array(v.picklist(ENVIRONMENTS)), v.minLength(1, 'at least one')),
  ),
  type: v.optional(v.picklist(['sensitive', 'encrypted'])),
  redeploy: v.optional(v.boolean()),
  confirmWithinMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  confirmIntervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
})

/**
 * A delivery target that keeps a rotated key in one Vercel environment variable. write:
 * `POST /v10/projects/{project}/env?upsert=true` (a repeat writes the same value again);
 * propagate: with `redeploy`, a new production deployment from the last one (`POST
 * /v13/deployments` with its `deploymentId`), since running deployments keep the variables
 * they were built with; confirm: the variable reads back with the id and update time of the
 * write, and the new deployment reaches READY (ERROR or CANCELED fail at once). Only the one
 * variable is written. Every setting is checked here, before anything is sent.
 */
export function createVercelEnvTarget(settings: VercelEnvTargetSettings): DeliveryTarget {
  const {
    token: _token,
    baseUrl,
    teamId,
    project,
    key,
    environments,
    type,
    redeploy,
    name,
    confirmWithinMs,
    confirmIntervalMs,
    ...httpSettings
  } = settings
  checkTargetSettings('vercel', settingsSchema, settings)
  const targets = [...(environments ?? ['production'])]
  const kind = type ?? 'sensitive'
  if (kind === 'sensitive' && targets.includes('development')) {
    throw invalidTargetSetting(
      'vercel',
      'environments',
      "a sensitive variable cannot apply to 'development'",
    )
  }
  if (redeploy === true && !targets.includes('production')) {
    throw invalidTargetSetting(
      'vercel',
      'redeploy',
      "redeploys production: 'production' must be among the environments",
    )
  }
  const token = resolveCredential({
    provider: 'vercel',
    settings,
    setting: 'token',
    envVar: 'VERCEL_TOKEN',
  })
  const client = createHttpClient({
    ...httpSettings,
    provider: 'vercel',
    baseUrl: baseUrl ?? VERCEL_API_URL,
    headers: { authorization: `Bearer ${token}` },
    secrets: [token],
    errorBody: readVercelError,
  })
  const team = teamId === undefined ? {} : { teamId }
  const projectPath = encodeURIComponent(project)
  const intervalMs = confirmIntervalMs ?? 5000

  const readProject = (options: RequestOptions) =>
    client.request({
      operation: 'get',
      method: 'GET',
      path: `/v9/projects/${projectPath}`,
      query: team,
      schema: projectSchema,
      signal: options.signal,
    })

  /** keyway's variable as it stands: its id and update time, or nulls where there is none. */
  const readVariable = async (
    options: RequestOptions,
  ): Promise<{ envId: string | null; updatedAt: number | null }> => {
    const { data } = await client.request({
      operation: 'list',
      method: 'GET',
      path: `/v10/projects/${projectPath}/env`,
      query: team,
      schema: envListSchema,
      signal: options.signal,
    })
    const found = data.envs.find(
      (variable) =>
        variable.key === key &&
        [variable.target ?? []].flat().some((at) => targets.includes(at as VercelEnvironment)),
    )
    return { envId: found?.id ?? null, updatedAt: found?.updatedAt ?? null }
  }
  /** The newest production deployment of the project, whatever its state, or `null`. */
  const newestDeployment = async (options: RequestOptions): Promise<string | null> => {
    const { data: found } = await readProject(options)
    const { data: list } = await client.request({
      operation: 'list',
      method: 'GET',
      path: '/v6/deployments',
      query: { projectId: found.id, target: 'production', limit: 1, ...team },
      schema: deploymentListSchema,
      signal: options.signal,
    })
    return list.deployments[0]?.uid ?? null
  }

  return {
    name: name ?? `vercel:${project}:${key}`,
    description: {
      kind: 'vercel',
      location: `project ${project}${teamId === undefined ? '' : ` (team ${teamId})`}, ${kind} variable ${key} for ${targets.join(', ')}`,
      propagate: redeploy
        ? 'redeploys the last production deployment'
        : 'nothing: the next deployment picks the value up',
      confirm: redeploy
        ? "the variable's update time, and the new deployment reaching READY"
        : "the variable's id and update time",
      cannotConfirm: redeploy
        ? 'the value itself: keyway never reads a variable back'
        : 'the value itself, and that running deployments use it: only new deployments see a changed variable (set redeploy)',
    },
    confirmWithinMs: confirmWithinMs ?? (redeploy ? 900_000 : 60_000),
    async write(created, context) {
      const value = created.secret.reveal()
      const response = await client.request({
        operation: 'update',
        // An upsert writes the same variable again: safe to retry.
        retryAs: 'update',
        method: 'POST',
        path: `/v10/projects/${projectPath}/env`,
        query: { upsert: 'true', ...team },
        json: { key, value, type: kind, target: targets },
        secrets: [value],
        schema: upsertResponseSchema,
        signal: context.signal,
      })
      const written = [response.data.created].flat().find((variable) => variable.key === key)
      if (written === undefined) {
        const reason =
          response.data.failed?.[0]?.error.message ?? 'the answer names no such variable'
        throw new ProviderError({
          provider: 'vercel',
          operation: 'write',
          status: response.status,
          message: `vercel write ${key}: ${reason}`,
        })
      }
      return { envId: written.id, updatedAt: written.updatedAt ?? null }
    },
    ...(redeploy
      ? {
          async propagate(context) {
            const { data: found } = await readProject(context)
            const { data: list } = await client.request({
              operation: 'list',
              method: 'GET',
              path: '/v6/deployments',
              query: {
                projectId: found.id,
                target: 'production',
                state: 'READY',
                limit: 1,
                ...team,
              },
              schema: deploymentListSchema,
              signal: context.signal,
            })
            const source = list.deployments[0]
            if (source === undefined) {
              throw new ValidationError({
                provider: 'vercel',
                operation: 'redeploy',
                message: `vercel redeploy: project ${project} has no READY production deployment to redeploy`,
              })
            }
            const { data: deployment } = await client.request({
              operation: 'redeploy',
              method: 'POST',
              path: '/v13/deployments',
              query: team,
              json: {
                name: found.name,
                project: found.id,
                deploymentId: source.uid,
                target: 'production',
              },
              schema: deploymentSchema,
              signal: context.signal,
            })
            return { deploymentId: deployment.id, sourceDeploymentId: source.uid }
          },
        }
      : {}),
    async confirm(context) {
      const { envId, updatedAt, deploymentId } = context.receipt
      const { data: variable } = await client.request({
        operation: 'get',
        method: 'GET',
        path: `/v1/projects/${projectPath}/env/${encodeURIComponent(String(envId))}`,
        query: team,
        schema: envVarSchema,
        signal: context.signal,
      })
      if (
        typeof updatedAt === 'number' &&
        variable.updatedAt !== undefined &&
        variable.updatedAt < updatedAt
      ) {
        throw new ProviderError({
          provider: 'vercel',
          operation: 'confirm',
          message: `vercel confirm: the variable ${key} shows an update older than the write`,
        })
      }
      if (typeof deploymentId !== 'string') return
      await pollUntil(
        async () => {
          const { data: deployment } = await client.request({
            operation: 'get',
            method: 'GET',
            path: `/v13/deployments/${encodeURIComponent(deploymentId)}`,
            query: team,
            schema: deploymentSchema,
            signal: context.signal,
          })
          if (deployment.readyState === 'READY') return true
          if (deployment.readyState === 'ERROR' || deployment.readyState === 'CANCELED') {
            throw new ProviderError({
              provider: 'vercel',
              operation: 'confirm',
              message: `vercel confirm: the redeploy ${deploymentId} ended ${deployment.readyState}; the variable is written, but no deployment runs with it`,
            })
          }
          return undefined
        },
        {
          deadline: context.deadline,
          intervalMs,
          signal: context.signal,
          provider: 'vercel',
          operation: 'confirm',
          what: `the redeploy ${deploymentId} did not become READY`,
        },
      )
    },
    async look(step, context): Promise<TargetReceipt> {
      if (step === 'write') {
        const { envId, updatedAt } = await readVariable(context)
        return { envBefore: envId, updatedBefore: updatedAt }
      }
      return { newestBefore: await newestDeployment(context) }
    },
    async landed(step, context): Promise<TargetReceipt | undefined> {
      if (step === 'write') {
        const { envId, updatedAt } = await readVariable(context)
        const { envBefore, updatedBefore } = context.receipt
        // keyway owns the variable: a change since the look is the write that was sent.
        if (envId === null || (envId === envBefore && updatedAt === updatedBefore)) return undefined
        return { envId, updatedAt }
      }
      const newest = await newestDeployment(context)
      // A production deployment made after the write builds with the new value, whoever
      // started it: it is the one to wait for.
      if (newest === null || newest === context.receipt.newestBefore) return undefined
      return { deploymentId: newest }
    },
    async probe(options = {}) {
      // Reads only: Vercel has no dry run of a write.
      await readProject(options)
      await client.request({
        operation: 'list',
        method: 'GET',
        path: `/v10/projects/${projectPath}/env`,
        query: team,
        signal: options.signal,
      })
    },
  }
}
