import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { invalidTargetSetting, readCredential, readEnv } from '@keyway/core/adapter'
import { load } from 'js-yaml'
import * as v from 'valibot'
import type { TlsOptions } from './tls-fetch.js'

/** How the target reaches the cluster. */
export type KubernetesAuth = 'token' | 'kubeconfig' | 'in-cluster'

/** The settings that say how to reach the cluster. */
export interface KubernetesConnectionSettings {
  /**
   * `'token'`: `baseUrl` and `token` (and `caData`) as given. `'kubeconfig'`: the current
   * context of a kubeconfig file. `'in-cluster'`: the pod's service account. Default: `'token'`
   * where `token` or `baseUrl` is given, else `'kubeconfig'` where the file exists, else
   * `'in-cluster'` where `KUBERNETES_SERVICE_HOST` is set.
   */
  auth?: KubernetesAuth
  /** The API server, e.g. `https://10.0.0.1:6443` (token auth). */
  baseUrl?: string
  /** A bearer token (token auth). Default: the `KUBERNETES_TOKEN` env var. */
  token?: string
  /** The cluster's CA certificate, PEM (token auth). Default: the system's trust store. */
  caData?: string
  /** The kubeconfig file. Default: the first path in `KUBECONFIG`, else `~/.kube/config`. */
  kubeconfig?: string
  /** The kubeconfig context. Default: its `current-context`. */
  context?: string
  /** Where the service account's files are (in-cluster). Default `/var/run/secrets/kubernetes.io/serviceaccount`. */
  serviceAccountDir?: string
}

