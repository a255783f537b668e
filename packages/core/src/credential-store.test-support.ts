// A store built the way an adapter builds one (its credential declared to the HTTP client)
// that must send nothing: for tests of what core knows about a store without a request.
import { defineCapabilities } from './capabilities.js'
import { defineKeyStore } from './define-key-store.js'
import { createHttpClient } from './http-client.js'
import type { ApiKey, KeyStore } from './types.js'

const capabilities = defineCapabilities({
  get: 'scan',
  pagination: 'none',
  names: true,
  metadata: false,
  disable: false,
  expiry: false,
  spendLimit: false,
  regenerate: false,
  verify: false,
  revealAfterCreate: true,
  deleted: 'gone',
  create: ['name'],
  update: ['name'],
})

/** What `credentialStore` builds; `credential` absent means none declared. */
export interface CredentialStoreOptions {
  credential?: string | readonly string[] | undefined
  baseUrl?: string
  account?: string
  /** Called instead of any request; it throws. */
  onRequest?: () => void
}

/** A store whose every request fails the test (after `onRequest`). */
export function credentialStore(options: CredentialStoreOptions): KeyStore {
  const unused = (): never => {
    options.onRequest?.()
    throw new Error('no request expected')
  }
  const { credential } = options
  const client = createHttpClient({
    provider: 'vendor',
    baseUrl: options.baseUrl ?? 'http://127.0.0.1:9/api/',
    headers: { authorization: `Bearer ${String(credential)}` },
    secrets: typeof credential === 'string' ? [credential] : [...(credential ?? [])],
    credential,
    account: options.account,
    fetch: async () => unused(),
  })
  return defineKeyStore({
    provider: 'vendor',
    capabilities,
    client,
    iterate: unused,
    create: unused,
    update: unused,
    delete: unused,
  })
}

/** What `listingStore` builds. */
export interface ListingStoreOptions {
  /** The secrets the store knows (its credential), redacted from its errors. */
  secrets: readonly string[]
  /** A secret the store minted, as an adapter's create registers it. */
  minted?: string
  /** What every listing yields. */
  keys: readonly ApiKey[]
  /** The ids the store says may be its own credential. */
  ownKeyIds: readonly string[]
  /** Told of each listing. */
  onList?: () => void
}

/**
 * A store over a fixed listing that sends nothing and writes nothing: its `get` is a scan, so
 * a test sees each listing a rotation makes.
 */
export function listingStore(options: ListingStoreOptions): KeyStore {
  const client = createHttpClient({
    provider: 'vendor',
    baseUrl: 'http://127.0.0.1:9',
    secrets: [...options.secrets],
  })
  if (options.minted !== undefined) client.secret(options.minted)
  const unused = (): never => {
    throw new Error('no write expected')
  }
  return defineKeyStore({
    provider: 'vendor',
    client,
    capabilities: defineCapabilities({ ...capabilities, revealAfterCreate: false }),
    async *iterate() {
      options.onList?.()
      yield* options.keys
    },
    credentialKeyIds: async () => [...options.ownKeyIds],
    create: unused,
    update: unused,
    delete: unused,
  })
}
