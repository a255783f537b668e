import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer as createHttpsServer, type Server } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL, URL } from 'node:url'
import { promisify } from 'node:util'
import type { KeyStoreError } from '@keyway/core'
import { writeTokenOf } from '@keyway/core/adapter'
import { startKubernetesEmulator, targetTestKit, targetUnderTest } from '@keyway/testkit'
import { expectNoSecret, useEmulator } from '@keyway/testkit/conformance'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createKubernetesSecretTarget,
  type KubernetesSecretTargetSettings,
} from './kubernetes-secret-target.js'

const run = promisify(execFile)
const kube = useEmulator(startKubernetesEmulator)
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyway-kube-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const { created, context, writeError, secret: NEW_SECRET } = targetTestKit({ target: 'kubernetes' })
const encoded = Buffer.from(NEW_SECRET).toString('base64')

const target = targetUnderTest(createKubernetesSecretTarget, kube, {
  namespace: 'apps',
  secret: 'web',
  key: 'API_KEY',
  confirmIntervalMs: 1,
})

/** Writes, propagates and confirms, as a rotation does. */
async function deliver(delivery: ReturnType<typeof target>) {
  const written = (await delivery.write(created(), context())) ?? {}
  const propagated = (await delivery.propagate?.(context(written))) ?? {}
  const receipt = { ...written, ...propagated }
  await delivery.confirm(context(receipt))
  return receipt
}

const patches = () => kube.requests.filter((request) => request.method === 'PATCH')

/** Another keyway process (this package's build) restarts `web` for the rotation of `writeToken`. */
async function restartInAnotherProcess(
  settings: { baseUrl: string; token: string },
  writeToken: string,
): Promise<void> {
  const script = `
    const { createKubernetesSecretTarget } = await import(process.env.TARGET_MODULE)
    const target = createKubernetesSecretTarget({
      baseUrl: process.env.KUBE_URL, token: process.env.KUBE_TOKEN,
      namespace: 'apps', secret: 'web', key: 'API_KEY', restart: ['web'],
    })
    await target.propagate({
      rotationId: 'r2', provider: 'memory', oldKeyId: 'k1', newKeyId: 'k3',
      writeToken: process.env.WRITE_TOKEN, receipt: {},
    })`
  await run(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      TARGET_MODULE: pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url)))
        .href,
      KUBE_URL: settings.baseUrl,
      KUBE_TOKEN: settings.token,
      WRITE_TOKEN: writeToken,
    },
  })
}

