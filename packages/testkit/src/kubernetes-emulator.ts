import { randomUUID } from 'node:crypto'
import { bearer, isPlainObject, matchPath, randomAlphanumeric } from './emulator-helpers.js'
import { type EmulatedRequest, type EmulatedResponse, INVALID_JSON } from './http-server.js'
import { serveTarget, type TargetEmulator, type TargetEmulatorOptions } from './target-emulator.js'

/** How a Deployment's next rollouts go: `'ready'`, `'stuck'` (never ready), `'deadline'` (ProgressDeadlineExceeded). */
export type KubernetesRolloutOutcome = 'ready' | 'stuck' | 'deadline'

/** A Deployment as the emulator holds it, for tests. */
export interface KubernetesDeploymentView {
  name: string
  namespace: string
  generation: number
  replicas: number
  /** Pod template annotations. */
  annotations: Record<string, string>
  /** How many times the pod template changed (restarts). */
  rollouts: number
  /** Whether the latest rollout is complete. */
  complete: boolean
  /** What the Secret the Deployment reads (`envFrom`) held when its running pods started, decoded. */
  runningWith: Record<string, string>
}

/** Controls of the Kubernetes emulator. */
export interface KubernetesEmulatorControl {
  /** A Secret's data, decoded, or `undefined`. */
  secret(namespace: string, name: string): Record<string, string> | undefined
  /** Adds a Secret (values given in the clear; stored base64, as Kubernetes does). */
  seedSecret(namespace: string, name: string, data: Record<string, string>): void
  /** Adds a Deployment whose pods read the Secret `secret` through `envFrom`, rolled out and ready. */
  seedDeployment(
    namespace: string,
    name: string,
    options: { secret: string; replicas?: number },
  ): void
  /** A Deployment as it stands now, or `undefined`. */
  deployment(namespace: string, name: string): KubernetesDeploymentView | undefined
  /** Makes the next `times` rollouts of a Deployment end as `outcome`. */
  nextRollouts(
    namespace: string,
    name: string,
    outcome: KubernetesRolloutOutcome,
    times?: number,
  ): void
  /** Lets a Deployment's rollout in progress go on to complete, as once its cause is fixed. */
  release(namespace: string, name: string): void
  /** Refuses `verb` on `resource` (`secrets`, `deployments`) to the token: 403, and `allowed: false` in access reviews. */
  deny(verb: string, resource: string): void
  /** How many writes (create, patch) changed a Secret. */
  readonly secretWrites: number
}

interface StoredSecret {
  uid: string
  resourceVersion: string
  creationTimestamp: string
  type: string
  data: Record<string, string>
}

interface StoredDeployment {
  uid: string
  namespace: string
  name: string
  secret: string
  replicas: number
  generation: number
  resourceVersion: string
  creationTimestamp: string
  annotations: Record<string, string>
  rollouts: number
  /** The rollout in progress: its outcome and how many reads it has been seen. */
  rollout: {
    outcome: KubernetesRolloutOutcome
    reads: number
    snapshot: Record<string, string>
  } | null
  observedGeneration: number
  updatedReplicas: number
  availableReplicas: number
  staleReplicas: number
  runningWith: Record<string, string>
  outcomes: KubernetesRolloutOutcome[]
}

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/

/**
 * Starts a loopback server that plays the parts of the Kubernetes API a delivery target uses:
 * Secrets (`GET`, create, `PATCH` as merge or strategic merge patch of `data`, base64 checked;
 * a patch that changes nothing keeps the `resourceVersion`), Deployments in `apps/v1` (`GET`,
 * `PATCH` of the pod template, which starts a rollout that each read moves on one step:
 * observed generation, updated replicas, available replicas, as `kubectl rollout status`
 * reads them, each step a new `resourceVersion` as the controller's status updates are; a
 * rollout may be made to never finish or to exceed its progress deadline), and
 * `SelfSubjectAccessReview`. A patch of a Secret or Deployment that names
 * `metadata.resourceVersion` applies to that version only (else 409 `Conflict`), as the API
 * server's precondition. Bearer-token auth; errors are Kubernetes `Status` objects.
 * `@kubernetes/client-node` accepts it (a kubeconfig pointing at it).
 */
