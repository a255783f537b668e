import type { BaseStoreSettings } from './http-client.js'
import type { ApiKey, KeyStore } from './types.js'

/**
 * What a tool needs to know about one adapter, written once beside it: how to name it, how to
 * build its store, and which env vars its factory reads. The CLI, its help and hints, and the
 * integration tests are built from the adapters' descriptors.
 */
export interface KeyStoreDescriptor<
  S extends BaseStoreSettings = BaseStoreSettings,
  K extends KeyStore = KeyStore,
> {
  /** The vendor id, as in `ApiKey.provider`: `'openrouter'`. */
  readonly id: string
  /** The vendor's own spelling, for people: `'OpenRouter'`. */
  readonly title: string
  /** The store factory; each setting left out defaults to its env var. */
  create(settings?: S): K
  /**
   * The ways to give the credential, preferred first. Each way maps the settings given
   * together to the env var each defaults to, e.g. `{ managementKey: 'OPENROUTER_MANAGEMENT_KEY' }`.
   */
  readonly credentials: readonly Readonly<Record<string, string>>[]
  /** The env var the `baseUrl` setting defaults to, e.g. `'OPENROUTER_BASE_URL'`. */
  readonly baseUrlEnv: string
  /** Other settings read from env vars (setting → env var), e.g. Voiceable's `credentialKeyId`. */
  readonly otherEnv?: Readonly<Record<string, string>>
  /**
   * What the vendor's secrets look like (the whole value), so a secret pasted where an id or
   * an env var's name belongs is refused without being echoed. Leave out a shape the vendor
   * does not publish.
   */
  readonly secretPatterns?: readonly RegExp[]
  /** The vendor's own key attributes worth a table column (type, limit, allowed IPs…). */
  readonly columns?: readonly KeyColumn[]
}

/** One vendor attribute of a key, as a table shows it. */
export interface KeyColumn {
  /** Upper-case header, e.g. `'LIMIT'`. */
  readonly header: string
  /** The cell text; `'-'` where the key has none. */
  cell(key: ApiKey): string
}

/** Every setting → env var pair a descriptor names: base URL, credentials, others. */
export function descriptorEnv(descriptor: KeyStoreDescriptor): Record<string, string> {
  return Object.assign(
    { baseUrl: descriptor.baseUrlEnv },
    ...descriptor.credentials,
    descriptor.otherEnv ?? {},
  )
}
