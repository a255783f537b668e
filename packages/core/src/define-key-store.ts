import type * as v from 'valibot'
import { assertCapability, assertFields } from './capabilities.js'
import { checkMarker, claimMarker, createMarker } from './create-marker.js'
import { type CreateMarking, carriesMarker, defaultMarking, markCreate } from './create-marking.js'
import { createWithReconcile } from './create-with-reconcile.js'
import { credentialProblem } from './credentials.js'
import { ValidationError } from './errors.js'
import type { HttpClient } from './http-client.js'
import { collect } from './paginate.js'
import {
  checkOptions,
  createOptionsSchema,
  credentialKeyIdsOptionsSchema,
  listOptionsSchema,
  requestOptionsSchema,
} from './request-options.js'
import { scrubErrorChain } from './scrub-error.js'
import { Secret } from './secret.js'
import { attachFingerprint, fingerprintFunction } from './store-fingerprint.js'
import { attachStoreRules, noKeyWithId, type StoreRules } from './store-rules.js'
import { defaultSuccessorPlan } from './successor-plan.js'
import type {
  ApiKey,
  Capabilities,
  CreatedKey,
  CreateKeyInput,
  CreateOptions,
  CredentialKeyIdsOptions,
  CredentialKeySetting,
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
 * Ids reach these functions already validated and URL-encoded as `encodedId`. An operation
 * the vendor lacks is left out (and declared `false` in `capabilities`): the store refuses
 * it with `UnsupportedOperationError` before any request.
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
  /**
   * Sends one create request. The input has passed every check and carries the create's
   * marker (see `marking`); a create marked by name always has a name. Its secret comes
   * from `client.secret`, which registers it for redaction. Absent where the vendor cannot
   * mint keys through its API (`capabilities.create: false`).
   */
  create?(input: C, options: RequestOptions): Promise<CreatedKey>
  /**
   * How a create carries its marker: a temporary name, a metadata entry, or (for some
   * inputs) no way at all. Default: a temporary name where `capabilities.names` and
   * `update` takes a name; otherwise creates are unmarked.
   */
  marking?: CreateMarking<C>
  /**
   * For a create that carries no marker: whether a key that appeared after its answer was
   * lost could be the one `input` asked for. Such keys are only named in the error. Default:
   * any new active key.
   */
  matchesCreated?(key: ApiKey, input: C): boolean
  /** Where the vendor shows secrets again: turns a key found by its marker into the caller's key. */
  recoverCreated?(key: ApiKey, options: RequestOptions): Promise<CreatedKey | undefined>
  /** Sends one update. The patch has passed every check. Absent with `capabilities.update: false`. */
  update?(encodedId: string, patch: U, options: RequestOptions & { id: string }): Promise<ApiKey>
  /** Sends one delete. Absent with `capabilities.deleted: false`. */
  delete?(encodedId: string, options: RequestOptions & { id: string }): Promise<void>
  /** Replaces a key's secret in place, where the vendor can; the secret from `client.secret`. */
  regenerate?(encodedId: string, options: RequestOptions & { id: string }): Promise<CreatedKey>
  /** Checks a secret at the vendor, where it has a call for that. */
  verify?(secret: Secret, options: RequestOptions): Promise<boolean>
  /**
   * See `KeyStore.successorInput`: every attribute a client can set at the vendor, read from
   * `key` (already checked to be this vendor's). Default: `defaultSuccessorPlan`.
   */
  successorInput?(key: ApiKey, options: RequestOptions): Promise<SuccessorPlan<C>>
  /** See `KeyStore.credentialKeyIds`; leave it out where the store cannot tell. */
  credentialKeyIds?(options: CredentialKeyIdsOptions): Promise<string[]>
  /** See `KeyStore.credentialKeySetting`. */
  credentialKeySetting?: CredentialKeySetting
  /** See `KeyStore.useCredential`; leave it out where the credential is not a key. */
  useCredential?(secret: Secret): void
  /** See `KeyStore.reveal`; only where the vendor shows secrets again. The secret from `client.secret`. */
  reveal?(encodedId: string, options: RequestOptions & { id: string }): Promise<Secret>
}

