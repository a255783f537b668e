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
  /**
   * The vendor's own create and update fields, each with its flag and help line, from which
   * the CLI builds its flags, help and completion. The fields every store shares (`name`,
   * `metadata`, `expiresAt`) are not repeated here.
   */
  readonly fields?: readonly KeyField[]
  /**
   * Store settings an operator may give on the command line for one run, beside their env
   * vars (e.g. Voiceable's `credentialKeyId`, the id of the key the store authenticates with).
   */
  readonly settingFlags?: readonly SettingFlag[]
}

/** Where a key field is taken: a create, an update, and a successor's input at a rotation. */
export type KeyFieldOperation = 'create' | 'update' | 'rotate'

/**
 * How a field's flag is read; the CLI holds one parser per kind:
 * - `switch`: a flag without a value (`--read-only`), `true` when given;
 * - `text`: one non-empty value, e.g. an id;
 * - `list`: a value given once per item (`--allowed-ip a --allowed-ip b`);
 * - `choice`: one of `choices`;
 * - `number`: a number of at least `min`;
 * - `date`: a date, as the CLI reads dates.
 * With `none: true`, the value `none` clears the field (sends `null`).
 */
export type KeyFieldKind =
  | { readonly kind: 'switch' }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'list'; readonly value: string }
  | { readonly kind: 'choice'; readonly choices: readonly string[]; readonly none?: boolean }
  | {
      readonly kind: 'number'
      /** The placeholder in help and the unit in errors, e.g. `'usd'`. */
      readonly value: string
      /** The unit, for errors: `'USD'` reads "a number of USD". */
      readonly unit?: string
      readonly min?: number
      readonly none?: boolean
    }
  | { readonly kind: 'date' }

/** One create or update field of a vendor, as the CLI offers it. */
export type KeyField = KeyFieldKind & {
  /** The input field it sets, as in the store's `capabilities.create`/`update`: `'allowedIps'`. */
  readonly field: string
  /** The long flag, without dashes: `'allowed-ip'`. */
  readonly flag: string
  /** What it does, for help (lower case, no vendor prefix): `'an allowed IP or range'`. */
  readonly help: string
  /** Where it is taken. Default: create, update and rotate. */
  readonly operations?: readonly KeyFieldOperation[]
}

/** A store setting given by a flag for one run, e.g. `--credential-key-id`. */
export interface SettingFlag {
  /** The factory's setting: `'credentialKeyId'`. */
  readonly setting: string
  /** The long flag, without dashes: `'credential-key-id'`. */
  readonly flag: string
  /** The placeholder in help: `'id'`. */
  readonly value: string
  /** What it does, for help (lower case, no vendor prefix). */
  readonly help: string
}

/** Whether `field` is taken by `operation` (by default a field is taken everywhere). */
export function fieldTakenBy(field: KeyField, operation: KeyFieldOperation): boolean {
  return field.operations === undefined || field.operations.includes(operation)
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
