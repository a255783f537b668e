import { randomBytes } from 'node:crypto'
import type * as v from 'valibot'
import { assertCapability, assertFields } from './capabilities.js'
import { createWithReconcile } from './create-with-reconcile.js'
import { NotFoundError, ValidationError } from './errors.js'
import type { HttpClient } from './http-client.js'
import { collect } from './paginate.js'
import { Secret } from './secret.js'
import { defaultSuccessorPlan } from './successor-plan.js'
import type {
  ApiKey,
  Capabilities,
  CreatedKey,
  CreateKeyInput,
  KeyStore,
  ListOptions,
  RequestOptions,
  SuccessorPlan,
  UpdateKeyInput,
} from './types.js'
import {
  baseCreateInputSchema,
  baseUpdateInputSchema,
  encodeId,
  validateInput,
} from './validate.js'

/**
 * The vendor mapping an adapter supplies. Everything else a store does (input and id
 * checks, capability checks, safe create, redaction of minted secrets, scans) is shared.
 * Ids reach these functions already validated and URL-encoded as `encodedId`.
 */
export interface KeyStoreDefinition<C extends CreateKeyInput, U extends UpdateKeyInput> {
  provider: string
  capabilities: Capabilities
  client: HttpClient
  /** The vendor's id format, checked before any request. */
  idPattern?: RegExp
  /** Extra checks on create input (vendor fields, vendor limits), after the base checks. */
  createSchema?: v.GenericSchema
  /** Extra checks on update input, after the base checks. */
  updateSchema?: v.GenericSchema
  /** Keys page by page. */
  iterate(options: ListOptions & { includeDisabled: boolean }): AsyncIterable<ApiKey>
  /** A single key, where the vendor has a GET for one (`capabilities.get === 'native'`). */
  get?(encodedId: string, id: string, options: RequestOptions): Promise<ApiKey>
  /** Sends one create request. The input has passed every check. */
  create(input: C, options: RequestOptions): Promise<CreatedKey>
  /**
   * Whether a key listed after an ambiguous create could be the one `input` asked for.
   * Default: same name.
   */
  matchesCreated?(key: ApiKey, input: C): boolean
  /** Where the vendor shows secrets again: turns a found orphan into the caller's key. */
  recoverCreated?(key: ApiKey, options: RequestOptions): Promise<CreatedKey | undefined>
  /** Sends one update. The patch has passed every check. */
  update(encodedId: string, patch: U, options: RequestOptions & { id: string }): Promise<ApiKey>
  /** Sends one delete. */
  delete(encodedId: string, options: RequestOptions & { id: string }): Promise<void>
  /** Replaces a key's secret in place, where the vendor can. */
  regenerate?(encodedId: string, options: RequestOptions & { id: string }): Promise<CreatedKey>
  /** Checks a secret at the vendor, where it has a call for that. */
  verify?(secret: Secret, options: RequestOptions): Promise<boolean>
  /**
   * See `KeyStore.successorInput`: every attribute a client can set at the vendor, read from
   * `key` (already checked to be this vendor's). Default: `defaultSuccessorPlan`.
   */
  successorInput?(key: ApiKey, options: RequestOptions): Promise<SuccessorPlan<C>>
  /** See `KeyStore.credentialKeyIds`; leave it out where the store cannot tell. */
  credentialKeyIds?(options: RequestOptions): Promise<string[]>
  /** See `KeyStore.useCredential`; leave it out where the credential is not a key. */
  useCredential?(secret: Secret): void
  /** See `KeyStore.reveal`; only where the vendor shows secrets again. */
  reveal?(encodedId: string, options: RequestOptions & { id: string }): Promise<Secret>
}

/**
 * Builds a `KeyStore` from a vendor mapping. Bad input and unsupported operations or
 * fields throw before any request; a create never leaves an unknown key behind.
 */