export async function startKubernetesEmulator(
  options: TargetEmulatorOptions = {},
): Promise<TargetEmulator<KubernetesEmulatorControl>> {
  return serveTarget('kubernetes', () => createKubernetesEmulator(), options)
}

function createKubernetesEmulator() {
  const token = `eyJ${randomAlphanumeric(40)}`
  const secrets = new Map<string, StoredSecret>()
  const deployments = new Map<string, StoredDeployment>()
  const denied = new Set<string>()
  let revision = 1000
  let secretWrites = 0
  const nextRevision = () => String(++revision)
  const now = () => `${new Date().toISOString().slice(0, 19)}Z`

  const status = (
    code: number,
    reason: string,
    message: string,
    details?: object,
  ): EmulatedResponse => ({
    status: code,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details === undefined ? {} : { details }),
      code,
    },
  })
  const notFound = (kind: string, name: string) =>
    status(404, 'NotFound', `${kind} "${name}" not found`, { name, kind })
  const forbidden = (verb: string, resource: string, name: string, namespace: string) =>
    status(
      403,
      'Forbidden',
      `${resource} "${name}" is forbidden: User "system:serviceaccount:${namespace}:keyway" cannot ${verb} resource "${resource}" in API group "${resource === 'deployments' ? 'apps' : ''}" in the namespace "${namespace}"`,
      { name, kind: resource },
    )

  const secretView = (namespace: string, name: string, secret: StoredSecret) => ({
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace,
      uid: secret.uid,
      resourceVersion: secret.resourceVersion,
      creationTimestamp: secret.creationTimestamp,
    },
    data: { ...secret.data },
    type: secret.type,
  })
  const decode = (data: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(data).map(([key, value]) => [
        key,
        Buffer.from(value, 'base64').toString('utf8'),
      ]),
    )

  /** One read's worth of rollout progress, as the deployment controller would make it. */
  const progress = (deployment: StoredDeployment) => {
    const rollout = deployment.rollout
    if (rollout === null) return
    rollout.reads++
    const before = statusOf(deployment)
    step(deployment, rollout)
    // The deployment controller's status updates are writes too: a new resource version.
    if (statusOf(deployment) !== before) deployment.resourceVersion = nextRevision()
  }
  const statusOf = (deployment: StoredDeployment) =>
    JSON.stringify([
      deployment.observedGeneration,
      deployment.updatedReplicas,
      deployment.staleReplicas,
      deployment.availableReplicas,
      deployment.rollout === null,
    ])
  const step = (
    deployment: StoredDeployment,
    rollout: NonNullable<StoredDeployment['rollout']>,
  ) => {
    if (deployment.observedGeneration < deployment.generation) {
      deployment.observedGeneration = deployment.generation
      deployment.updatedReplicas = 0
      deployment.staleReplicas = deployment.replicas
      return
    }
    if (rollout.outcome !== 'ready') return
    if (deployment.updatedReplicas < deployment.replicas) {
      deployment.updatedReplicas++
      return
    }
    if (deployment.staleReplicas > 0) {
      deployment.staleReplicas = 0
      return
    }
    deployment.availableReplicas = deployment.updatedReplicas
    deployment.runningWith = rollout.snapshot
    deployment.rollout = null
  }
  const deploymentView = (deployment: StoredDeployment) => {
    const deadline = deployment.rollout?.outcome === 'deadline' && deployment.rollout.reads > 1
    return {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: {
        name: deployment.name,
        namespace: deployment.namespace,
        uid: deployment.uid,
        resourceVersion: deployment.resourceVersion,
        generation: deployment.generation,
        creationTimestamp: deployment.creationTimestamp,
      },
      spec: {
        replicas: deployment.replicas,
        selector: { matchLabels: { app: deployment.name } },
        template: {
          metadata: {
            labels: { app: deployment.name },
            ...(Object.keys(deployment.annotations).length === 0
              ? {}
              : { annotations: { ...deployment.annotations } }),
          },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'app:1',
                envFrom: [{ secretRef: { name: deployment.secret } }],
              },
            ],
          },
        },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
        },
        progressDeadlineSeconds: 600,
      },
      status: {
        observedGeneration: deployment.observedGeneration,
        replicas: deployment.updatedReplicas + deployment.staleReplicas,
        updatedReplicas: deployment.updatedReplicas,
        readyReplicas: deployment.availableReplicas,
        availableReplicas: deployment.availableReplicas,
        conditions: [
          {
            type: 'Progressing',
            status: deadline ? 'False' : 'True',
            reason: deadline
              ? 'ProgressDeadlineExceeded'
              : deployment.rollout === null
                ? 'NewReplicaSetAvailable'
                : 'ReplicaSetUpdated',
            message: deadline
              ? `ReplicaSet "${deployment.name}-${deployment.generation}" has timed out progressing.`
              : `ReplicaSet "${deployment.name}-${deployment.generation}" is progressing.`,
          },
        ],
      },
    }
  }

  /** RFC 7386 merge of `patch` into `target` (null removes). */
  const merge = (target: Record<string, unknown>, patch: Record<string, unknown>) => {
    const result: Record<string, unknown> = { ...target }
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete result[key]
      else if (isPlainObject(value) && isPlainObject(result[key]))
        result[key] = merge(result[key] as Record<string, unknown>, value)
      else result[key] = value
    }
    return result
  }
  const isMergePatch = (request: EmulatedRequest) =>
    /^application\/(merge-patch|strategic-merge-patch)\+json/.test(
      request.headers['content-type'] ?? '',
    )
  const badData = (data: unknown): string | undefined => {
    if (data === undefined) return undefined
    if (!isPlainObject(data)) return 'data: Invalid value: must be a map'
    for (const [key, value] of Object.entries(data)) {
      if (!DATA_KEY.test(key))
        return `data[${key}]: Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`
      if (
        value !== null &&
        (typeof value !== 'string' ||
          !/^[A-Za-z0-9+/]*={0,2}$/.test(value) ||
          value.length % 4 !== 0)
      ) {
        return `data[${key}]: Invalid value: illegal base64 data`
      }
    }
    return undefined
  }

  const handleSecrets = (
    request: EmulatedRequest,
    namespace: string,
    name: string | undefined,
  ): EmulatedResponse => {
    const verb =
      request.method === 'GET'
        ? name === undefined
          ? 'list'
          : 'get'
        : request.method === 'POST'
          ? 'create'
          : request.method.toLowerCase()
    if (denied.has(`${verb} secrets`)) return forbidden(verb, 'secrets', name ?? '', namespace)
    if (name === undefined) {
      if (request.method === 'GET') {
        return {
          status: 200,
          body: {
            kind: 'SecretList',
            apiVersion: 'v1',
            metadata: { resourceVersion: String(revision) },
            items: [...secrets.entries()]
              .filter(([key]) => key.startsWith(`${namespace}/`))
              .map(([key, secret]) =>
                secretView(namespace, key.slice(namespace.length + 1), secret),
              ),
          },
        }
      }
      if (request.method !== 'POST')
        return status(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        )
      const body = request.body
      if (body === INVALID_JSON || !isPlainObject(body) || !isPlainObject(body.metadata)) {
        return status(400, 'BadRequest', 'the body of the request was in an unknown format')
      }
      const newName = body.metadata.name
      if (typeof newName !== 'string' || !NAME.test(newName)) {
        return status(
          422,
          'Invalid',
          `Secret "${String(newName)}" is invalid: metadata.name: Invalid value`,
        )
      }
      const problem = badData(body.data)
      if (problem !== undefined)
        return status(422, 'Invalid', `Secret "${newName}" is invalid: ${problem}`)
      if (secrets.has(`${namespace}/${newName}`)) {
        return status(409, 'AlreadyExists', `secrets "${newName}" already exists`, {
          name: newName,
          kind: 'secrets',
        })
      }
      const secret: StoredSecret = {
        uid: randomUUID(),
        resourceVersion: nextRevision(),
        creationTimestamp: now(),
        type: typeof body.type === 'string' ? body.type : 'Opaque',
        data: { ...((body.data as Record<string, string> | undefined) ?? {}) },
      }
      secrets.set(`${namespace}/${newName}`, secret)
      secretWrites++
      return { status: 201, body: secretView(namespace, newName, secret) }
    }
    const secret = secrets.get(`${namespace}/${name}`)
    if (secret === undefined) return notFound('secrets', name)
    if (request.method === 'GET') return { status: 200, body: secretView(namespace, name, secret) }
    if (request.method !== 'PATCH')
      return status(
        405,
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
      )
    if (!isMergePatch(request)) {
      return status(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      )
    }
    const body = request.body
    if (body === INVALID_JSON || !isPlainObject(body))
      return status(400, 'BadRequest', 'the body of the request was in an unknown format')
    const problem = badData(body.data)
    if (problem !== undefined)
      return status(422, 'Invalid', `Secret "${name}" is invalid: ${problem}`)
    const resourceVersion = isPlainObject(body.metadata) ? body.metadata.resourceVersion : undefined
    if (resourceVersion !== undefined && resourceVersion !== secret.resourceVersion) {
      return status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on secrets "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      )
    }
    const data = merge(secret.data, isPlainObject(body.data) ? body.data : {}) as Record<
      string,
      string
    >
    if (JSON.stringify(data) !== JSON.stringify(secret.data)) {
      secret.data = data
      secret.resourceVersion = nextRevision()
      secretWrites++
    }
    return { status: 200, body: secretView(namespace, name, secret) }
  }

  const handleDeployment = (
    request: EmulatedRequest,
    namespace: string,
    name: string,
  ): EmulatedResponse => {
    const verb = request.method === 'GET' ? 'get' : request.method.toLowerCase()
    if (denied.has(`${verb} deployments`)) return forbidden(verb, 'deployments', name, namespace)
    const deployment = deployments.get(`${namespace}/${name}`)
    if (deployment === undefined) return notFound('deployments.apps', name)
    if (request.method === 'GET') {
      progress(deployment)
      return { status: 200, body: deploymentView(deployment) }
    }
    if (request.method !== 'PATCH')
      return status(
        405,
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
      )
    if (!isMergePatch(request))
      return status(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format')
    const body = request.body
    if (body === INVALID_JSON || !isPlainObject(body))
      return status(400, 'BadRequest', 'the body of the request was in an unknown format')
    // A precondition, as the API server checks it: the patch applies only to that version.
    const resourceVersion = isPlainObject(body.metadata) ? body.metadata.resourceVersion : undefined
    if (resourceVersion !== undefined && resourceVersion !== deployment.resourceVersion) {
      return status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      )
    }
    const template =
      isPlainObject(body.spec) && isPlainObject(body.spec.template) ? body.spec.template : {}
    const metadata = isPlainObject(template.metadata) ? template.metadata : {}
    const annotations = merge(
      deployment.annotations,
      isPlainObject(metadata.annotations) ? metadata.annotations : {},
    ) as Record<string, string>
    if (JSON.stringify(annotations) !== JSON.stringify(deployment.annotations)) {
      deployment.annotations = annotations
      deployment.generation++
      deployment.rollouts++
      deployment.resourceVersion = nextRevision()
      const stored = secrets.get(`${namespace}/${deployment.secret}`)
      deployment.rollout = {
        outcome: deployment.outcomes.shift() ?? 'ready',
        reads: 0,
        snapshot: stored === undefined ? {} : decode(stored.data),
      }
      deployment.availableReplicas = 0
    }
    return { status: 200, body: deploymentView(deployment) }
  }

  const handleReview = (request: EmulatedRequest): EmulatedResponse => {
    const body = request.body
    if (
      request.method !== 'POST' ||
      body === INVALID_JSON ||
      !isPlainObject(body) ||
      !isPlainObject(body.spec)
    ) {
      return status(400, 'BadRequest', 'the body of the request was in an unknown format')
    }
    const attributes = isPlainObject(body.spec.resourceAttributes)
      ? body.spec.resourceAttributes
      : {}
    const allowed = !denied.has(`${String(attributes.verb)} ${String(attributes.resource)}`)
    return {
      status: 201,
      body: {
        kind: 'SelfSubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: body.spec,
        status: {
          allowed,
          ...(allowed ? { reason: 'RBAC: allowed by RoleBinding "keyway"' } : {}),
        },
      },
    }
  }

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    if (bearer(request.headers) !== token) return status(401, 'Unauthorized', 'Unauthorized')
    if (request.path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
      return handleReview(request)
    const secretItem = matchPath('/api/v1/namespaces/:namespace/secrets/:name', request.path)
    if (secretItem !== undefined)
      return handleSecrets(request, secretItem.namespace as string, secretItem.name)
    const secretList = matchPath('/api/v1/namespaces/:namespace/secrets', request.path)
    if (secretList !== undefined)
      return handleSecrets(request, secretList.namespace as string, undefined)
    const deployment = matchPath(
      '/apis/apps/v1/namespaces/:namespace/deployments/:name',
      request.path,
    )
    if (deployment !== undefined)
      return handleDeployment(request, deployment.namespace as string, deployment.name as string)
    return status(404, 'NotFound', 'the server could not find the requested resource')
  }

  const control: KubernetesEmulatorControl = {
    secret: (namespace, name) => {
      const stored = secrets.get(`${namespace}/${name}`)
      return stored === undefined ? undefined : decode(stored.data)
    },
    seedSecret: (namespace, name, data) => {
      secrets.set(`${namespace}/${name}`, {
        uid: randomUUID(),
        resourceVersion: nextRevision(),
        creationTimestamp: now(),
        type: 'Opaque',
        data: Object.fromEntries(
          Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
        ),
      })
    },
    seedDeployment: (namespace, name, options) => {
      const replicas = options.replicas ?? 2
      const stored = secrets.get(`${namespace}/${options.secret}`)
      deployments.set(`${namespace}/${name}`, {
        uid: randomUUID(),
        namespace,
        name,
        secret: options.secret,
        replicas,
        generation: 1,
        resourceVersion: nextRevision(),
        creationTimestamp: now(),
        annotations: {},
        rollouts: 0,
        rollout: null,
        observedGeneration: 1,
        updatedReplicas: replicas,
        availableReplicas: replicas,
        staleReplicas: 0,
        runningWith: stored === undefined ? {} : decode(stored.data),
        outcomes: [],
      })
    },
    deployment: (namespace, name) => {
      const stored = deployments.get(`${namespace}/${name}`)
      if (stored === undefined) return undefined
      return {
        name,
        namespace,
        generation: stored.generation,
        replicas: stored.replicas,
        annotations: { ...stored.annotations },
        rollouts: stored.rollouts,
        complete: stored.rollout === null,
        runningWith: { ...stored.runningWith },
      }
    },
    nextRollouts: (namespace, name, outcome, times = 1) => {
      const stored = deployments.get(`${namespace}/${name}`)
      if (stored === undefined) throw new RangeError(`no deployment ${namespace}/${name}`)
      for (let index = 0; index < times; index++) stored.outcomes.push(outcome)
    },
    release: (namespace, name) => {
      const rollout = deployments.get(`${namespace}/${name}`)?.rollout
      if (rollout !== null && rollout !== undefined) rollout.outcome = 'ready'
    },
    deny: (verb, resource) => {
      denied.add(`${verb} ${resource}`)
    },
    get secretWrites() {
      return secretWrites
    },
  }
  return {
    token,
    control,
    handler: {
      handle,
      errorResponse: (code: number, message: string) =>
        status(code, code >= 500 ? 'InternalError' : 'BadRequest', message),
    },
  }
}
