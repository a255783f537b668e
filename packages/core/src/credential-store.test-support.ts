// A store built the way an adapter builds one (its credential declared to the HTTP client)
// that must send nothing: for tests of what core knows about a store without a request.
import { defineCapabilities } from './capabilities.js'
import { defineKeyStore } from './define-key-store.js'
import { createHttpClient } from './http-client.js'
import type { KeyStore } from './types.js'

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