export function defineKeyStore<C extends CreateKeyInput, U extends UpdateKeyInput>(
  definition: KeyStoreDefinition<C, U>,
): KeyStore<C, U> {
  const { provider, capabilities, client } = definition
  const context = (operation: string) => ({ provider, operation })
  const checkId = (id: string, operation: string) =>
    encodeId(id, context(operation), definition.idPattern)
  const checkOwnKey = (key: unknown, operation: string) => {
    const record = key as Partial<ApiKey> | null
    if (typeof record !== 'object' || record === null || record.provider !== provider) {
      throw new ValidationError({
        ...context(operation),
        message: `${provider} ${operation}: expected a key listed by this ${provider} store`,
        issues: [{ path: 'key', message: `expected an ApiKey of provider ${provider}` }],
      })
    }
    encodeId(record.id, context(operation), definition.idPattern)
  }
  const remember = (created: CreatedKey): CreatedKey => {
    client.redactor.add(created.secret.reveal())
    return created
  }

  const iterate = (options: ListOptions = {}) =>
    definition.iterate({ ...options, includeDisabled: options.includeDisabled ?? true })

  const store: KeyStore<C, U> = {
    provider,
    capabilities,

    iterate,

    list: (options) => collect(iterate(options)),

    async get(id, options = {}) {
      const encodedId = checkId(id, 'get')
      if (definition.get !== undefined) return definition.get(encodedId, id, options)
      for await (const key of iterate({ ...options, includeDisabled: true })) {
        if (key.id === id) return key
      }
      throw new NotFoundError({
        ...context('get'),
        status: 404,
        message: `${provider} get failed: no key with id ${id}`,
      })
    },

    async create(input, options = {}) {
      const checked = checkInput(
        input,
        baseCreateInputSchema,
        definition.createSchema,
        context('create'),
      ) as C
      assertFields(checked, capabilities.create, context('create'))
      const matches =
        definition.matchesCreated ?? ((key: ApiKey, sent: C) => key.name === (sent.name ?? null))
      const { signal } = options
      const recover = definition.recoverCreated
      return remember(
        await createWithReconcile({
          provider,
          signal,
          list: (listSignal) => collect(iterate({ signal: listSignal })),
          send: (sendSignal) => definition.create(checked, { signal: sendSignal }),
          matches: (key) => matches(key, checked),
          remove: (id, removeSignal) =>
            definition.delete(checkId(id, 'delete'), {
              id,
              signal: removeSignal,
            }),
          ...(recover === undefined
            ? {}
            : {
                recover: (key, recoverSignal) => recover(key, { signal: recoverSignal }),
              }),
        }),
      )
    },

    async update(id, patch, options = {}) {
      const encodedId = checkId(id, 'update')
      const checked = checkInput(
        patch,
        baseUpdateInputSchema,
        definition.updateSchema,
        context('update'),
      ) as U
      assertFields(checked, capabilities.update, context('update'))
      if (Object.values(checked).every((value) => value === undefined)) {
        throw new ValidationError({
          ...context('update'),
          message: `${provider} update: nothing to update`,
          issues: [{ path: '', message: 'no field given' }],
        })
      }
      return definition.update(encodedId, checked, { ...options, id })
    },

    async delete(id, options = {}) {
      await definition.delete(checkId(id, 'delete'), { ...options, id })
    },

    async regenerate(id, options = {}) {
      assertCapability(
        capabilities.regenerate && definition.regenerate !== undefined,
        'regenerate',
        context('regenerate'),
      )
      const encodedId = checkId(id, 'regenerate')
      return remember(
        await (definition.regenerate as NonNullable<typeof definition.regenerate>)(encodedId, {
          ...options,
          id,
        }),
      )
    },

    async verify(secret, options = {}) {
      assertCapability(
        capabilities.verify && definition.verify !== undefined,
        'verify',
        context('verify'),
      )
      if (!Secret.is(secret)) {
        throw new ValidationError({
          ...context('verify'),
          message: `${provider} verify: expected a Secret`,
          issues: [{ path: 'secret', message: 'expected a Secret' }],
        })
      }
      return (definition.verify as NonNullable<typeof definition.verify>)(secret, options)
    },

    async successorInput(key, options = {}) {
      checkOwnKey(key, 'successorInput')
      if (definition.successorInput !== undefined) return definition.successorInput(key, options)
      return defaultSuccessorPlan(key, capabilities) as SuccessorPlan<C>
    },
  }
  const { credentialKeyIds, useCredential, reveal } = definition
  if (credentialKeyIds !== undefined) {
    store.credentialKeyIds = (options = {}) => credentialKeyIds(options)
  }
  if (useCredential !== undefined) {
    store.useCredential = (secret) => {
      if (!Secret.is(secret)) {
        throw new ValidationError({
          ...context('useCredential'),
          message: `${provider} useCredential: expected a Secret`,
          issues: [{ path: 'secret', message: 'expected a Secret' }],
        })
      }
      client.redactor.add(secret.reveal())
      useCredential(secret)
    }
  }
  if (reveal !== undefined) {
    store.reveal = async (id, options = {}) => {
      const secret = await reveal(checkId(id, 'reveal'), { ...options, id })
      client.redactor.add(secret.reveal())
      return secret
    }
  }
  return store
}

function checkInput(
  input: unknown,
  base: v.GenericSchema,
  vendor: v.GenericSchema | undefined,
  context: { provider: string; operation: string },
): Record<string, unknown> {
  const checked = validateInput(base, input, context) as Record<string, unknown>
  return vendor === undefined
    ? checked
    : (validateInput(vendor, checked, context) as Record<string, unknown>)
}

/**
 * A name for a key created without one at a vendor that requires names: recognisable, and
 * unique enough to find the key again after an ambiguous create.
 */
export function defaultKeyName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')
  return `keyway-${stamp}-${randomBytes(3).toString('hex')}`
}
