import { randomUUID } from 'node:crypto'
import { isPlainObject, randomAlphanumeric } from './emulator-helpers.js'
import { type EmulatedRequest, type EmulatedResponse, INVALID_JSON } from './http-server.js'
import { serveTarget, type TargetEmulator, type TargetEmulatorOptions } from './target-emulator.js'

/** One version of a KV v2 secret as the emulator holds it. */
export interface VaultKvVersion {
  version: number
  data: Record<string, unknown>
  createdTime: string
  deleted: boolean
}

/** Controls of the Vault emulator. */
export interface VaultEmulatorControl {
  /** The fields of the latest version of `path` (below the mount), or `undefined`. */
  read(
    path: string,
    options?: { mount?: string; namespace?: string },
  ): Record<string, unknown> | undefined
  /** Every version of `path`, oldest first. */
  versions(path: string, options?: { mount?: string; namespace?: string }): VaultKvVersion[]
  /** Writes a version as another client would; returns its number. */
  seed(
    path: string,
    data: Record<string, unknown>,
    options?: { mount?: string; namespace?: string },
  ): number
  /**
   * Before the next write to `path` is handled, another client writes `data` there: the
   * write's check-and-set is then stale.
   */
  writeBeforeNextWrite(
    path: string,
    data: Record<string, unknown>,
    options?: { mount?: string; namespace?: string },
  ): void
  /** What `capabilities-self` answers for every path (default `['create', 'read', 'update', 'delete', 'list']`). */
  setCapabilities(capabilities: string[]): void
  /** How many writes made a version. */
  readonly writes: number
}

const CAS_MISMATCH = 'check-and-set parameter did not match the current version'

/**
 * Starts a loopback server that plays Vault's (and OpenBao's) KV v2 engine at the mount
 * `secret` as a delivery target uses it: `POST`/`PUT /v1/{mount}/data/{path}` with `options.cas`
 * (a stale one is 400 "check-and-set parameter did not match the current version"), `GET`
 * of the latest or a given version, `GET /v1/{mount}/metadata/{path}`, `POST
 * /v1/sys/capabilities-self`; `X-Vault-Token` auth (403 "permission denied") and
 * `X-Vault-Namespace` keeping namespaces apart. `node-vault` accepts it (`endpoint`).
 */
export async function startVaultEmulator(
  options: TargetEmulatorOptions = {},
): Promise<TargetEmulator<VaultEmulatorControl>> {
  return serveTarget('vault', () => createVaultEmulator(), options)
}

