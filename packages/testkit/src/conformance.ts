import {
  AmbiguousCreateError,
  type ApiKey,
  AuthenticationError,
  type Capabilities,
  type CreatedKey,
  type KeyStore,
  KeyStoreError,
  NotFoundError,
  ProviderError,
  type ReconcileOptions,
  ResponseValidationError,
  type RetryOptions,
  Secret,
  UnsupportedOperationError,
  ValidationError,
} from '@keyway/core/adapter'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { describeCreateConformance, fastRetry, noWait } from './conformance-create.js'
import { describeRotationRefusalConformance } from './conformance-refusals.js'
import { findSecrets, isSecretSetting, settingSecrets } from './secret-scan.js'
import type { Emulator, EmulatorControl, EmulatorOptions, RequestMatch } from './types.js'

/** What the suite passes to `createStore`: the emulator's settings plus fast retries. */
export type ConformanceSettings = Record<string, string> & {
  retry?: RetryOptions
  reconcile?: ReconcileOptions
  timeoutMs?: number
}

/** What `additionalTests` can reach; each getter gives the current test's. */
export interface ConformanceContext {
  /** The store under test, built fresh for each test. */
  readonly store: KeyStore
  /** The emulator the store talks to, started fresh for each test. */
  readonly emulator: Emulator<EmulatorControl, string>
  /** Every secret the test has seen so far; add the ones your test mints. */
  readonly secrets: Set<string>
  /** The settings the suite built `store` from (the emulator's, plus fast retries). */
  readonly settings: ConformanceSettings
}

/** Options of `describeKeyStoreConformance`. */
export interface ConformanceOptions<Options extends EmulatorOptions = EmulatorOptions> {
  /** The vendor's name, as its store's `provider`. */
  vendor: string
  /** Builds the adapter's store from settings, e.g. `(settings) => createOpenRouterKeyStore(settings)`. */
  createStore: (settings: ConformanceSettings) => KeyStore
  /**
   * Starts a fresh emulator of the vendor for a test, e.g. `startOpenRouterEmulator` or one
   * made with `defineEmulator`.
   */
  startEmulator: (options?: Options) => Promise<Emulator<EmulatorControl, string>>
  /**
   * The request that creates a key, as the emulator sees it, e.g.
   * `{ method: 'POST', path: /\/keys$/ }`. Required where the store can create keys.
   */
  createRequest?: RequestMatch
  /**
   * The request that settles a create (the rename to the final name, or the metadata update
   * that carries the marker). Required where the store can create keys.
   */
  settleRequest?: RequestMatch
  /**
   * The adapter's capabilities, e.g. `openRouterCapabilities`. They choose, when the suite is
   * collected, which path of each capability test runs (the report names the skipped one);
   * the suite checks that the store declares exactly these.
   */
  capabilities: Capabilities
  /** An id in the adapter's format that names no key. */
  unknownId: string
  /** Emulator options for every test. */
  emulator?: Options
  /**
   * Keys per page the store asks for, where it pages (`capabilities.pagination`). Default
   * `100`.
   */
  pageSize?: number
  /**
   * Whether the store's creates carry a marker (a temporary name or a metadata entry).
   * `false` where the vendor can neither rename a key nor give it metadata (OpenAI's admin
   * keys): a create whose answer is lost then names the key it may have made and touches
   * nothing, and the marker tests are skipped. Default `true`.
   */
  createsCarryMarker?: boolean
  /** Create input the vendor accepts, beyond a name. Default `{}`. */
  createInput?: Record<string, unknown>
  /**
   * Requests a full listing makes besides its pages of keys, such as OpenRouter's one
   * request for the account's workspaces. Default `0`.
   */
  listOverhead?: number
  /**
   * Create input that sets every attribute a client can set at the vendor (the suite adds a
   * name where the vendor has names). It may seed what it needs first, such as a workspace.
   * Given, the suite checks that `successorInput` of such a key makes a key just like it.
   */
  successorSeed?: (emulator: Emulator<EmulatorControl, string>) => Record<string, unknown>
  /**
   * The adapter's own tests, run inside the suite with its per-test emulator and store
   * (see `ConformanceContext`).
   */
  additionalTests?: (context: ConformanceContext) => void
}

