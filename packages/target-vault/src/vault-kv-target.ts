import {
  type BaseStoreSettings,
  ConflictError,
  checkTargetSettings,
  createHttpClient,
  type DeliveryTarget,
  KeyStoreError,
  NotFoundError,
  PermissionError,
  ProviderError,
  type RequestOptions,
  resolveCredential,
  settingOrEnv,
} from '@keyway/core/adapter'
import * as v from 'valibot'
import {
  capabilitiesSchema,
  kvMetadataSchema,
  kvReadSchema,
  kvWriteSchema,
  readVaultError,
} from './vault-schemas.js'

/** Settings of `createVaultKvTarget`. */
export interface VaultKvTargetSettings extends Omit<BaseStoreSettings, 'reconcile' | 'scheduler'> {
  /** The Vault (or OpenBao) address, e.g. `https://vault.example.internal:8200`. Default: `VAULT_ADDR`. */
  baseUrl?: string
  /** A Vault token. Default: the `VAULT_TOKEN` env var. */
  token?: string
  /** The namespace (Vault Enterprise, HCP Vault, OpenBao), sent as `X-Vault-Namespace`. Default: `VAULT_NAMESPACE`, where set. */
  namespace?: string
  /** Where the KV v2 engine is mounted. Default `secret`. */
  mount?: string
  /** The secret's path below the mount, e.g. `web/prod`. */
  path: string
  /** The one field of that secret keyway owns; the other fields are carried over unchanged. */
  key: string
  /** The target's name in journals and reports. Default `vault:<mount>/<path>#<key>`. */
  name?: string
  /** How long confirm may take, in ms. Default 60 s. */
  confirmWithinMs?: number
}

const SEGMENTS = /^[A-Za-z0-9_.@+=-]+(?:\/[A-Za-z0-9_.@+=-]+)*$/
const settingsSchema = v.object({
  baseUrl: v.pipe(
    v.string('an address; or set VAULT_ADDR'),
    v.url('an address such as https://vault:8200'),
  ),
  namespace: v.optional(
    v.pipe(v.string(), v.regex(SEGMENTS, 'a namespace path such as admin/team')),
  ),
  mount: v.pipe(v.string(), v.regex(SEGMENTS, 'a mount path such as secret')),
  path: v.pipe(v.string(), v.regex(SEGMENTS, 'a path such as web/prod, without a leading /')),
  key: v.pipe(v.string(), v.minLength(1, 'a field name'), v.maxLength(512)),
  confirmWithinMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
})

/** Rounds of read-then-write when another writer keeps changing the secret between them. */
const CAS_ROUNDS = 3

/**
 * A delivery target that keeps a rotated key in one field of a Vault or OpenBao KV v2
 * secret. write: reads the current version, then writes the fields with the one field
 * replaced and `options.cas` set to that version, so a concurrent change is never
 * overwritten (a stale check-and-set reads again, up to three rounds); a field that already
 * holds the new key (a resumed rotation, a resend after a lost answer) is not written again.
 * propagate: nothing (readers fetch the secret). confirm: reads that version back and
 * compares the field. Every setting is checked here, before anything is sent.
 */
