import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type KubernetesEmulatorControl, startKubernetesEmulator } from './kubernetes-emulator.js'
import type { TargetEmulator } from './target-emulator.js'

let kube: TargetEmulator<KubernetesEmulatorControl>
let config: KubeConfig

function configWith(token: string): KubeConfig {
  const made = new KubeConfig()
  made.loadFromOptions({
    // The client refuses plain HTTP unless TLS checks are off; the emulator is loopback HTTP.
    clusters: [{ name: 'emulated', server: kube.url, skipTLSVerify: true }],
    users: [{ name: 'keyway', token }],
    contexts: [{ name: 'emulated', cluster: 'emulated', user: 'keyway', namespace: 'apps' }],
    currentContext: 'emulated',
  })
  return made
}

beforeEach(async () => {
  kube = await startKubernetesEmulator()
  config = configWith(kube.settings.token)
})
afterEach(async () => {
  await kube.close()
})

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
const encode = (text: string) => Buffer.from(text).toString('base64')

describe('Kubernetes emulator, through the official client (@kubernetes/client-node)', () => {
  it('creates, reads and merge-patches one data entry of a Secret, leaving the others', async () => {
    const core = config.makeApiClient(CoreV1Api)
    const made = await core.createNamespacedSecret({
      namespace: 'apps',
      body: {
        metadata: { name: 'web' },
        data: { API_KEY: encode('old'), DATABASE_URL: encode('db') },
      },
    })
    expect(made.metadata).toMatchObject({
      name: 'web',
      namespace: 'apps',
      resourceVersion: expect.any(String),
    })
    const patched = await core.patchNamespacedSecret(
      { name: 'web', namespace: 'apps', body: { data: { API_KEY: encode('new') } } },
      merge,
    )
    expect(patched.data).toEqual({ API_KEY: encode('new'), DATABASE_URL: encode('db') })
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(
      Number(made.metadata?.resourceVersion),
    )
    // The same patch again changes nothing, not even the resource version.
    const again = await core.patchNamespacedSecret(
      { name: 'web', namespace: 'apps', body: { data: { API_KEY: encode('new') } } },
      merge,
    )
    expect(again.metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion)
    const read = await core.readNamespacedSecret({ name: 'web', namespace: 'apps' })
    expect(read.data).toEqual(patched.data)
    expect(kube.control.secret('apps', 'web')).toEqual({ API_KEY: 'new', DATABASE_URL: 'db' })
    await expect(
      core.patchNamespacedSecret(
        { name: 'web', namespace: 'apps', body: { data: { API_KEY: 'not base64!' } } },
        merge,
      ),
    ).rejects.toMatchObject({ code: 422 })
    await expect(
      core.readNamespacedSecret({ name: 'missing', namespace: 'apps' }),
    ).rejects.toMatchObject({
      code: 404,
      body: expect.stringContaining('"reason":"NotFound"'),
    })
  })

  it('restarts a Deployment as kubectl does, and the rollout completes read by read', async () => {
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.control.seedDeployment('apps', 'web', { secret: 'web', replicas: 2 })
    kube.control.seedSecret('apps', 'web', { API_KEY: 'new' })
    const apps = config.makeApiClient(AppsV1Api)
    const restarted = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'apps',
        body: {
          spec: {
            template: {
              metadata: {
                annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-07T17:00:00Z' },
              },
            },
          },
        },
      },
      merge,
    )
    expect(restarted.metadata?.generation).toBe(2)
    const seen: Array<[number | undefined, number | undefined, number | undefined]> = []
    for (let read = 0; read < 6; read++) {
      const { status } = await apps.readNamespacedDeployment({ name: 'web', namespace: 'apps' })
      seen.push([status?.observedGeneration, status?.updatedReplicas, status?.availableReplicas])
    }
    expect(seen).toEqual([
      [2, 0, 0],
      [2, 1, 0],
      [2, 2, 0],
      [2, 2, 0],
      [2, 2, 2],
      [2, 2, 2],
    ])
    expect(kube.control.deployment('apps', 'web')).toMatchObject({
      complete: true,
      runningWith: { API_KEY: 'new' },
    })
  })

  it('plays a rollout that never becomes ready and one that exceeds its deadline', async () => {
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.control.seedDeployment('apps', 'web', { secret: 'web' })
    kube.control.nextRollouts('apps', 'web', 'deadline')
    const apps = config.makeApiClient(AppsV1Api)
    await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'apps',
        body: { spec: { template: { metadata: { annotations: { a: '1' } } } } },
      },
      merge,
    )
    let last = await apps.readNamespacedDeployment({ name: 'web', namespace: 'apps' })
    for (let read = 0; read < 5; read++)
      last = await apps.readNamespacedDeployment({ name: 'web', namespace: 'apps' })
    expect(last.status?.conditions?.[0]).toMatchObject({
      type: 'Progressing',
      reason: 'ProgressDeadlineExceeded',
    })
    expect(last.status?.updatedReplicas).toBe(0)
    expect(kube.control.deployment('apps', 'web')?.runningWith).toEqual({ API_KEY: 'old' })
  })

  it('answers access reviews, refuses another token and a denied verb with Status objects', async () => {
    kube.control.deny('patch', 'deployments')
    const review = await config.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
      body: {
        spec: {
          resourceAttributes: {
            namespace: 'apps',
            verb: 'patch',
            group: 'apps',
            resource: 'deployments',
            name: 'web',
          },
        },
      },
    })
    expect(review.status?.allowed).toBe(false)
    const stranger = configWith('not-the-token').makeApiClient(CoreV1Api)
    await expect(
      stranger.readNamespacedSecret({ name: 'web', namespace: 'apps' }),
    ).rejects.toMatchObject({ code: 401 })
    expect(JSON.stringify(kube.requests)).not.toContain(kube.settings.token)
  })
})
