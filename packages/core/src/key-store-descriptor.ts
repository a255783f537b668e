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
  /**
   * How a leaked secret, a hint of it or a hash prefix finds its key at this vendor (see
   * `findLeakedKeys`). Left out, the vendor's keys are matched by nothing, and a leak search
   * says so.
   */
  readonly leak?: LeakRules
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

/**
 * A choice fixed when a key is made (its type, its account's role): taken by a create and
 * carried to a successor at a rotation, never changed by an update.
 */
export function choiceFixedAtCreate(
  field: string,
  flag: string,
  choices: readonly string[],
  help: string,
): KeyField {
  return { field, flag, kind: 'choice', choices, help, operations: ['create', 'rotate'] }
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

/**
 * What a vendor shows of its keys' secrets, and how a leaked secret names its key there. The
 * leak matcher reads only these rules (and `secretPatterns` for a whole secret's shape).
 */
export interface LeakRules {
  /**
   * The fixed start of every secret of the vendor (`'sk-or-v1-'`; NoteDx `'sb-'` and `'lk-'`);
   * `[]` where there is none. With `alphabet`, says whether a hint can belong to the vendor.
   */
  readonly prefixes: readonly string[]
  /** The characters of a secret after its prefix, e.g. `/^[0-9a-f]*$/` for hex. */
  readonly alphabet: RegExp
  /**
   * The start and end of a key's secret that the vendor shows (its hint field: OpenRouter's
   * `label`, Latitude.sh's last five characters, Anthropic's `partial_key_hint`, OpenAI's
   * `redacted_value`), or `undefined` where this key shows nothing.
   */
  shown(key: ApiKey): { start?: string; end?: string } | undefined
  /**
   * The key id a secret names, where the vendor's id derives from the secret (NoteDx: the key is
   * its own id, kept as a digest). Computed here: the secret is never sent to find it.
   */
  keyIdOf?(secret: string): string
  /**
   * Where a key id holds the SHA-256 (hex) of the secret: after `prefix`, its first `length`
   * hex digits. A `sha256:<hex>` hint matches those ids.
   */
  readonly sha256InId?: { readonly prefix: string; readonly length: number }
  /**
   * How sure the id derivation is, in words, where the vendor does not document it (shown
   * with a match found by it).
   */
  readonly keyIdNote?: string
}

/**
 * The start and end of a secret a hint shows: `sk-or-v1-abc...123` or `…ca3b` (`…` or
 * `...` between them); `undefined` for no hint. For `LeakRules.shown`.
 */
export function hintParts(hint: string | null): { start?: string; end?: string } | undefined {
  if (hint === null || hint === '') return undefined
  const parts = hint.split(/…|\.\.\./)
  if (parts.length !== 2) return undefined
  const [start = '', end = ''] = parts
  return { ...(start === '' ? {} : { start }), ...(end === '' ? {} : { end }) }
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