/**
 * Builds a `KeyStore` from a vendor mapping. Bad settings, options, input and unsupported
 * operations or fields throw before any request. A create carries a marker until it is
 * settled, and only keys carrying it are ever taken for its own (see `createWithReconcile`).
 */
export function defineKeyStore<C extends CreateKeyInput, U extends UpdateKeyInput>(
  definition: KeyStoreDefinition<C, U>,
): KeyStore<C, U> {
  const { provider, capabilities, client } = definition
  const context = (operation: string) => ({ provider, operation })
  // A secret the store knows (its credential, a key it minted or listed) is never an id, nor
  // is a telling part of one (a key's body without its prefix fits some vendors' id shape).
  const isSecret = (text: string) => client.redactor.sharesWith(text)
  const checkId = (id: unknown, operation: string) =>
    encodeId(id, context(operation), definition.idPattern, isSecret)
  const checkOwnKey = (key: unknown, operation: string) => {
    const record = key as Partial<ApiKey> | null
    if (typeof record !== 'object' || record === null || record.provider !== provider) {
      throw new ValidationError({
        ...context(operation),
        message: `${provider} ${operation}: expected a key listed by this ${provider} store`,
        issues: [{ path: 'key', message: `expected an ApiKey of provider ${provider}` }],
      })
    }
    checkId(record.id, operation)
  }
  const checkSecret = (secret: unknown, operation: string) => {
    if (Secret.is(secret)) return
    throw new ValidationError({
      ...context(operation),
      message: `${provider} ${operation}: expected a Secret`,
      issues: [{ path: 'secret', message: 'expected a Secret' }],
    })
  }
  const checkCreateInput = (input: unknown, operation: string) => {
    const checked = checkInput(
      input,
      baseCreateInputSchema,
      definition.createSchema,
      context(operation),
    )
    assertFields(checked, capabilities.create || [], context(operation))
    checkHoldsNoSecret(checked, isSecret, context(operation))
    return checked
  }
  const rules: StoreRules = {
    checkId,
    checkCreateInput: (input, operation) => {
      checkCreateInput(input, operation)
    },
    holdsSecret: isSecret,
    redact: (error) => scrubErrorChain(error, client.redactor),
  }
  const marking: CreateMarking<C> = definition.marking ?? defaultMarking(capabilities)
  // Each optional operation is there only where both the capability and the mapping say so.
  const send = {
    create: capabilities.create === false ? undefined : definition.create,
    update: capabilities.update === false ? undefined : definition.update,
    delete: capabilities.deleted === false ? undefined : definition.delete,
    regenerate: capabilities.regenerate ? definition.regenerate : undefined,
    verify: capabilities.verify ? definition.verify : undefined,
  }
  const operation = <K extends keyof typeof send>(name: K): NonNullable<(typeof send)[K]> => {
    const found = send[name]
    assertCapability(found !== undefined, name, context(name))
    return found as NonNullable<(typeof send)[K]>
  }
  const options = <T extends RequestOptions>(
    schema:
      | typeof requestOptionsSchema
      | typeof listOptionsSchema
      | typeof createOptionsSchema
      | typeof credentialKeyIdsOptionsSchema,
    given: unknown,
    operation: string,
  ) => checkOptions(schema, given, context(operation)) as T

  const iterateChecked = (checked: ListOptions) =>
    definition.iterate({ ...checked, includeDisabled: checked.includeDisabled ?? true })
  const iterate = (given?: ListOptions) =>
    iterateChecked(options<ListOptions>(listOptionsSchema, given, 'list'))
  const findCreated = async (marker: string, checked: RequestOptions) =>
    (await collect(iterateChecked({ ...checked, includeDisabled: true }))).filter((key) =>
      carriesMarker(key, marking as CreateMarking, marker),
    )

  const store: KeyStore<C, U> = {
    provider,
    capabilities,
    ...(definition.credentialKeySetting === undefined
      ? {}
      : { credentialKeySetting: definition.credentialKeySetting }),

    iterate,

    list: async (given) => collect(iterate(given)),

    async get(id, given) {
      const checked = options<RequestOptions>(requestOptionsSchema, given, 'get')
      const encodedId = checkId(id, 'get')
      if (definition.get !== undefined) return definition.get(encodedId, id, checked)
      for await (const key of iterateChecked({ ...checked, includeDisabled: true })) {
        if (key.id === id) return key
      }
      throw rules.redact(noKeyWithId(provider, id))
    },

    async create(input, given) {
      const {
        signal,
        marker = createMarker(),
        onMade,
      } = options<CreateOptions>(createOptionsSchema, given, 'create')
      const sendCreate = operation('create')
      checkMarker(marker, context('create'))
      const checked = checkCreateInput(input, 'create') as C
      const { way, marked, patch } = markCreate(marking, checked, marker, context('create'))
      // Where the vendor cannot delete keys but can disable them, a key this create made and
      // takes back is disabled: it stops working, and `find` (active keys only) passes it by.
      const disables = send.delete === undefined && capabilities.disable
      const remove = async (id: string, removeSignal: AbortSignal | undefined) => {
        if (disables) {
          const patch = { status: 'disabled' } as U
          await operation('update')(checkId(id, 'delete'), patch, { id, signal: removeSignal })
          return
        }
        await operation('delete')(checkId(id, 'delete'), { id, signal: removeSignal })
      }
      const { recoverCreated: recover, matchesCreated: matches } = definition
      const release = claimMarker(marker, context('create'))
      try {
        // An unmarked create can only tell new keys from a list taken before it is sent.
        const before =
          typeof way === 'object'
            ? new Set(
                (await collect(iterateChecked({ signal, includeDisabled: true }))).map(
                  (key) => key.id,
                ),
              )
            : undefined
        return await createWithReconcile({
          provider,
          signal,
          marker,
          window: client.reconcile,
          ...(typeof way === 'object' ? { unmarked: way.unmarked } : {}),
          send: (sendSignal) => sendCreate(marked, { signal: sendSignal }),
          find: async (findSignal) => {
            if (before === undefined) {
              return (await findCreated(marker, { signal: findSignal })).filter(
                (key) => key.status === 'active',
              )
            }
            const listed = await collect(
              iterateChecked({ signal: findSignal, includeDisabled: true }),
            )
            return listed.filter(
              (key) =>
                !before.has(key.id) &&
                key.status === 'active' &&
                (matches === undefined || matches(key, checked)),
            )
          },
          settle: async (created, settleSignal) => {
            // Before the marker goes: the caller journals the id it can find the key by.
            await onMade?.(created.key)
            if (patch === undefined) return created
            const key = await operation('update')(checkId(created.key.id, 'create'), patch as U, {
              id: created.key.id,
              signal: settleSignal,
            })
            // Some vendors show the secret's preview only in the create's answer.
            return { key: { ...key, hint: key.hint ?? created.key.hint }, secret: created.secret }
          },
          remove,
          removes: disables ? 'disable' : 'delete',
          ...(recover === undefined
            ? {}
            : {
                recover: (key, recoverSignal) => recover(key, { signal: recoverSignal }),
              }),
        })
      } finally {
        release()
      }
    },

    async findCreated(marker, given) {
      const checked = options<RequestOptions>(requestOptionsSchema, given, 'findCreated')
      checkMarker(marker, context('findCreated'))
      return findCreated(marker, checked)
    },

    async update(id, patch, given) {
      const requestOptions = options<RequestOptions>(requestOptionsSchema, given, 'update')
      const sendUpdate = operation('update')
      const encodedId = checkId(id, 'update')
      const checked = checkInput(
        patch,
        baseUpdateInputSchema,
        definition.updateSchema,
        context('update'),
      ) as U
      assertFields(checked, capabilities.update || [], context('update'))
      if (checked.status === 'archived') {
        assertCapability(capabilities.archive === true, 'archive', context('update'))
      }
      if (Object.values(checked).every((value) => value === undefined)) {
        throw new ValidationError({
          ...context('update'),
          message: `${provider} update: nothing to update`,
          issues: [{ path: '', message: 'no field given' }],
        })
      }
      return sendUpdate(encodedId, checked, { ...requestOptions, id })
    },

    async delete(id, given) {
      const checked = options<RequestOptions>(requestOptionsSchema, given, 'delete')
      const sendDelete = operation('delete')
      await sendDelete(checkId(id, 'delete'), { ...checked, id })
    },

    async regenerate(id, given) {
      const checked = options<RequestOptions>(requestOptionsSchema, given, 'regenerate')
      const sendRegenerate = operation('regenerate')
      return sendRegenerate(checkId(id, 'regenerate'), { ...checked, id })
    },

    async verify(secret, given) {
      const checked = options<RequestOptions>(requestOptionsSchema, given, 'verify')
      const sendVerify = operation('verify')
      checkSecret(secret, 'verify')
      return sendVerify(secret, checked)
    },

    async successorInput(key, options = {}) {
      checkOwnKey(key, 'successorInput')
      if (definition.successorInput !== undefined) return definition.successorInput(key, options)
      return defaultSuccessorPlan(key, capabilities) as SuccessorPlan<C>
    },
  }
  const { credentialKeyIds, useCredential, reveal } = definition
  if (credentialKeyIds !== undefined) {
    store.credentialKeyIds = async (given) =>
      credentialKeyIds(
        options<CredentialKeyIdsOptions>(credentialKeyIdsOptionsSchema, given, 'credentialKeyIds'),
      )
  }
  if (useCredential !== undefined) {
    store.useCredential = (secret) => {
      checkSecret(secret, 'useCredential')
      client.redactor.add(secret.reveal())
      const problem = credentialProblem(secret.reveal(), 'header')
      if (problem !== undefined) {
        throw new ValidationError({
          ...context('useCredential'),
          message: `${provider} useCredential: the secret ${problem}; the store keeps its credential`,
          issues: [{ path: 'secret', message: problem }],
        })
      }
      useCredential(secret)
    }
  }
  if (reveal !== undefined) {
    store.reveal = async (id, given) => {
      const checked = options<RequestOptions>(requestOptionsSchema, given, 'reveal')
      return reveal(checkId(id, 'reveal'), { ...checked, id })
    }
  }
  attachStoreRules(store, rules)
  // Hidden and non-enumerable: core can tell the store's account, nobody can read its credential.
  attachFingerprint(store, fingerprintFunction(client))
  return store
}

/**
 * Refuses a name or metadata (names and values) holding a secret the store knows: a key named
 * after a credential would carry it into every listing, plan and journal. Quotes neither.
 */
function checkHoldsNoSecret(
  input: Record<string, unknown>,
  isSecret: (text: string) => boolean,
  context: { provider: string; operation: string },
): void {
  const metadata = Object.entries((input.metadata ?? {}) as Record<string, string>).flat()
  const issues = [
    ...(typeof input.name === 'string' && isSecret(input.name) ? ['name'] : []),
    ...(metadata.some((text) => isSecret(text)) ? ['metadata'] : []),
  ].map((path) => ({ path, message: 'holds a secret (a credential or a key)' }))
  if (issues.length === 0) return
  throw new ValidationError({
    ...context,
    message: `${context.provider} ${context.operation}: invalid input (${issues.map((issue) => issue.path).join(', ')}: holds a secret)`,
    issues,
  })
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