export function createVaultKvTarget(settings: VaultKvTargetSettings): DeliveryTarget {
  const {
    token: _token,
    baseUrl: _baseUrl,
    namespace: _namespace,
    mount,
    path,
    key,
    name,
    confirmWithinMs,
    ...httpSettings
  } = settings
  const {
    baseUrl,
    namespace,
    mount: engine,
  } = checkTargetSettings('vault', settingsSchema, {
    ...settings,
    baseUrl: settingOrEnv('vault', settings, 'baseUrl', 'VAULT_ADDR'),
    namespace: settingOrEnv('vault', settings, 'namespace', 'VAULT_NAMESPACE') || undefined,
    mount: mount ?? 'secret',
  })
  const token = resolveCredential({
    provider: 'vault',
    settings,
    setting: 'token',
    envVar: 'VAULT_TOKEN',
  })
  const client = createHttpClient({
    ...httpSettings,
    provider: 'vault',
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: {
      'x-vault-token': token,
      'x-vault-request': 'true',
      ...(namespace === undefined ? {} : { 'x-vault-namespace': namespace }),
    },
    secrets: [token],
    errorBody: readVaultError,
  })
  const encoded = path.split('/').map(encodeURIComponent).join('/')
  const dataPath = `/v1/${engine}/data/${encoded}`
  const where = `${engine}/${path}`

  /** The latest version and its fields; version 0 and no fields where there is none. */
  const readLatest = async (
    options: RequestOptions,
  ): Promise<{ version: number; fields: Record<string, unknown> }> => {
    try {
      const { data } = await client.request({
        operation: 'read',
        method: 'GET',
        path: dataPath,
        schema: kvReadSchema,
        signal: options.signal,
      })
      return { version: data.data.metadata.version, fields: data.data.data ?? {} }
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error
    }
    // No secret, or its latest version deleted: the metadata says which version to follow.
    try {
      const { data } = await client.request({
        operation: 'read',
        method: 'GET',
        path: `/v1/${engine}/metadata/${encoded}`,
        schema: kvMetadataSchema,
        signal: options.signal,
      })
      return { version: data.data.current_version, fields: {} }
    } catch (error) {
      if (error instanceof NotFoundError) return { version: 0, fields: {} }
      throw error
    }
  }

  return {
    name: name ?? `vault:${where}#${key}`,
    description: {
      kind: 'vault-kv',
      location: `${namespace === undefined ? '' : `namespace ${namespace}, `}KV v2 secret ${where}, field ${key}`,
      propagate: 'nothing: readers fetch the secret (agents and operators on their next sync)',
      confirm: 'reads the written version back and compares the field',
      cannotConfirm: null,
    },
    confirmWithinMs: confirmWithinMs ?? 60_000,
    async write(created, context) {
      const value = created.secret.reveal()
      for (let round = 1; ; round++) {
        const { version, fields } = await readLatest(context)
        if (fields[key] === value) return { version }
        const others = Object.values(fields).filter(
          (field): field is string => typeof field === 'string',
        )
        try {
          const { data } = await client.request({
            operation: 'write',
            // The check-and-set makes a resend harmless: it fails once the first landed.
            retryAs: 'update',
            method: 'POST',
            path: dataPath,
            json: { data: { ...fields, [key]: value }, options: { cas: version } },
            secrets: [value, ...others],
            schema: kvWriteSchema,
            signal: context.signal,
          })
          return { version: data.data.version }
        } catch (error) {
          if (!staleCheckAndSet(error)) throw error
          if (round === CAS_ROUNDS) {
            throw new ConflictError({
              provider: 'vault',
              operation: 'write',
              message: `vault write: ${where} kept changing between read and write (check-and-set failed ${CAS_ROUNDS} times)`,
            })
          }
        }
      }
    },
    async confirm(context) {
      const version = context.receipt.version
      if (typeof version !== 'number') {
        throw new ProviderError({
          provider: 'vault',
          operation: 'confirm',
          message: 'vault confirm: no version was journalled for the write',
        })
      }
      const { data } = await client.request({
        operation: 'confirm',
        method: 'GET',
        path: dataPath,
        query: { version },
        schema: kvReadSchema,
        signal: context.signal,
      })
      if (data.data.data?.[key] !== context.created.secret.reveal()) {
        throw new ProviderError({
          provider: 'vault',
          operation: 'confirm',
          message: `vault confirm: version ${version} of ${where} does not hold the new key in ${key}`,
        })
      }
    },
    async probe(options = {}) {
      // Asks which capabilities the token has on the path; nothing is written.
      const asked = `${engine}/data/${path}`
      const { data } = await client.request({
        operation: 'probe',
        method: 'POST',
        retryAs: 'read',
        path: '/v1/sys/capabilities-self',
        json: { paths: [asked] },
        schema: capabilitiesSchema,
        signal: options.signal,
      })
      const held = new Set([
        ...(data.capabilities ?? []),
        ...(Array.isArray((data as Record<string, unknown>)[asked])
          ? ((data as Record<string, unknown>)[asked] as string[])
          : []),
      ])
      const missing = held.has('root')
        ? []
        : ['read', 'update'].filter((capability) => !held.has(capability))
      if (missing.length > 0) {
        throw new PermissionError({
          provider: 'vault',
          operation: 'probe',
          message: `vault probe: the token lacks ${missing.join(' and ')} on ${asked}`,
        })
      }
    },
  }
}

/** Vault's answer to a write whose `cas` is not the current version. */
function staleCheckAndSet(error: unknown): boolean {
  return (
    KeyStoreError.is(error) &&
    error.status === 400 &&
    /check-and-set parameter did not match/i.test(error.message)
  )
}
