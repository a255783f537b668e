import sodium from 'libsodium-wrappers'
import { isPlainObject, matchPath, randomAlphanumeric } from './emulator-helpers.js'
import { type EmulatedRequest, type EmulatedResponse, INVALID_JSON } from './http-server.js'
import { serveTarget, type TargetEmulator, type TargetEmulatorOptions } from './target-emulator.js'

/** Where a GitHub Actions secret lives, as the target's settings name it. */
export type GitHubScope = { repository: string; environment?: string } | { organization: string }

/** A stored secret as GitHub holds it: the value opened from its sealed box. */
export interface GitHubStoredSecret {
  value: string
  createdAt: string
  updatedAt: string
  visibility?: string
  selectedRepositoryIds?: number[]
}

/** Controls of the GitHub emulator. */
export interface GitHubEmulatorControl {
  /** The secret `name` of `scope`, opened, or `undefined`. */
  secret(scope: GitHubScope, name: string): GitHubStoredSecret | undefined
  /** Every secret name of `scope`. */
  names(scope: GitHubScope): string[]
  /** Stores a secret as if set in GitHub's settings page. */
  seedSecret(scope: GitHubScope, name: string, value: string): void
  /** Opens a sealed box (base64) made for this emulator's public key, as GitHub does. */
  open(sealedBase64: string): string
  /** The public key (base64) and its id, as `GET …/secrets/public-key` gives them. */
  readonly publicKey: { key_id: string; key: string }
  /** Moves the clock `updated_at` is read from (whole seconds, as GitHub reports). */
  advanceClock(ms: number): void
}

const DOCS = 'https://docs.github.com/rest/actions/secrets'
const SECRET_NAME = /^(?!GITHUB_)[A-Za-z_][A-Za-z0-9_]*$/i

/**
 * Starts a loopback server that plays GitHub's Actions secrets API (repository, environment
 * and organization secrets): a libsodium key pair per emulator, sealed values opened and
 * checked as GitHub does, `updated_at` in whole seconds, 201 on create and 204 on update,
 * GitHub's error bodies. `@octokit/rest` accepts it (`baseUrl` pointed at it).
 */
export async function startGitHubEmulator(
  options: TargetEmulatorOptions = {},
): Promise<TargetEmulator<GitHubEmulatorControl>> {
  await sodium.ready
  return serveTarget('github', () => createGitHubEmulator(), options)
}

