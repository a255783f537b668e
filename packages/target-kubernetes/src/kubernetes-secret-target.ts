import {
  type BaseStoreSettings,
  ConflictError,
  createHttpClient,
  type DeliveryTarget,
  invalidTargetSetting,
  NotFoundError,
  PermissionError,
  ProviderError,
  pollUntil,
  type RequestOptions,
  type TargetReceipt,
} from '@keyway/core/adapter'
import * as v from 'valibot'
import { type KubernetesConnectionSettings, resolveConnection } from './kube-connection.js'
import {
  accessReviewSchema,
  deploymentSchema,
  readKubernetesError,
  secretSchema,
} from './kubernetes-schemas.js'
import { rolloutComplete } from './rollout-status.js'
import { tlsFetch } from './tls-fetch.js'

/** Settings of `createKubernetesSecretTarget`. */
export interface KubernetesSecretTargetSettings
  extends KubernetesConnectionSettings,
    Omit<BaseStoreSettings, 'reconcile' | 'scheduler'> {
  /** The namespace. Default: the kubeconfig context's or the service account's, else `default`. */
  namespace?: string
  /** The Secret's name. Made (type `Opaque`) where it does not exist yet. */
  secret: string
  /** The one data entry keyway owns in that Secret. */
  key: string
  /**
   * Deployments (in the same namespace) whose pods read the key as an environment variable:
   * each is restarted as `kubectl rollout restart` does, and confirm waits for the rollout.
   * Pods that mount the Secret as a volume (without `subPath`) see the change by themselves.
   */
  restart?: readonly string[]
  /** The target's name in journals and reports. Default `kubernetes:<namespace>/<secret>#<key>`. */
  name?: string
  /** How long confirm may take, in ms. Default 10 minutes with restarts (kubectl's progress deadline), else 60 s. */
  confirmWithinMs?: number
  /** Pause between two reads of a Deployment while confirming, in ms. Default `2000`. */
  confirmIntervalMs?: number
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const settingsSchema = v.object({
  namespace: v.pipe(
    v.string(),
    v.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a namespace name'),
  ),
  secret: v.pipe(
    v.string(),
    v.regex(DNS_SUBDOMAIN, "a Secret's name (lower case, digits, - and .)"),
  ),
  key: v.pipe(v.string(), v.regex(/^[-._a-zA-Z0-9]{1,253}$/, 'letters, digits, -, _ and .')),
  restart: v.optional(v.array(v.pipe(v.string(), v.regex(DNS_SUBDOMAIN, "a Deployment's name")))),
  confirmWithinMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  confirmIntervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
})

/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'
/**
 * The annotation that says which rotations' writes the latest restarts were for (their write
 * tokens, newest first, comma-separated): a resume restarts nothing twice, also when another
 * rotation restarted the same Deployment since.
 */
export const RESTARTED_FOR = 'keyway/write-token'
/** How many restarts' tokens the annotation keeps. */
const RESTARTS_KEPT = 16
/** How many times a restart reads the Deployment and patches it when it keeps changing (409). */
const RESTART_ATTEMPTS = 8

/**
 * Restarts of one Deployment in this process, one at a time: each reads the annotation and
 * writes it back with its token added, so two at once would drop one of the tokens.
 */
const restartQueues = new Map<string, Promise<unknown>>()

function oneAtATime<T>(key: string, run: () => Promise<T>): Promise<T> {
  const previous = restartQueues.get(key) ?? Promise.resolve()
  const next = previous.then(run, run)
  const settled = next.catch(() => undefined)
  restartQueues.set(key, settled)
  void settled.then(() => {
    if (restartQueues.get(key) === settled) restartQueues.delete(key)
  })
  return next
}

/** The write tokens a pod template's annotation names, newest first. */
function restartTokens(annotations: Record<string, string> | null | undefined): string[] {
  const value = annotations?.[RESTARTED_FOR]
  return value === undefined || value === '' ? [] : value.split(',')
}

const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' }

/**
 * A delivery target that keeps a rotated key in one data entry of a Kubernetes Secret.
 * write: a JSON merge patch of `data.<key>` only (the Secret is made where it does not exist);
 * a patch of the same value again changes nothing. propagate: with `restart`, each named
 * Deployment's pod template gets `kubectl.kubernetes.io/restartedAt`, as `kubectl rollout
 * restart` does (and a keyway annotation with the rotation's write token, so a resumed
 * rotation restarts nothing twice), patched on the `resourceVersion` it read and read again
 * on a 409, so a restart by another process is never overwritten. confirm: reads the Secret back and compares the entry,
 * then waits for each rollout as `kubectl rollout status` does. Auth by bearer token,
 * kubeconfig or the pod's service account. Every setting is checked here, before anything is
 * sent.
 */
export function createKubernetesSecretTarget(
  settings: KubernetesSecretTargetSettings,
): DeliveryTarget {
  const {
    auth: _auth,
    baseUrl: _baseUrl,
    token: _token,
    caData: _caData,
    kubeconfig: _kubeconfig,
    context: _context,
    serviceAccountDir: _serviceAccountDir,
    namespace: givenNamespace,
    secret,
    key,
    restart,
    name,
    confirmWithinMs,
    confirmIntervalMs,
    ...httpSettings
  } = settings
  const connection = resolveConnection(settings)
  const parsed = v.safeParse(settingsSchema, {
    ...settings,
    namespace: givenNamespace ?? connection.namespace ?? 'default',
  })
  if (!parsed.success) {
    const issue = parsed.issues[0]
    throw invalidTargetSetting('kubernetes', v.getDotPath(issue) ?? '', issue.message)
  }
  const { namespace, restart: restarts = [] } = parsed.output
  const deployments = [...new Set(restarts)]
  const useTls = connection.tls !== undefined && connection.server.startsWith('https:')
  const client = createHttpClient({
    ...httpSettings,
    provider: 'kubernetes',
    baseUrl: connection.server.replace(/\/+$/, ''),
    headers: connection.token === '' ? {} : { authorization: `Bearer ${connection.token}` },
    // A given fetch comes with the other settings; a cluster's own CA needs the TLS fetch.
    ...(useTls ? { fetch: tlsFetch(connection.tls ?? {}) } : {}),
    secrets: [
      connection.token,
      ...(connection.tls?.key === undefined ? [] : [connection.tls.key]),
    ].filter((value) => value !== ''),
    errorBody: readKubernetesError,
  })
  const secretsPath = `/api/v1/namespaces/${namespace}/secrets`
  const deploymentPath = (deployment: string) =>
    `/apis/apps/v1/namespaces/${namespace}/deployments/${deployment}`
  const intervalMs = confirmIntervalMs ?? 2000

  const patchEntry = (encoded: string, value: string, options: RequestOptions) =>
    client.request({
      operation: 'write',
      method: 'PATCH',
      path: `${secretsPath}/${secret}`,
      headers: MERGE_PATCH,
      json: { data: { [key]: encoded } },
      secrets: [value, encoded],
      schema: secretSchema,
      signal: options.signal,
    })
  /**
   * Restarts `deployment` for this write unless its annotation names the write already. The
   * patch carries the `resourceVersion` read, so a restart by another process in between
   * (which rewrote the annotation) is refused with 409 and read again: no token is dropped.
   */
  async function restartFor(deployment: string, context: RequestOptions & { writeToken: string }) {
    for (let attempt = 1; ; attempt++) {
      const { data: current } = await readDeployment(deployment, context)
      const tokens = restartTokens(current.spec.template.metadata?.annotations)
      if (tokens.includes(context.writeToken)) {
        // Restarted for this write by an earlier call (maybe restarted again since, for
        // a later write): the rollout under way carries this write's entry.
        return current.metadata.generation
      }
      try {
        const { data: patched } = await client.request({
          operation: 'restart',
          method: 'PATCH',
          path: deploymentPath(deployment),
          headers: MERGE_PATCH,
          json: {
            metadata: { resourceVersion: current.metadata.resourceVersion },
            spec: {
              template: {
                metadata: {
                  annotations: {
                    // kubectl's format: RFC 3339 in whole seconds.
                    [RESTARTED_AT]: `${new Date().toISOString().slice(0, 19)}Z`,
                    [RESTARTED_FOR]: [context.writeToken, ...tokens]
                      .slice(0, RESTARTS_KEPT)
                      .join(','),
                  },
                },
              },
            },
          },
          schema: deploymentSchema,
          signal: context.signal,
        })
        return patched.metadata.generation
      } catch (error) {
        // Changed since it was read (another restart, a rollout's progress): read it again.
        if (!(error instanceof ConflictError) || attempt >= RESTART_ATTEMPTS) throw error
      }
    }
  }

  const readDeployment = (deployment: string, options: RequestOptions) =>
    client.request({
      operation: 'get',
      method: 'GET',
      path: deploymentPath(deployment),
      schema: deploymentSchema,
      signal: options.signal,
    })

  return {
    name: name ?? `kubernetes:${namespace}/${secret}#${key}`,
    description: {
      kind: 'kubernetes-secret',
      location: `namespace ${namespace}, Secret ${secret}, key ${key}`,
      propagate:
        deployments.length === 0
          ? 'nothing: pods that mount the Secret as a volume see the change; pods that read it as an environment variable keep the old key until restarted'
          : `restarts deployment ${deployments.join(', ')} (as kubectl rollout restart)`,
      confirm:
        deployments.length === 0
          ? 'reads the Secret back and compares the entry'
          : 'reads the Secret back and compares the entry, then waits until each rollout is complete (as kubectl rollout status)',
      cannotConfirm:
        deployments.length === 0
          ? 'that running pods use the new key: pods reading it as an environment variable need a restart (set restart)'
          : null,
    },
    confirmWithinMs: confirmWithinMs ?? (deployments.length === 0 ? 60_000 : 600_000),
    async write(created, context): Promise<TargetReceipt> {
      const value = created.secret.reveal()
      const encoded = Buffer.from(value, 'utf8').toString('base64')
      try {
        const { data } = await patchEntry(encoded, value, context)
        return { resourceVersion: data.metadata.resourceVersion ?? null }
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error
      }
      try {
        const { data } = await client.request({
          operation: 'write',
          // A resend after a lost answer finds the Secret made: 409, and the patch below.
          retryAs: 'update',
          method: 'POST',
          path: secretsPath,
          json: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: secret },
            type: 'Opaque',
            data: { [key]: encoded },
          },
          secrets: [value, encoded],
          schema: secretSchema,
          signal: context.signal,
        })
        return {
          resourceVersion: data.metadata.resourceVersion ?? null,
          created: true,
        } as TargetReceipt
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error
      }
      const { data } = await patchEntry(encoded, value, context)
      return { resourceVersion: data.metadata.resourceVersion ?? null }
    },
    ...(deployments.length === 0
      ? {}
      : {
          async propagate(context) {
            const receipt: Record<string, number> = {}
            for (const deployment of deployments) {
              receipt[`generation:${deployment}`] = await oneAtATime(
                `${connection.server} ${deploymentPath(deployment)}`,
                () => restartFor(deployment, context),
              )
            }
            return receipt as TargetReceipt
          },
        }),
    async confirm(context) {
      const { data } = await client.request({
        operation: 'confirm',
        method: 'GET',
        path: `${secretsPath}/${secret}`,
        schema: secretSchema,
        signal: context.signal,
      })
      const held = data.data?.[key]
      if (
        held === undefined ||
        Buffer.from(held, 'base64').toString('utf8') !== context.created.secret.reveal()
      ) {
        throw new ProviderError({
          provider: 'kubernetes',
          operation: 'confirm',
          message: `kubernetes confirm: Secret ${namespace}/${secret} does not hold the new key in ${key}`,
        })
      }
      for (const deployment of deployments) {
        const generation = context.receipt[`generation:${deployment}`]
        await pollUntil(
          async () => {
            const { data: read } = await readDeployment(deployment, context)
            if (typeof generation === 'number' && read.metadata.generation < generation)
              return undefined
            return rolloutComplete(read, deployment) ? true : undefined
          },
          {
            deadline: context.deadline,
            intervalMs,
            signal: context.signal,
            provider: 'kubernetes',
            operation: 'confirm',
            what: `the rollout of deployment ${namespace}/${deployment} did not complete`,
          },
        )
      }
    },
    async probe(options = {}) {
      // Access reviews ask the API server what the token may do; nothing is written.
      const checks: Array<[string, string, string, string]> = [
        ['get', '', 'secrets', secret],
        ['patch', '', 'secrets', secret],
        ...deployments.flatMap(
          (deployment): Array<[string, string, string, string]> => [
            ['get', 'apps', 'deployments', deployment],
            ['patch', 'apps', 'deployments', deployment],
          ],
        ),
      ]
      const refused: string[] = []
      for (const [verb, group, resource, object] of checks) {
        const { data } = await client.request({
          operation: 'probe',
          method: 'POST',
          retryAs: 'read',
          path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          json: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: { resourceAttributes: { namespace, verb, group, resource, name: object } },
          },
          schema: accessReviewSchema,
          signal: options.signal,
        })
        if (!data.status.allowed) refused.push(`${verb} ${resource}/${object}`)
      }
      if (refused.length > 0) {
        throw new PermissionError({
          provider: 'kubernetes',
          operation: 'probe',
          message: `kubernetes probe: the credential may not ${refused.join(', ')} in namespace ${namespace}`,
        })
      }
    },
  }
}
