import { isPlainObject, matchPath, randomAlphanumeric } from './emulator-helpers.js'
import { type EmulatedRequest, type EmulatedResponse, INVALID_JSON } from './http-server.js'
import { serveTarget, type TargetEmulator, type TargetEmulatorOptions } from './target-emulator.js'

const ENV_TYPES = ['system', 'secret', 'encrypted', 'plain', 'sensitive'] as const
const ENVIRONMENTS = ['production', 'preview', 'development'] as const
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

/** An environment variable as the emulator holds it (the value in the clear, for tests). */
export interface VercelEnvVar {
  id: string
  key: string
  value: string
  type: (typeof ENV_TYPES)[number]
  target: string[]
  createdAt: number
  updatedAt: number
}

/** A deployment's state, as Vercel names it. */
export type VercelReadyState = 'QUEUED' | 'BUILDING' | 'READY' | 'ERROR' | 'CANCELED'

/** A deployment as the emulator holds it. */
export interface VercelDeployment {
  id: string
  projectId: string
  name: string
  target: 'production' | null
  readyState: VercelReadyState
  createdAt: number
  /** The deployment this one redeployed, if any. */
  sourceId: string | null
  /** The variables the deployment runs with: what the project held for its target when it was made. */
  env: Record<string, string>
}

/** How the next deployments end: `'ready'`, `'error'` (the build fails), or `'stuck'` (never ready). */
export type VercelDeploymentOutcome = 'ready' | 'error' | 'stuck'

/** Controls of the Vercel emulator. */
export interface VercelEmulatorControl {
  /** The team every project belongs to: requests carry it as `teamId`. */
  readonly teamId: string
  /** The seeded project `web` (`{ id, name }`); `addProject` makes more. */
  readonly project: { id: string; name: string }
  /** Adds a project with no variables and no deployment. */
  addProject(name: string): { id: string; name: string }
  /** Every variable of a project (by id or name), values in the clear. */
  env(project: string): VercelEnvVar[]
  /** Adds a variable as if set in the dashboard. */
  seedEnv(
    project: string,
    variable: { key: string; value: string; type?: VercelEnvVar['type']; target?: string[] },
  ): VercelEnvVar
  /** Every deployment of a project, newest first. */
  deployments(project: string): VercelDeployment[]
  /** Makes the next `times` deployments end as `outcome`. */
  nextDeployments(outcome: VercelDeploymentOutcome, times?: number): void
}

/**
 * Starts a loopback server that plays the parts of Vercel's REST API a delivery target uses:
 * project environment variables (`POST /v10/projects/{idOrName}/env` with `upsert`, list,
 * read one, delete), projects, and deployments (list, a redeploy through `POST
 * /v13/deployments` with `deploymentId`, and `GET /v13/deployments/{id}`, which moves a new
 * deployment QUEUED, BUILDING, READY, one step per read). A deployment runs with the
 * variables its project held when it was made. `@vercel/sdk` accepts it (`serverURL`).
 */
export async function startVercelEmulator(
  options: TargetEmulatorOptions = {},
): Promise<TargetEmulator<VercelEmulatorControl, { teamId: string }>> {
  return serveTarget('vercel', () => createVercelEmulator(), options)
}