/** Where to send requests, with what token, trusting what. */
export interface KubernetesConnection {
  auth: KubernetesAuth
  server: string
  token: string
  tls: TlsOptions | undefined
  /** The namespace the context or service account names, if any. */
  namespace: string | undefined
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

const kubeconfigSchema = v.looseObject({
  'current-context': v.optional(v.string()),
  clusters: v.array(
    v.looseObject({
      name: v.string(),
      cluster: v.looseObject({
        server: v.string(),
        'certificate-authority-data': v.optional(v.string()),
        'certificate-authority': v.optional(v.string()),
        'insecure-skip-tls-verify': v.optional(v.boolean()),
      }),
    }),
  ),
  users: v.array(
    v.looseObject({
      name: v.string(),
      user: v.nullish(
        v.looseObject({
          token: v.optional(v.string()),
          tokenFile: v.optional(v.string()),
          'client-certificate-data': v.optional(v.string()),
          'client-key-data': v.optional(v.string()),
          'client-certificate': v.optional(v.string()),
          'client-key': v.optional(v.string()),
          exec: v.optional(v.unknown()),
          'auth-provider': v.optional(v.unknown()),
        }),
      ),
    }),
  ),
  contexts: v.array(
    v.looseObject({
      name: v.string(),
      context: v.looseObject({
        cluster: v.string(),
        user: v.string(),
        namespace: v.optional(v.string()),
      }),
    }),
  ),
})

/**
 * Works out how to reach the cluster from the settings, a kubeconfig or the pod's service
 * account, reading the files now, so a missing or unusable one is a `ValidationError` before
 * anything is sent. No message quotes a file's contents.
 */
export function resolveConnection(settings: KubernetesConnectionSettings): KubernetesConnection {
  const auth = settings.auth ?? defaultAuth(settings)
  if (auth === 'token') return fromToken(settings)
  if (auth === 'kubeconfig') return fromKubeconfig(settings)
  if (auth === 'in-cluster') return fromServiceAccount(settings)
  throw invalid('auth', "one of 'token', 'kubeconfig', 'in-cluster'")
}

function defaultAuth(settings: KubernetesConnectionSettings): KubernetesAuth {
  if (settings.token !== undefined || settings.baseUrl !== undefined) return 'token'
  if (settings.kubeconfig !== undefined || existsSync(kubeconfigPath(settings))) return 'kubeconfig'
  if (readEnv('KUBERNETES_SERVICE_HOST') !== undefined) return 'in-cluster'
  throw invalid(
    'auth',
    'no way to reach a cluster: give baseUrl and token, a kubeconfig (KUBECONFIG or ~/.kube/config), or run in a pod',
  )
}

function fromToken(settings: KubernetesConnectionSettings): KubernetesConnection {
  if (typeof settings.baseUrl !== 'string') throw invalid('baseUrl', "the API server's address")
  const token = readCredential({
    provider: 'kubernetes',
    value: settings.token,
    setting: 'token',
    envVar: 'KUBERNETES_TOKEN',
  })
  if (token === undefined) throw invalid('token', 'a bearer token (setting or KUBERNETES_TOKEN)')
  return {
    auth: 'token',
    server: settings.baseUrl,
    token,
    tls: settings.caData === undefined ? undefined : { ca: settings.caData },
    namespace: undefined,
  }
}

function kubeconfigPath(settings: KubernetesConnectionSettings): string {
  if (settings.kubeconfig !== undefined) return settings.kubeconfig
  const fromEnv = readEnv('KUBECONFIG')
    ?.split(delimiter)
    .find((path) => path !== '')
  return fromEnv ?? join(homedir(), '.kube', 'config')
}

function fromKubeconfig(settings: KubernetesConnectionSettings): KubernetesConnection {
  const path = kubeconfigPath(settings)
  const text = readText(path, 'kubeconfig')
  let document: unknown
  try {
    document = load(text)
  } catch {
    // The parser's message may quote the file, which holds credentials.
    throw invalid('kubeconfig', `${path} is not valid YAML`)
  }
  const parsed = v.safeParse(kubeconfigSchema, document)
  if (!parsed.success) {
    throw invalid(
      'kubeconfig',
      `${path} is not a kubeconfig (at ${v.getDotPath(parsed.issues[0]) ?? 'its top'})`,
    )
  }
  const config = parsed.output
  const contextName = settings.context ?? config['current-context']
  const context = config.contexts.find((entry) => entry.name === contextName)?.context
  if (context === undefined)
    throw invalid('context', `${path} has no context ${contextName ?? '(no current-context)'}`)
  const cluster = config.clusters.find((entry) => entry.name === context.cluster)?.cluster
  if (cluster === undefined)
    throw invalid('kubeconfig', `${path} has no cluster ${context.cluster}`)
  const user = config.users.find((entry) => entry.name === context.user)?.user ?? {}
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw invalid(
      'kubeconfig',
      `the user ${context.user} in ${path} gets its token from a plugin, which keyway does not run: use a token (auth: 'token') or a service account`,
    )
  }
  const base = dirname(resolve(path))
  const file = (name: string | undefined, what: string) =>
    name === undefined ? undefined : readText(resolve(base, name), what)
  const data = (encoded: string | undefined) =>
    encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8')
  const token = user.token ?? file(user.tokenFile, 'token file')?.trim()
  const cert =
    data(user['client-certificate-data']) ?? file(user['client-certificate'], 'client certificate')
  const key = data(user['client-key-data']) ?? file(user['client-key'], 'client key')
  if (token === undefined && (cert === undefined || key === undefined)) {
    throw invalid(
      'kubeconfig',
      `the user ${context.user} in ${path} has neither a token nor a client certificate`,
    )
  }
  const ca =
    data(cluster['certificate-authority-data']) ??
    file(cluster['certificate-authority'], 'CA certificate')
  const skip = cluster['insecure-skip-tls-verify'] === true
  return {
    auth: 'kubeconfig',
    server: cluster.server,
    token: token ?? '',
    tls:
      ca === undefined && cert === undefined && !skip
        ? undefined
        : { ca, cert, key, rejectUnauthorized: !skip },
    namespace: context.namespace,
  }
}

function fromServiceAccount(settings: KubernetesConnectionSettings): KubernetesConnection {
  const host = readEnv('KUBERNETES_SERVICE_HOST')
  if (host === undefined)
    throw invalid('auth', 'in-cluster needs KUBERNETES_SERVICE_HOST (set in every pod)')
  const port = readEnv('KUBERNETES_SERVICE_PORT') ?? '443'
  const dir = settings.serviceAccountDir ?? SERVICE_ACCOUNT_DIR
  const namespaceFile = join(dir, 'namespace')
  return {
    auth: 'in-cluster',
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: readText(join(dir, 'token'), 'service account token').trim(),
    tls: { ca: readText(join(dir, 'ca.crt'), 'service account CA certificate') },
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw invalid(what === 'kubeconfig' ? 'kubeconfig' : 'auth', `cannot read the ${what} ${path}`)
  }
}

function invalid(path: string, message: string) {
  return invalidTargetSetting('kubernetes', path, message)
}