function createVaultEmulator() {
  const token = `hvs.${randomAlphanumeric(24)}`
  const secrets = new Map<string, VaultKvVersion[]>()
  const pending = new Map<string, Record<string, unknown>>()
  let capabilities = ['create', 'read', 'update', 'delete', 'list']
  let writes = 0
  const keyOf = (namespace: string, mount: string, path: string) => `${namespace}|${mount}|${path}`
  const versionsOf = (key: string) => {
    let found = secrets.get(key)
    if (found === undefined) {
      found = []
      secrets.set(key, found)
    }
    return found
  }
  const add = (key: string, data: Record<string, unknown>) => {
    const versions = versionsOf(key)
    const version = {
      version: versions.length + 1,
      data: structuredClone(data),
      createdTime: new Date().toISOString(),
      deleted: false,
    }
    versions.push(version)
    return version
  }
  const error = (status: number, errors: string[]): EmulatedResponse => ({
    status,
    body: { errors },
  })
  const envelope = (data: unknown): EmulatedResponse => ({
    status: 200,
    body: {
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data,
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: 'kv',
    },
  })
  const metadataOf = (version: VaultKvVersion) => ({
    created_time: version.createdTime,
    custom_metadata: null,
    deletion_time: version.deleted ? version.createdTime : '',
    destroyed: false,
    version: version.version,
  })

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    if (request.headers['x-vault-token'] !== token) return error(403, ['permission denied'])
    const namespace = (request.headers['x-vault-namespace'] ?? '').replace(/^\/+|\/+$/g, '')
    if (request.path === '/v1/sys/capabilities-self' && ['POST', 'PUT'].includes(request.method)) {
      const body = isPlainObject(request.body) ? request.body : {}
      const paths = Array.isArray(body.paths)
        ? body.paths
        : typeof body.path === 'string'
          ? [body.path]
          : []
      const answer = {
        capabilities: [...capabilities],
        ...Object.fromEntries(paths.map((path) => [String(path), [...capabilities]])),
      }
      // Vault gives the answer both at the top level and under `data`.
      const response = envelope(answer)
      return { ...response, body: { ...answer, ...(response.body as object) } }
    }
    const match = /^\/v1\/([^/]+)\/(data|metadata)\/(.+)$/.exec(request.path)
    if (match === null || match[1] !== 'secret') {
      return error(404, [`no handler for route "${request.path.slice(4)}". route entry not found.`])
    }
    const [, mount, kind, rawPath] = match as unknown as [string, string, string, string]
    const path = decodeURIComponent(rawPath)
    const key = keyOf(namespace, mount, path)
    const versions = secrets.get(key) ?? []
    if (kind === 'metadata') {
      if (request.method !== 'GET' || versions.length === 0) return error(404, [])
      const current = versions.at(-1) as VaultKvVersion
      return envelope({
        cas_required: false,
        created_time: versions[0]?.createdTime,
        current_version: current.version,
        custom_metadata: null,
        delete_version_after: '0s',
        max_versions: 0,
        oldest_version: 1,
        updated_time: current.createdTime,
        versions: Object.fromEntries(
          versions.map((version) => [String(version.version), metadataOf(version)]),
        ),
      })
    }
    if (request.method === 'GET') {
      const asked = request.query.get('version')
      const number = asked === null || asked === '0' ? versions.length : Number(asked)
      const version = versions[number - 1]
      if (version === undefined || version.deleted) {
        return version === undefined
          ? error(404, [])
          : { status: 404, body: { data: { data: null, metadata: metadataOf(version) } } }
      }
      return envelope({ data: structuredClone(version.data), metadata: metadataOf(version) })
    }
    if (request.method === 'DELETE') {
      const latest = versions.at(-1)
      if (latest !== undefined) latest.deleted = true
      return { status: 204 }
    }
    if (request.method !== 'POST' && request.method !== 'PUT')
      return error(405, ['unsupported operation'])
    const body = request.body
    if (body === INVALID_JSON || !isPlainObject(body)) return error(400, ['error parsing JSON'])
    if (!isPlainObject(body.data)) return error(400, ['no data provided'])
    const interleaved = pending.get(key)
    if (interleaved !== undefined) {
      pending.delete(key)
      add(key, interleaved)
    }
    const options = isPlainObject(body.options) ? body.options : {}
    const current = secrets.get(key)?.length ?? 0
    if (options.cas !== undefined && options.cas !== current) return error(400, [CAS_MISMATCH])
    const version = add(key, body.data)
    writes++
    return envelope(metadataOf(version))
  }

  const at = (path: string, options: { mount?: string; namespace?: string } = {}) =>
    keyOf(options.namespace ?? '', options.mount ?? 'secret', path)
  const control: VaultEmulatorControl = {
    read: (path, options) => {
      const latest = secrets.get(at(path, options))?.at(-1)
      return latest === undefined || latest.deleted ? undefined : structuredClone(latest.data)
    },
    versions: (path, options) => structuredClone(secrets.get(at(path, options)) ?? []),
    seed: (path, data, options) => add(at(path, options), data).version,
    writeBeforeNextWrite: (path, data, options) => {
      pending.set(at(path, options), structuredClone(data))
    },
    setCapabilities: (next) => {
      capabilities = [...next]
    },
    get writes() {
      return writes
    },
  }
  return {
    token,
    control,
    handler: {
      handle,
      errorResponse: (status: number, message: string) => error(status, [message]),
      credentialHeaders: ['x-vault-token'],
    },
  }
}