/**
 * The one suite every adapter passes against its vendor's emulator. Tests that need a
 * capability the vendor lacks check instead that the store refuses, sending nothing.
 */
export function describeKeyStoreConformance<Options extends EmulatorOptions>(
  options: ConformanceOptions<Options>,
): void {
  const { vendor, createStore, capabilities } = options
  const updates = (field: string) => (capabilities.update || []).includes(field)
  const creates = (field: string) => (capabilities.create || []).includes(field)
  // Where the API cannot create keys, the tests that need one take a key seeded at the vendor.
  const mints = capabilities.create !== false
  const deletes = capabilities.deleted !== false

  describe(`${vendor} KeyStore conformance`, () => {
    let emulator: Emulator<EmulatorControl, string>
    let store: KeyStore
    /** Every secret the test has seen: the credential and each key minted. */
    let secrets: Set<string>
    let settings: ConformanceSettings

    const settingsFor = (emulatorSettings: Record<string, string>): ConformanceSettings =>
      ({
        ...emulatorSettings,
        retry: fastRetry,
        reconcile: { sleep: noWait },
      }) as ConformanceSettings

    const createInput = (name: string): Record<string, unknown> => ({
      ...(store.capabilities.names ? { name } : {}),
      ...options.createInput,
    })

    const create = async (
      name = `conformance-${Math.random().toString(16).slice(2, 8)}`,
    ): Promise<CreatedKey> => {
      if (!mints) {
        const seeded = emulator.control.seedKey({ name })
        secrets.add(seeded.secret)
        return { key: await store.get(seeded.id), secret: new Secret(seeded.secret) }
      }
      const created = await store.create(createInput(name) as never)
      secrets.add(created.secret.reveal())
      return created
    }

    /** Ids of the keys that work at the vendor now (deleted NoteDx keys stay listed, disabled). */
    const activeIds = async () =>
      (await store.list()).filter((key) => key.status === 'active').map((key) => key.id)

    /** Runs `action`, expects it to throw, checks the error holds no secret, and returns it. */
    const failure = async (action: () => Promise<unknown>): Promise<unknown> => {
      let thrown: unknown
      try {
        await action()
      } catch (error) {
        thrown = error
      }
      expect(thrown, 'expected the call to throw').toBeDefined()
      expect(findSecrets(thrown, secrets)).toEqual([])
      return thrown
    }

    /** Asserts that `action` throws `errorClass` and that the emulator received nothing. */
    const refusedLocally = async (
      action: () => Promise<unknown>,
      errorClass: abstract new (...args: never[]) => Error,
    ) => {
      const before = emulator.requests.length
      const error = await failure(action)
      expect(error).toBeInstanceOf(errorClass)
      expect(emulator.requests.length).toBe(before)
      return error
    }

    beforeEach(async () => {
      emulator = await options.startEmulator(options.emulator)
      secrets = new Set(settingSecrets(emulator.settings))
      settings = settingsFor(emulator.settings)
      store = createStore(settings)
    })

    afterEach(async () => {
      await emulator.close()
    })

    it('declares the capabilities the suite was given', () => {
      expect(store.capabilities).toEqual(capabilities)
    })

    describe('reading', () => {
      it('lists every key in the neutral shape, with no secret anywhere', async () => {
        const keys = await store.list()
        expect(keys.length).toBeGreaterThanOrEqual(3)
        for (const key of keys) expectApiKey(key, vendor)
        expect(new Set(keys.map((key) => key.id)).size).toBe(keys.length)
        expect(findSecrets(keys, secrets)).toEqual([])
      })

      it('iterates the same keys as list', async () => {
        const listed = (await store.list()).map((key) => key.id)
        const iterated: string[] = []
        for await (const key of store.iterate()) iterated.push(key.id)
        expect(iterated).toEqual(listed)
      })

      it.skipIf(capabilities.pagination === 'none')(
        'walks every page, holding one page at a time',
        async () => {
          for (let index = 0; index < 230; index++)
            emulator.control.seedKey({ name: `bulk-${index}` })
          const expected = (await store.list()).length
          expect(expected).toBeGreaterThanOrEqual(233)
          const before = emulator.requests.length
          const ids = new Set<string>()
          for await (const key of store.iterate()) ids.add(key.id)
          expect(ids.size).toBe(expected)
          const pages = emulator.requests.slice(before)
          const pageSize = options.pageSize ?? 100
          // An offset list ends at a short page; a cursor list says it has no more.
          const pageCount =
            capabilities.pagination === 'cursor'
              ? Math.ceil(expected / pageSize)
              : Math.floor(expected / pageSize) + 1
          expect(pages.length).toBe(pageCount + (options.listOverhead ?? 0))
        },
      )

      it('gets a key by id, equal to its listed form', async () => {
        const [first] = await store.list()
        const key = await store.get((first as ApiKey).id)
        expect(key.id).toBe(first?.id)
        expect(key.name).toBe(first?.name)
        expect(key.status).toBe(first?.status)
      })

      it('gives NotFoundError for an unknown id', async () => {
        const error = await failure(() => store.get(options.unknownId))
        expect(error).toBeInstanceOf(NotFoundError)
        expect((error as NotFoundError).provider).toBe(vendor)
      })
    })

    it.skipIf(mints)('refuses to create, sending nothing', async () => {
      const error = await refusedLocally(
        () => store.create({ name: 'conformance-create' } as never),
        UnsupportedOperationError,
      )
      expect((error as UnsupportedOperationError).feature).toBe('create')
    })

    describe.runIf(mints)('creating', () => {
      it('returns the key and its secret once; the secret works and is nowhere else', async () => {
        const created = await create('conformance-create')
        expectApiKey(created.key, vendor)
        if (store.capabilities.names) expect(created.key.name).toBe('conformance-create')
        expect(created.key.status).toBe('active')
        expect(emulator.control.works(created.secret.reveal())).toBe(true)
        expect(String(created.secret)).not.toContain(created.secret.reveal())
        expect(JSON.stringify(created)).not.toContain(created.secret.reveal())
        const listed = await store.list()
        expect(listed.map((key) => key.id)).toContain(created.key.id)
        const fetched = await store.get(created.key.id)
        expect(findSecrets([created.key, listed, fetched], secrets)).toEqual([])
      })

      it('refuses, sending nothing, input fields the vendor lacks', async () => {
        const unsupported: Array<[string, Record<string, unknown>]> = [
          ['metadata', { metadata: { team: 'platform' } }],
          ['expiresAt', { expiresAt: new Date(Date.now() + 86_400_000) }],
          ['name', { name: 'has-a-name' }],
        ]
        let checked = 0
        for (const [field, extra] of unsupported) {
          if (creates(field)) continue
          checked++
          const error = await refusedLocally(
            () => store.create({ ...options.createInput, ...extra } as never),
            UnsupportedOperationError,
          )
          expect((error as UnsupportedOperationError).feature).toBe(`create.${field}`)
        }
        expect(checked + ['metadata', 'expiresAt', 'name'].filter(creates).length).toBe(3)
      })

      it('leaves no orphan when a create is processed but its answer is lost', async () => {
        const before = await activeIds()
        emulator.inject({ match: { method: 'POST' }, drop: 'after' })
        const outcome = await create('conformance-dropped').catch((error: unknown) => error)
        const added = (await activeIds()).filter((id) => !before.includes(id))
        if (outcome instanceof Error) {
          expect(outcome).toBeInstanceOf(AmbiguousCreateError)
          expect(findSecrets(outcome, secrets)).toEqual([])
          // An unmarked create cannot prove the key its own: it names it, and leaves it.
          expect(added).toEqual(
            options.createsCarryMarker === false
              ? (outcome as AmbiguousCreateError).candidateIds
              : [],
          )
        } else {
          expect(added).toEqual([(outcome as CreatedKey).key.id])
          expect(emulator.control.works((outcome as CreatedKey).secret.reveal())).toBe(true)
        }
      })

      // Every POST is lost, the settling one of a vendor that settles by POST too, so even a
      // vendor that shows keys again cannot hand one over: the error names what is left.
      it('throws AmbiguousCreateError and leaves no orphan when every answer is lost', async () => {
        const before = await activeIds()
        emulator.inject({ match: { method: 'POST' }, drop: 'after', times: 5 })
        const outcome = await create('conformance-lost').catch((error: unknown) => error)
        const added = (await activeIds()).filter((id) => !before.includes(id))
        expect(outcome).toBeInstanceOf(AmbiguousCreateError)
        expect(findSecrets(outcome, secrets)).toEqual([])
        expect(added).toEqual((outcome as AmbiguousCreateError).candidateIds)
      })
    })

    describe('a key like this one', () => {
      /** Makes a key from `input`, then one from its successor plan; returns both keys' attributes. */
      const successorOf = async (input: Record<string, unknown>) => {
        const name = `conformance-like-${Math.random().toString(16).slice(2, 8)}`
        const old = await store.create({ ...createInput(name), ...input } as never)
        secrets.add(old.secret.reveal())
        // As a rotation would: from the listing, not from the create's answer.
        const listed = (await store.list()).find((key) => key.id === old.key.id)
        expect(listed, 'the new key is listed').toBeDefined()
        const plan = await store.successorInput(listed as ApiKey)
        expect(plan.blocked).toBeUndefined()
        expect(findSecrets(plan, secrets)).toEqual([])
        const successor = await store.create(plan.input as never)
        secrets.add(successor.secret.reveal())
        expect(successor.key.id).not.toBe(old.key.id)
        return {
          old: emulator.control.keyAttributes(old.secret.reveal()),
          successor: emulator.control.keyAttributes(successor.secret.reveal()),
        }
      }

      it.runIf(mints)('makes a plain key again with the same settable attributes', async () => {
        const { old, successor } = await successorOf({})
        expect(old).toBeDefined()
        expect(successor).toEqual(old)
      })

      it.runIf(mints && options.successorSeed !== undefined)(
        'makes a key with every settable attribute set again with all of them',
        async () => {
          const seed = (options.successorSeed as NonNullable<typeof options.successorSeed>)(
            emulator,
          )
          const { old, successor } = await successorOf(seed)
          const plain = await successorOf({})
          // The seed really sets attributes a plain key lacks, so the comparison can fail.
          const { name: _oldName, ...oldSettings } = old ?? {}
          const { name: _plainName, ...plainSettings } = plain.old ?? {}
          expect(oldSettings).not.toEqual(plainSettings)
          expect(successor).toEqual(old)
        },
      )

      it("refuses another vendor's key, sending nothing", async () => {
        const [key] = await store.list()
        await refusedLocally(
          () => store.successorInput({ ...(key as ApiKey), provider: 'another-vendor' }),
          ValidationError,
        )
      })
    })

    describe('updating', () => {
      // One refusal test per field the vendor cannot update; it runs only where that is so.
      const patches: Array<[string, Record<string, unknown>]> = [
        ['name', { name: 'renamed' }],
        ['status', { status: 'disabled' }],
        ['metadata', { metadata: { team: 'platform' } }],
      ]
      for (const [field, patch] of patches) {
        it.skipIf(updates(field))(`refuses an update of ${field}, sending nothing`, async () => {
          const { key } = await create()
          await refusedLocally(() => store.update(key.id, patch), UnsupportedOperationError)
        })
      }

      it.runIf(updates('name'))('renames a key', async () => {
        const { key } = await create()
        const updated = await store.update(key.id, { name: 'renamed' })
        expect(updated.name).toBe('renamed')
        expect((await store.get(key.id)).name).toBe('renamed')
      })

      it.runIf(updates('status'))('disables and enables a key', async () => {
        const { key, secret } = await create()
        expect((await store.update(key.id, { status: 'disabled' })).status).toBe('disabled')
        expect((await store.get(key.id)).status).toBe('disabled')
        expect(emulator.control.works(secret.reveal())).toBe(false)
        expect((await store.update(key.id, { status: 'active' })).status).toBe('active')
        expect(emulator.control.works(secret.reveal())).toBe(true)
      })

      it.runIf(updates('metadata'))('replaces metadata', async () => {
        const { key } = await create()
        expect((await store.update(key.id, { metadata: { team: 'platform' } })).metadata).toEqual({
          team: 'platform',
        })
        expect((await store.get(key.id)).metadata).toEqual({ team: 'platform' })
      })

      it.runIf(capabilities.update !== false)('gives NotFoundError for an unknown id', async () => {
        const patch = updates('name')
          ? { name: 'renamed' }
          : updates('status')
            ? { status: 'disabled' }
            : { metadata: { team: 'platform' } }
        expect(await failure(() => store.update(options.unknownId, patch as never))).toBeInstanceOf(
          NotFoundError,
        )
      })
    })

    it.skipIf(deletes)('refuses to delete, sending nothing', async () => {
      const { key, secret } = await create()
      const error = await refusedLocally(() => store.delete(key.id), UnsupportedOperationError)
      expect((error as UnsupportedOperationError).feature).toBe('delete')
      expect(emulator.control.works(secret.reveal())).toBe(true)
    })

    describe.runIf(deletes)('deleting', () => {
      const gone = capabilities.deleted === 'gone'

      it.runIf(gone)('deletes a key: its secret stops working and the key is gone', async () => {
        const { key, secret } = await create()
        await store.delete(key.id)
        expect(emulator.control.works(secret.reveal())).toBe(false)
        expect(await failure(() => store.get(key.id))).toBeInstanceOf(NotFoundError)
        expect((await store.list()).map((listed) => listed.id)).not.toContain(key.id)
      })

      it.skipIf(gone)(
        'deletes a key: its secret stops working and the key stays, disabled',
        async () => {
          const { key, secret } = await create()
          await store.delete(key.id)
          expect(emulator.control.works(secret.reveal())).toBe(false)
          expect((await store.get(key.id)).status).toBe('disabled')
        },
      )

      it.runIf(gone)('gives NotFoundError for a second delete', async () => {
        const { key } = await create()
        await store.delete(key.id)
        expect(await failure(() => store.delete(key.id))).toBeInstanceOf(NotFoundError)
      })

      it.skipIf(gone)('answers a second delete as done', async () => {
        const { key } = await create()
        await store.delete(key.id)
        await expect(store.delete(key.id)).resolves.toBeUndefined()
      })

      it('gives NotFoundError for an unknown id', async () => {
        expect(await failure(() => store.delete(options.unknownId))).toBeInstanceOf(NotFoundError)
      })

      it('counts a delete whose answer was lost as done', async () => {
        const { key, secret } = await create()
        emulator.inject({
          match: { method: store.capabilities.deleted === 'gone' ? 'DELETE' : 'POST' },
          drop: 'after',
        })
        await store.delete(key.id)
        expect(emulator.control.works(secret.reveal())).toBe(false)
      })
    })

    describe('regenerate and verify', () => {
      it.skipIf(capabilities.regenerate)('refuses to regenerate, sending nothing', async () => {
        const { key } = await create()
        await refusedLocally(() => store.regenerate(key.id), UnsupportedOperationError)
      })

      it.runIf(capabilities.regenerate)(
        'regenerates: the new secret works, the old one not',
        async () => {
          const { key, secret } = await create()
          const regenerated = await store.regenerate(key.id)
          secrets.add(regenerated.secret.reveal())
          expect(regenerated.key.id).toBe(key.id)
          expect(emulator.control.works(regenerated.secret.reveal())).toBe(true)
          expect(emulator.control.works(secret.reveal())).toBe(false)
        },
      )

      it.skipIf(capabilities.verify)('refuses to verify, sending nothing', async () => {
        const { secret } = await create()
        await refusedLocally(() => store.verify(secret), UnsupportedOperationError)
      })

      it.runIf(capabilities.verify)(
        'verifies: a fresh secret passes, a made-up one fails',
        async () => {
          const { secret } = await create()
          expect(await store.verify(secret)).toBe(true)
          expect(await store.verify(new Secret(`${secret.reveal().slice(0, -6)}000000`))).toBe(
            false,
          )
        },
      )
    })

    describe('failures', () => {
      it('gives AuthenticationError for a wrong credential', async () => {
        const wrong = Object.fromEntries(
          Object.entries(emulator.settings).map(([name, value]) => [
            name,
            isSecretSetting(name) ? `wrong-${value}` : value,
          ]),
        )
        for (const value of Object.values(wrong)) secrets.add(value)
        const error = await failure(() => createStore(settingsFor(wrong)).list())
        expect(error).toBeInstanceOf(AuthenticationError)
        expect((error as AuthenticationError).status).toBe(401)
      })

      it('refuses to be built without a credential, naming the setting', () => {
        expect(() =>
          createStore({ baseUrl: emulator.settings.baseUrl as string } as ConformanceSettings),
        ).toThrow(ValidationError)
      })

      it('waits out a 429 and succeeds', async () => {
        emulator.inject({ match: { method: 'GET' }, status: 429, retryAfter: 1 })
        const keys = await store.list()
        expect(keys.length).toBeGreaterThan(0)
        const gets = emulator.requests.filter((request) => request.method === 'GET')
        expect(gets.length).toBeGreaterThanOrEqual(2)
      })

      it('gives ProviderError when every attempt gets a 5xx', async () => {
        await store.list()
        const before = emulator.requests.length
        emulator.inject({ match: { method: 'GET' }, status: 503, times: 10 })
        const error = await failure(() => store.list())
        expect(error).toBeInstanceOf(ProviderError)
        expect((error as ProviderError).status).toBe(503)
        expect(emulator.requests.length - before).toBe(3)
      })

      it('gives ResponseValidationError for a body it cannot read', async () => {
        await store.list()
        emulator.inject({ match: { method: 'GET' }, malformed: true })
        const error = await failure(() => store.list())
        expect(error).toBeInstanceOf(ResponseValidationError)
      })

      it('stops at once when aborted, sending nothing more', async () => {
        await store.list()
        const aborted = await failure(() => store.list({ signal: AbortSignal.abort() }))
        expect((aborted as Error).name).toBe('AbortError')

        // The vendor holds its answer; the caller aborts once the request has arrived.
        emulator.inject({ match: { method: 'GET' }, delayMs: 600_000 })
        const controller = new AbortController()
        const before = emulator.requests.length
        const pending = store.list({ signal: controller.signal })
        while (emulator.requests.length === before) {
          await new Promise((resolve) => setImmediate(resolve))
        }
        controller.abort()
        const error = await failure(() => pending)
        expect((error as Error).name).toBe('AbortError')
        expect(emulator.requests.length).toBeLessThanOrEqual(before + 1)
      })

      it('rejects bad ids with ValidationError, sending nothing', async () => {
        for (const id of ['', '../keys', 'a/b', '%2e%2e', 'a\r\nb', 'a\u0000b']) {
          await refusedLocally(() => store.get(id), ValidationError)
          if (deletes) await refusedLocally(() => store.delete(id), ValidationError)
        }
      })

      it.runIf(creates('name'))('rejects an overlong name, sending nothing', async () => {
        await refusedLocally(
          () => store.create({ ...options.createInput, name: 'n'.repeat(10_000) } as never),
          ValidationError,
        )
      })

      it('rejects bad input with ValidationError, sending nothing', async () => {
        if (mints) {
          await refusedLocally(
            () => store.create({ ...options.createInput, metadata: { team: 42 } } as never),
            ValidationError,
          )
        }
        if (capabilities.update !== false) {
          await refusedLocally(() => store.update(options.unknownId, {}), ValidationError)
        }
      })
    })

    if (options.additionalTests !== undefined) {
      describe('adapter tests', () => {
        options.additionalTests?.({
          get store() {
            return store
          },
          get emulator() {
            return emulator
          },
          get secrets() {
            return secrets
          },
          get settings() {
            return settings
          },
        })
      })
    }
  })

  describeCreateConformance(options)
  describeRotationRefusalConformance(options)
}

function expectApiKey(key: ApiKey, vendor: string): void {
  expect(key.provider).toBe(vendor)
  expect(typeof key.id).toBe('string')
  expect(key.id.length).toBeGreaterThan(0)
  expect(['active', 'disabled', 'archived', 'expired']).toContain(key.status)
  for (const field of ['createdAt', 'updatedAt', 'lastUsedAt', 'expiresAt'] as const) {
    const value = key[field]
    if (value !== null) {
      expect(value).toBeInstanceOf(Date)
      expect(Number.isNaN(value.getTime())).toBe(false)
    }
  }
  expect(typeof key.metadata).toBe('object')
  expect(Object.values(key.metadata).every((value) => typeof value === 'string')).toBe(true)
  expect(KeyStoreError.is(key)).toBe(false)
}

export { MALFORMED_IDS } from './conformance-refusals.js'
export { expectNoSecret } from './expect-no-secret.js'
export { findSecrets, settingSecrets } from './secret-scan.js'
export { useEmulator } from './use-emulator.js'