function createVercelEmulator() {
  const token = randomAlphanumeric(24)
  const teamId = `team_${randomAlphanumeric(24)}`
  const projects = new Map<string, { id: string; name: string; createdAt: number }>()
  const envs = new Map<string, VercelEnvVar[]>()
  const deployments: VercelDeployment[] = []
  const outcomes: VercelDeploymentOutcome[] = []
  /** Reads of each deployment so far: each read moves a new deployment one state on. */
  const reads = new Map<string, number>()
  let clock = Date.now()
  const now = () => {
    clock = Math.max(clock + 1, Date.now())
    return clock
  }

  const error = (status: number, code: string, message: string): EmulatedResponse => ({
    status,
    body: { error: { code, message } },
  })
  const addProject = (name: string) => {
    const project = { id: `prj_${randomAlphanumeric(28)}`, name, createdAt: now() }
    projects.set(project.id, project)
    envs.set(project.id, [])
    return { id: project.id, name }
  }
  const findProject = (idOrName: string) =>
    projects.get(idOrName) ?? [...projects.values()].find((project) => project.name === idOrName)
  const envView = (variable: VercelEnvVar, decrypt: boolean) => ({
    type: variable.type,
    id: variable.id,
    key: variable.key,
    // A sensitive value is never shown; an encrypted one only when asked to decrypt.
    value:
      variable.type === 'sensitive'
        ? ''
        : decrypt
          ? variable.value
          : `enc_${randomAlphanumeric(32)}`,
    target: [...variable.target],
    configurationId: null,
    createdAt: variable.createdAt,
    updatedAt: variable.updatedAt,
    createdBy: 'emulated-user',
    updatedBy: 'emulated-user',
    decrypted: decrypt && variable.type !== 'sensitive',
    securityIssues: [],
  })
  const deploymentView = (deployment: VercelDeployment) => ({
    id: deployment.id,
    uid: deployment.id,
    name: deployment.name,
    url: `${deployment.name}-${deployment.id.slice(4, 13).toLowerCase()}.vercel.app`,
    createdAt: deployment.createdAt,
    buildingAt: deployment.createdAt,
    ...(deployment.readyState === 'READY' ? { ready: deployment.createdAt } : {}),
    readyState: deployment.readyState,
    status: deployment.readyState,
    type: 'LAMBDAS',
    target: deployment.target,
    projectId: deployment.projectId,
    ownerId: teamId,
    build: { env: [] },
    creator: { uid: 'emulated-user', username: 'owner' },
    env: [],
    meta: {},
    plan: 'pro',
    projectSettings: {},
    regions: ['iad1'],
    routes: null,
    public: false,
    version: 2,
    alias: [],
    aliasAssigned: deployment.readyState === 'READY',
    bootedAt: deployment.createdAt,
    lambdas: [],
  })
  const listView = (deployment: VercelDeployment) => ({
    uid: deployment.id,
    name: deployment.name,
    url: deploymentView(deployment).url,
    created: deployment.createdAt,
    createdAt: deployment.createdAt,
    state: deployment.readyState,
    readyState: deployment.readyState,
    type: 'LAMBDAS',
    creator: { uid: 'emulated-user', username: 'owner' },
    target: deployment.target,
    projectId: deployment.projectId,
    meta: {},
    inspectorUrl: null,
  })
  const deploy = (
    project: { id: string; name: string },
    target: 'production' | null,
    sourceId: string | null,
    outcome: VercelDeploymentOutcome,
    readyState: VercelReadyState = 'QUEUED',
  ) => {
    const environment = target ?? 'preview'
    const env = Object.fromEntries(
      (envs.get(project.id) ?? [])
        .filter((variable) => variable.target.includes(environment))
        .map((variable) => [variable.key, variable.value]),
    )
    const deployment: VercelDeployment = {
      id: `dpl_${randomAlphanumeric(28)}`,
      projectId: project.id,
      name: project.name,
      target,
      readyState,
      createdAt: now(),
      sourceId,
      env,
    }
    outcomeOf.set(deployment.id, outcome)
    deployments.unshift(deployment)
    return deployment
  }
  const outcomeOf = new Map<string, VercelDeploymentOutcome>()
  const seeded = addProject('web')
  deploy(seeded, 'production', null, 'ready', 'READY')

  const upsertEnv = (projectId: string, input: Record<string, unknown>, upsert: boolean) => {
    const key = input.key
    const value = input.value
    const type = input.type ?? 'plain'
    const target = input.target
    if (typeof key !== 'string' || !ENV_KEY.test(key)) return { error: 'invalid key' }
    if (typeof value !== 'string') return { error: 'value must be a string' }
    if (!ENV_TYPES.includes(type as never)) return { error: `invalid type ${String(type)}` }
    if (
      !Array.isArray(target) ||
      target.length === 0 ||
      !target.every((entry) => ENVIRONMENTS.includes(entry))
    ) {
      return { error: 'target must be a non-empty list of production, preview, development' }
    }
    if (type === 'sensitive' && target.includes('development')) {
      return { error: 'sensitive variables cannot target development' }
    }
    const list = envs.get(projectId) ?? []
    const existing = list.find(
      (variable) => variable.key === key && variable.target.some((entry) => target.includes(entry)),
    )
    const at = now()
    if (existing !== undefined) {
      if (!upsert) {
        return {
          error: `A variable with the name "${key}" already exists for the target`,
          code: 'ENV_ALREADY_EXISTS',
        }
      }
      Object.assign(existing, { value, type, target: [...target], updatedAt: at })
      return { variable: existing }
    }
    const variable: VercelEnvVar = {
      id: randomAlphanumeric(16),
      key,
      value,
      type: type as VercelEnvVar['type'],
      target: [...target],
      createdAt: at,
      updatedAt: at,
    }
    list.push(variable)
    envs.set(projectId, list)
    return { variable }
  }

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    if (/^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] !== token) {
      return {
        status: 403,
        body: { error: { code: 'forbidden', message: 'Not authorized', invalidToken: true } },
      }
    }
    if (request.query.get('teamId') !== teamId) {
      return error(
        403,
        'forbidden',
        'You do not have access to this scope: pass the teamId of the team',
      )
    }
    const { method, path } = request
    const project = (idOrName: string) => findProject(idOrName)
    let params = matchPath('/v9/projects/:idOrName', path)
    if (params !== undefined && method === 'GET') {
      const found = project(params.idOrName as string)
      if (found === undefined) return error(404, 'not_found', 'Project not found')
      return {
        status: 200,
        body: {
          id: found.id,
          name: found.name,
          accountId: teamId,
          createdAt: found.createdAt,
          updatedAt: found.createdAt,
        },
      }
    }
    params = matchPath('/v10/projects/:idOrName/env', path)
    if (params !== undefined) {
      const found = project(params.idOrName as string)
      if (found === undefined) return error(404, 'not_found', 'Project not found')
      if (method === 'GET') {
        const decrypt = request.query.get('decrypt') === 'true'
        const list = (envs.get(found.id) ?? []).map((variable) => envView(variable, decrypt))
        return {
          status: 200,
          body: { envs: list, pagination: { count: list.length, next: null, prev: null } },
        }
      }
      if (method !== 'POST') return error(405, 'method_not_allowed', 'Method not allowed')
      const body = request.body
      if (body === INVALID_JSON) return error(400, 'bad_request', 'Invalid JSON')
      const inputs = Array.isArray(body) ? body : [body]
      if (!inputs.every(isPlainObject)) return error(400, 'bad_request', 'Invalid request body')
      const upsert = request.query.get('upsert') === 'true'
      const created: ReturnType<typeof envView>[] = []
      const failed: unknown[] = []
      for (const input of inputs as Record<string, unknown>[]) {
        const outcome = upsertEnv(found.id, input, upsert)
        if (outcome.variable !== undefined) created.push(envView(outcome.variable, false))
        else
          failed.push({
            error: { code: outcome.code ?? 'bad_request', message: outcome.error, key: input.key },
          })
      }
      if (created.length === 0) {
        const first = (failed[0] as { error: { code: string; message: string } }).error
        return error(400, first.code, first.message)
      }
      return { status: 201, body: { created: Array.isArray(body) ? created : created[0], failed } }
    }
    params = matchPath('/v1/projects/:idOrName/env/:id', path)
    if (params !== undefined && method === 'GET') {
      const found = project(params.idOrName as string)
      const variable = found && envs.get(found.id)?.find((entry) => entry.id === params?.id)
      if (variable === undefined) return error(404, 'not_found', 'Environment Variable not found')
      return { status: 200, body: envView(variable, true) }
    }
    params = matchPath('/v9/projects/:idOrName/env/:id', path)
    if (params !== undefined && method === 'DELETE') {
      const found = project(params.idOrName as string)
      const list = found === undefined ? [] : (envs.get(found.id) ?? [])
      const index = list.findIndex((entry) => entry.id === params?.id)
      if (index === -1) return error(404, 'not_found', 'Environment Variable not found')
      const [removed] = list.splice(index, 1)
      return { status: 200, body: envView(removed as VercelEnvVar, false) }
    }
    if ((path === '/v6/deployments' || path === '/v7/deployments') && method === 'GET') {
      const projectId = request.query.get('projectId')
      const target = request.query.get('target')
      const states = request.query.get('state')?.split(',')
      const limit = Number(request.query.get('limit') ?? 20)
      const list = deployments
        .filter(
          (deployment) => projectId === null || deployment.projectId === project(projectId)?.id,
        )
        .filter((deployment) => target === null || deployment.target === target)
        .filter((deployment) => states === undefined || states.includes(deployment.readyState))
        .slice(0, limit)
        .map(listView)
      return {
        status: 200,
        body: { deployments: list, pagination: { count: list.length, next: null, prev: null } },
      }
    }
    if (path === '/v13/deployments' && method === 'POST') {
      const body = request.body
      if (!isPlainObject(body) || typeof body.name !== 'string') {
        return error(400, 'bad_request', 'Invalid request: should have required property "name"')
      }
      if (typeof body.deploymentId !== 'string') {
        return error(400, 'missing_files', 'Missing files: a redeploy names its deploymentId')
      }
      const source = deployments.find((deployment) => deployment.id === body.deploymentId)
      if (source === undefined) return error(404, 'not_found', 'Deployment not found')
      const found = projects.get(source.projectId) as { id: string; name: string }
      const target = body.target === 'production' ? 'production' : source.target
      const deployment = deploy(found, target, source.id, outcomes.shift() ?? 'ready')
      return { status: 200, body: deploymentView(deployment) }
    }
    params = matchPath('/v13/deployments/:idOrUrl', path)
    if (params !== undefined && method === 'GET') {
      const deployment = deployments.find((entry) => entry.id === params?.idOrUrl)
      if (deployment === undefined) return error(404, 'not_found', 'Deployment not found')
      advance(deployment)
      return { status: 200, body: deploymentView(deployment) }
    }
    return error(404, 'not_found', 'The requested path was not found')
  }

  const advance = (deployment: VercelDeployment) => {
    const count = (reads.get(deployment.id) ?? 0) + 1
    reads.set(deployment.id, count)
    const outcome = outcomeOf.get(deployment.id) ?? 'ready'
    if (deployment.readyState === 'QUEUED') deployment.readyState = 'BUILDING'
    else if (deployment.readyState === 'BUILDING' && outcome !== 'stuck') {
      deployment.readyState = outcome === 'error' ? 'ERROR' : 'READY'
    }
  }

  const control: VercelEmulatorControl = {
    teamId,
    project: seeded,
    addProject,
    env: (idOrName) => {
      const found = findProject(idOrName)
      return found === undefined
        ? []
        : (envs.get(found.id) ?? []).map((variable) => ({
            ...variable,
            target: [...variable.target],
          }))
    },
    seedEnv: (idOrName, variable) => {
      const found = findProject(idOrName)
      if (found === undefined) throw new Error(`no project ${idOrName}`)
      const outcome = upsertEnv(
        found.id,
        { type: 'encrypted', target: ['production', 'preview'], ...variable },
        false,
      )
      if (outcome.variable === undefined) throw new Error(outcome.error)
      return { ...outcome.variable }
    },
    deployments: (idOrName) => {
      const found = findProject(idOrName)
      return deployments
        .filter((deployment) => deployment.projectId === found?.id)
        .map((deployment) => ({ ...deployment, env: { ...deployment.env } }))
    },
    nextDeployments: (outcome, times = 1) => {
      for (let count = 0; count < times; count++) outcomes.push(outcome)
    },
  }
  return {
    token,
    control,
    extra: { teamId },
    handler: {
      handle,
      errorResponse: (status: number, message: string) =>
        error(status, status >= 500 ? 'internal_server_error' : 'bad_request', message),
      contentType: 'application/json; charset=utf-8',
    },
  }
}