describe('Kubernetes Secret target', () => {
  it('merge-patches one data entry, leaves the others, and reads it back', async () => {
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old', DATABASE_URL: 'postgres://untouched' })
    const delivery = target()
    expect(delivery.name).toBe('kubernetes:apps/web#API_KEY')
    expect(delivery.description).toMatchObject({
      kind: 'kubernetes-secret',
      location: 'namespace apps, Secret web, key API_KEY',
      cannotConfirm: expect.stringContaining('environment variable'),
    })
    await deliver(delivery)
    expect(kube.control.secret('apps', 'web')).toEqual({
      API_KEY: NEW_SECRET,
      DATABASE_URL: 'postgres://untouched',
    })
    expect(patches()).toHaveLength(1)
    expect(patches()[0]).toMatchObject({
      path: '/api/v1/namespaces/apps/secrets/web',
      headers: { 'content-type': 'application/merge-patch+json', authorization: '[REDACTED]' },
      body: { data: { API_KEY: encoded } },
    })
  })

  it('makes the Secret where it does not exist', async () => {
    await deliver(target())
    expect(kube.control.secret('apps', 'web')).toEqual({ API_KEY: NEW_SECRET })
    expect(kube.requests.map((request) => `${request.method} ${request.path}`).slice(0, 2)).toEqual(
      ['PATCH /api/v1/namespaces/apps/secrets/web', 'POST /api/v1/namespaces/apps/secrets'],
    )
  })

  it('restarts each Deployment as kubectl does and confirms once its rollout is complete; a resumed propagate restarts nothing twice', async () => {
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.control.seedDeployment('apps', 'web', { secret: 'web', replicas: 3 })
    kube.control.seedDeployment('apps', 'worker', { secret: 'web', replicas: 1 })
    const delivery = target({ restart: ['web', 'worker'] })
    expect(delivery.description.cannotConfirm).toBeNull()
    const receipt = await deliver(delivery)
    expect(receipt).toMatchObject({ 'generation:web': 2, 'generation:worker': 2 })
    for (const name of ['web', 'worker']) {
      expect(kube.control.deployment('apps', name)).toMatchObject({
        complete: true,
        rollouts: 1,
        runningWith: { API_KEY: NEW_SECRET },
        annotations: {
          'kubectl.kubernetes.io/restartedAt': expect.stringMatching(
            /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
          ),
          'keyway/write-token': writeTokenOf('r1', 'kubernetes', 'k2'),
        },
      })
    }
    // A resume runs propagate again: the annotation shows the restart was made.
    await delivery.propagate?.(context(receipt))
    expect(kube.control.deployment('apps', 'web')?.rollouts).toBe(1)
    expect(patches().filter((request) => request.path.includes('/deployments/'))).toHaveLength(2)
  })

  it("a resumed propagate restarts nothing again after another rotation's restart of the same Deployment", async () => {
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.control.seedDeployment('apps', 'web', { secret: 'web' })
    const delivery = target({ restart: ['web'] })
    // Rotation r1 restarts web (its answer is then lost), and r2 restarts it for its own write.
    await delivery.propagate?.(context())
    const other = {
      ...context(),
      rotationId: 'r2',
      writeToken: writeTokenOf('r2', 'kubernetes', 'k3'),
    }
    await delivery.propagate?.(other)
    await kube.idle()
    expect(kube.control.deployment('apps', 'web')?.annotations['keyway/write-token']).toBe(
      `${other.writeToken},${writeTokenOf('r1', 'kubernetes', 'k2')}`,
    )
    const restarts = () =>
      patches().filter((request) => request.path.includes('/deployments/')).length
    expect(restarts()).toBe(2)
    // r1 resumes: its restart was made (a later one keeps it), so nothing is sent again.
    await delivery.propagate?.(context())
    await delivery.propagate?.(other)
    expect(restarts()).toBe(2)
  })

  it('two rotations restarting one Deployment at once both keep their token in its annotation', async () => {
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.control.seedDeployment('apps', 'web', { secret: 'web' })
    const other = {
      ...context(),
      rotationId: 'r2',
      writeToken: writeTokenOf('r2', 'kubernetes', 'k3'),
    }
    await Promise.all([
      target({ restart: ['web'] }).propagate?.(context()),
      target({ restart: ['web'] }).propagate?.(other),
    ])
    const tokens = kube.control.deployment('apps', 'web')?.annotations['keyway/write-token']
    expect(tokens?.split(',').sort()).toEqual(
      [writeTokenOf('r1', 'kubernetes', 'k2'), other.writeToken].sort(),
    )
  })

  it('a restart by another process between the read and the patch is kept: the patch names the version read, is refused (409), and is made again on the new one', async () => {
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.control.seedDeployment('apps', 'web', { secret: 'web' })
    const otherToken = writeTokenOf('r2', 'kubernetes', 'k3')
    const answers: Array<{ method: string; status: number }> = []
    let otherRan = false
    // This process reads web; before it patches, another keyway process restarts web.
    const fetchHere: typeof fetch = async (input, init) => {
      const method = input instanceof Request ? input.method : (init?.method ?? 'GET')
      const url = input instanceof Request ? input.url : String(input)
      const response = await fetch(input, init)
      if (url.includes('/deployments/web')) {
        answers.push({ method, status: response.status })
        if (method === 'GET' && !otherRan) {
          otherRan = true
          await restartInAnotherProcess(kube.settings, otherToken)
        }
      }
      return response
    }
    await target({ restart: ['web'], fetch: fetchHere }).propagate?.(context())
    expect(otherRan).toBe(true)
    expect(answers).toEqual([
      { method: 'GET', status: 200 },
      // Made with the version read before the other process's restart.
      { method: 'PATCH', status: 409 },
      { method: 'GET', status: 200 },
      { method: 'PATCH', status: 200 },
    ])
    const web = kube.control.deployment('apps', 'web')
    expect(web?.annotations['keyway/write-token']).toBe(
      `${writeTokenOf('r1', 'kubernetes', 'k2')},${otherToken}`,
    )
    expect(web?.rollouts).toBe(2)
  })

  it('a Deployment that changes at every read makes the restart give up after a bounded number of tries, with the conflict', async () => {
    expect.assertions(3)
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.control.seedDeployment('apps', 'web', { secret: 'web' })
    kube.inject({ match: { method: 'PATCH' }, status: 409, times: 100 })
    await expect(target({ restart: ['web'] }).propagate?.(context())).rejects.toMatchObject({
      name: 'ConflictError',
    })
    const restarts = patches().filter((request) => request.path.includes('/deployments/'))
    expect(restarts).toHaveLength(8)
    expect(kube.control.deployment('apps', 'web')?.rollouts).toBe(0)
  })

  it('a rollout that never becomes ready times out at the deadline; one past its progress deadline fails at once', async () => {
    expect.assertions(3)
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.control.seedDeployment('apps', 'web', { secret: 'web' })
    kube.control.nextRollouts('apps', 'web', 'stuck')
    kube.control.nextRollouts('apps', 'web', 'deadline')
    const delivery = target({ restart: ['web'] })
    const written = (await delivery.write(created(), context())) ?? {}
    const receipt = { ...written, ...((await delivery.propagate?.(context(written))) ?? {}) }
    await expect(delivery.confirm(context(receipt, { deadlineMs: 50 }))).rejects.toMatchObject({
      code: 'timeout',
      message:
        'kubernetes confirm: the rollout of deployment apps/web did not complete by the deadline',
    })
    const next = {
      ...receipt,
      ...((await delivery.propagate?.({
        ...context(receipt),
        writeToken: writeTokenOf('r2', 'kubernetes', 'k3'),
      })) ?? {}),
    }
    await expect(delivery.confirm(context(next))).rejects.toMatchObject({
      name: 'ProviderError',
      message: expect.stringContaining('exceeded its progress deadline'),
    })
    expect(kube.control.deployment('apps', 'web')?.runningWith).toEqual({ API_KEY: 'old' })
  })

  it('retries a 503 and a patch whose answer was lost: the Secret changes once', async () => {
    kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
    kube.inject({ match: { method: 'PATCH' }, status: 503 })
    kube.inject({ match: { method: 'PATCH' }, drop: 'after' })
    await deliver(target())
    expect(patches()).toHaveLength(3)
    expect(kube.control.secretWrites).toBe(1)
    expect(kube.control.secret('apps', 'web')).toEqual({ API_KEY: NEW_SECRET })
  })

  it('confirm refuses a Secret whose entry holds another value', async () => {
    expect.assertions(1)
    kube.control.seedSecret('apps', 'web', { API_KEY: 'someone-else' })
    await expect(target().confirm(context())).rejects.toMatchObject({
      name: 'ProviderError',
      message: 'kubernetes confirm: Secret apps/web does not hold the new key in API_KEY',
    })
  })

  it('probes with access reviews only, and names what is refused', async () => {
    await target({ restart: ['web'] }).probe?.()
    expect(
      kube.requests.map(
        (request) =>
          (request.body as { spec: { resourceAttributes: { verb: string; resource: string } } })
            .spec.resourceAttributes,
      ),
    ).toEqual([
      expect.objectContaining({ verb: 'get', resource: 'secrets', name: 'web', namespace: 'apps' }),
      expect.objectContaining({ verb: 'patch', resource: 'secrets' }),
      expect.objectContaining({ verb: 'get', resource: 'deployments', group: 'apps' }),
      expect.objectContaining({ verb: 'patch', resource: 'deployments', group: 'apps' }),
    ])
    kube.control.deny('patch', 'deployments')
    await expect(target({ restart: ['web'] }).probe?.()).rejects.toMatchObject({
      name: 'PermissionError',
      message: 'kubernetes probe: the credential may not patch deployments/web in namespace apps',
    })
  })

  it('a refusal holds neither the token nor the secret', async () => {
    expect.assertions(3)
    const error = await writeError(target({ token: 'not-the-token' }))
    expect(error).toMatchObject({ name: 'AuthenticationError', status: 401 })
    expectNoSecret(error, [kube.settings.token, NEW_SECRET])
  })

  it("reads a kubeconfig's current context: server, token and namespace", async () => {
    const path = join(dir, 'config')
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: emulated',
        'clusters:',
        `- name: emulated`,
        `  cluster: { server: "${kube.url}" }`,
        'users:',
        `- name: keyway`,
        `  user: { token: "${kube.settings.token}" }`,
        'contexts:',
        '- name: emulated',
        '  context: { cluster: emulated, user: keyway, namespace: team-a }',
      ].join('\n'),
    )
    kube.control.seedSecret('team-a', 'web', { API_KEY: 'old' })
    const delivery = createKubernetesSecretTarget({
      kubeconfig: path,
      secret: 'web',
      key: 'API_KEY',
      confirmIntervalMs: 1,
    })
    expect(delivery.description.location).toBe('namespace team-a, Secret web, key API_KEY')
    await deliver(delivery)
    expect(kube.control.secret('team-a', 'web')).toEqual({ API_KEY: NEW_SECRET })
  })

  it('refuses a kubeconfig it cannot use without quoting it, and bad settings, before anything is sent', () => {
    const plugin = join(dir, 'plugin')
    writeFileSync(
      plugin,
      'current-context: c\nclusters: [{name: k, cluster: {server: "https://k"}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n',
    )
    const broken = join(dir, 'broken')
    writeFileSync(broken, 'users: [ {token: "tok-that-must-not-leak"\n')
    const cases: Array<[Partial<KubernetesSecretTargetSettings>, string, RegExp]> = [
      [{ auth: 'kubeconfig', kubeconfig: plugin, baseUrl: undefined }, 'kubeconfig', /plugin/],
      [{ auth: 'kubeconfig', kubeconfig: broken }, 'kubeconfig', /not valid YAML/],
      [{ auth: 'kubeconfig', kubeconfig: join(dir, 'missing') }, 'kubeconfig', /cannot read/],
      [{ secret: 'Web' }, 'secret', /Secret's name/],
      [{ key: 'a key' }, 'key', /letters/],
      [{ namespace: 'Apps' }, 'namespace', /namespace/],
      [{ restart: ['ok', 'Not_ok'] }, 'restart.1', /Deployment/],
    ]
    for (const [settings, path, message] of cases) {
      let thrown: unknown
      try {
        target(settings)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toMatchObject({
        name: 'ValidationError',
        issues: [expect.objectContaining({ path })],
      })
      expect((thrown as Error).message).toMatch(message)
      expect(JSON.stringify(thrown)).not.toContain('tok-that-must-not-leak')
    }
    expect(kube.requests).toEqual([])
  })

  describe('over TLS with the cluster CA', () => {
    let server: Server | undefined
    let ca = ''
    beforeEach(async () => {
      // A certificate made for this test only, for 127.0.0.1.
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'ca.crt'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      )
      ca = readFileSync(join(dir, 'ca.crt'), 'utf8')
      const upstream = new URL(kube.url)
      // TLS in front of the emulator: every request passed on as it came.
      server = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: ca },
        (incoming, outgoing) => {
          const forward = httpRequest(
            {
              host: upstream.hostname,
              port: upstream.port,
              method: incoming.method,
              path: incoming.url,
              headers: incoming.headers,
            },
            (answer) => {
              outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
              answer.pipe(outgoing)
            },
          )
          incoming.pipe(forward)
        },
      )
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()))
    })
    afterEach(async () => {
      server?.closeAllConnections()
      await new Promise((resolve) => server?.close(resolve))
    })
    const tlsUrl = () => {
      const address = server?.address()
      return `https://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    }

    it('as the pod service account: token, CA and namespace from its files, server from KUBERNETES_SERVICE_HOST', async () => {
      const account = join(dir, 'serviceaccount')
      execFileSync('mkdir', ['-p', account])
      writeFileSync(join(account, 'token'), `${kube.settings.token}\n`)
      writeFileSync(join(account, 'ca.crt'), ca)
      writeFileSync(join(account, 'namespace'), 'apps')
      kube.control.seedSecret('apps', 'web', { API_KEY: 'old' })
      const saved = { ...process.env }
      process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1'
      process.env.KUBERNETES_SERVICE_PORT = new URL(tlsUrl()).port
      try {
        const delivery = createKubernetesSecretTarget({
          auth: 'in-cluster',
          serviceAccountDir: account,
          secret: 'web',
          key: 'API_KEY',
        })
        await deliver(delivery)
      } finally {
        process.env = saved
      }
      expect(kube.control.secret('apps', 'web')).toEqual({ API_KEY: NEW_SECRET })
    })

    it('refuses a server whose certificate the CA did not sign', async () => {
      expect.assertions(2)
      const error = await createKubernetesSecretTarget({
        baseUrl: tlsUrl(),
        token: kube.settings.token,
        namespace: 'apps',
        secret: 'web',
        key: 'API_KEY',
        retry: false,
      })
        .write(created(), context())
        .catch((caught: KeyStoreError) => caught)
      expect(error).toMatchObject({ name: 'NetworkError' })
      expect(kube.requests).toEqual([])
    })
  })
})