function createGitHubEmulator() {
  const keyPair = sodium.crypto_box_keypair()
  const publicKey = {
    key_id: String(Math.floor(Date.now() / 1000)) + randomAlphanumeric(4),
    key: sodium.to_base64(keyPair.publicKey, sodium.base64_variants.ORIGINAL),
  }
  const token = `ghp_${randomAlphanumeric(36)}`
  const stores = new Map<string, Map<string, GitHubStoredSecret>>()
  let offsetMs = 0
  const now = () =>
    `${new Date(Math.floor((Date.now() + offsetMs) / 1000) * 1000).toISOString().slice(0, 19)}Z`
  const storeOf = (base: string) => {
    let store = stores.get(base)
    if (store === undefined) {
      store = new Map()
      stores.set(base, store)
    }
    return store
  }
  const open = (sealedBase64: string): string | undefined => {
    try {
      const sealed = sodium.from_base64(sealedBase64, sodium.base64_variants.ORIGINAL)
      const opened = sodium.crypto_box_seal_open(sealed, keyPair.publicKey, keyPair.privateKey)
      return sodium.to_string(opened)
    } catch {
      return undefined
    }
  }
  const error = (status: number, message: string): EmulatedResponse => ({
    status,
    body: { message, documentation_url: DOCS, status: String(status) },
  })

  const handle = (request: EmulatedRequest): EmulatedResponse => {
    const auth = /^(?:Bearer|token) (.+)$/i.exec(request.headers.authorization ?? '')?.[1]
    if (auth !== token) return error(401, 'Bad credentials')
    const route = routeOf(request.path)
    if (route === undefined) return error(404, 'Not Found')
    const store = storeOf(route.base)
    if (route.name === undefined) {
      if (request.method === 'GET') {
        const secrets = [...store.entries()].map(([name, secret]) => view(name, secret, route.org))
        return { status: 200, body: { total_count: secrets.length, secrets } }
      }
      return error(404, 'Not Found')
    }
    if (route.name === 'public-key') {
      if (request.method !== 'GET') return error(404, 'Not Found')
      return { status: 200, body: { ...publicKey } }
    }
    const name = route.name.toUpperCase()
    const existing = store.get(name)
    if (request.method === 'GET') {
      return existing === undefined
        ? error(404, 'Not Found')
        : { status: 200, body: view(name, existing, route.org) }
    }
    if (request.method === 'DELETE') {
      if (existing === undefined) return error(404, 'Not Found')
      store.delete(name)
      return { status: 204 }
    }
    if (request.method !== 'PUT') return error(404, 'Not Found')
    if (!SECRET_NAME.test(name)) {
      return error(
        422,
        'Secret names can only contain alphanumeric characters or underscores and must not start with a number or GITHUB_',
      )
    }
    const body = request.body
    if (body === INVALID_JSON || !isPlainObject(body)) return error(400, 'Problems parsing JSON')
    if (typeof body.encrypted_value !== 'string' || typeof body.key_id !== 'string') {
      return error(422, 'Invalid request.\n\n"encrypted_value" and "key_id" are required.')
    }
    if (body.key_id !== publicKey.key_id) return error(422, 'Bad key_id')
    const value = open(body.encrypted_value)
    if (value === undefined) return error(422, 'Bad encrypted_value: not a sealed box for this key')
    const org: Pick<GitHubStoredSecret, 'visibility' | 'selectedRepositoryIds'> = {}
    if (route.org) {
      const visibility = body.visibility
      if (visibility !== 'all' && visibility !== 'private' && visibility !== 'selected') {
        return error(422, 'Invalid request.\n\n"visibility" is required: all, private or selected.')
      }
      const ids = body.selected_repository_ids
      if (visibility === 'selected' && !(Array.isArray(ids) && ids.every(Number.isInteger))) {
        return error(
          422,
          'Invalid request.\n\n"selected_repository_ids" is required with visibility selected.',
        )
      }
      org.visibility = visibility
      if (visibility === 'selected') org.selectedRepositoryIds = [...(ids as number[])]
    }
    const at = now()
    store.set(name, { value, createdAt: existing?.createdAt ?? at, updatedAt: at, ...org })
    return existing === undefined ? { status: 201, body: {} } : { status: 204 }
  }

  const baseOf = (scope: GitHubScope) => {
    if ('organization' in scope) return `/orgs/${scope.organization}/actions`
    return scope.environment === undefined
      ? `/repos/${scope.repository}/actions`
      : `/repos/${scope.repository}/environments/${scope.environment}`
  }
  const control: GitHubEmulatorControl = {
    secret: (scope, name) => {
      const found = storeOf(baseOf(scope)).get(name.toUpperCase())
      return found === undefined ? undefined : { ...found }
    },
    names: (scope) => [...storeOf(baseOf(scope)).keys()],
    seedSecret: (scope, name, value) => {
      const at = now()
      storeOf(baseOf(scope)).set(name.toUpperCase(), {
        value,
        createdAt: at,
        updatedAt: at,
        ...('organization' in scope ? { visibility: 'private' } : {}),
      })
    },
    open: (sealed) => {
      const value = open(sealed)
      if (value === undefined) throw new Error('not a sealed box for this emulator')
      return value
    },
    publicKey: { ...publicKey },
    advanceClock: (ms) => {
      offsetMs += ms
    },
  }
  return {
    token,
    control,
    handler: {
      handle,
      errorResponse: error,
      contentType: 'application/json; charset=utf-8',
    },
  }
}

function view(name: string, secret: GitHubStoredSecret, org: boolean) {
  return {
    name,
    created_at: secret.createdAt,
    updated_at: secret.updatedAt,
    ...(org ? { visibility: secret.visibility ?? 'private' } : {}),
  }
}

/** The secrets collection a path names, and the secret (or `public-key`) in it. */
function routeOf(
  path: string,
): { base: string; name: string | undefined; org: boolean } | undefined {
  const patterns: Array<[string, (params: Record<string, string>) => string, boolean]> = [
    ['/repos/:owner/:repo/actions/secrets', (p) => `/repos/${p.owner}/${p.repo}/actions`, false],
    [
      '/repos/:owner/:repo/environments/:env/secrets',
      (p) => `/repos/${p.owner}/${p.repo}/environments/${p.env}`,
      false,
    ],
    ['/orgs/:org/actions/secrets', (p) => `/orgs/${p.org}/actions`, true],
  ]
  for (const [pattern, base, org] of patterns) {
    const collection = matchPath(pattern, path)
    if (collection !== undefined) return { base: base(collection), name: undefined, org }
    const item = matchPath(`${pattern}/:name`, path)
    if (item !== undefined) return { base: base(item), name: item.name, org }
  }
  return undefined
}
