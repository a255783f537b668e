import {
  AmbiguousCreateError,
  type CreatedKey,
  CreateSettleError,
  createMarker,
  type KeyStore,
  type ReconcileOptions,
  type RetryOptions,
  ValidationError,
} from '@keyway/core/adapter'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConformanceOptions, ConformanceSettings } from './conformance.js'
import { findSecrets } from './secret-scan.js'
import type { Emulator, EmulatorControl, EmulatorOptions } from './types.js'

/** Retries that wait a few milliseconds, so a test of a failing vendor ends quickly. */
export const fastRetry = {
  attempts: 3,
  baseDelayMs: 5,
  maxDelayMs: 20,
  random: () => 0.5,
} satisfies RetryOptions

/** A reconcile that looks over its whole window without waiting real time. */
export const noWait: ReconcileOptions['sleep'] = (_ms, signal) =>
  signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve()

function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

/**
 * Creates that lose their answer, race a sibling of the same name, meet a slow vendor or
 * an abort; and every setting, option and input checked before anything is sent.
 */
export function describeCreateConformance<Options extends EmulatorOptions>(
  options: ConformanceOptions<Options>,
): void {
  const { vendor, createStore } = options
  // A vendor that cannot create keys has nothing to mark; the main suite checks the refusal.
  if (options.capabilities.create === false) return
  const { createRequest, settleRequest } = options
  if (createRequest === undefined || settleRequest === undefined) {
    throw new TypeError(
      `${vendor}: a store that creates keys needs createRequest and settleRequest in the conformance options`,
    )
  }

  describe.skipIf(options.createsCarryMarker === false)(`${vendor} creates carry a marker`, () => {
    let emulator: Emulator<EmulatorControl, string>
    let store: KeyStore
    let secrets: Set<string>

    const settingsFor = (extra: Record<string, unknown> = {}): ConformanceSettings =>
      ({
        ...emulator.settings,
        retry: fastRetry,
        reconcile: { sleep: noWait },
        ...extra,
      }) as ConformanceSettings

    const input = (name?: string): Record<string, unknown> => ({
      ...(store.capabilities.names && name !== undefined ? { name } : {}),
      ...options.createInput,
    })

    const keep = (created: CreatedKey): CreatedKey => {
      secrets.add(created.secret.reveal())
      return created
    }

    const activeIds = async () =>
      (await store.list()).filter((key) => key.status === 'active').map((key) => key.id)

    const creates = () =>
      emulator.requests.filter(
        (request) =>
          request.method === createRequest.method &&
          (createRequest.path as RegExp).test(request.path.replace(/\?.*$/, '')),
      )

    beforeEach(async () => {
      emulator = await options.startEmulator(options.emulator)
      secrets = new Set(
        Object.entries(emulator.settings)
          .filter(([name]) => name !== 'baseUrl')
          .map(([, value]) => value),
      )
      store = createStore(settingsFor())
    })

    afterEach(async () => {
      await emulator.close()
    })

    it('sends the marker with the create and settles the key to what was asked', async () => {
      const marker = createMarker()
      const created = keep(await store.create(input('conformance-settled') as never, { marker }))
      expect(JSON.stringify(creates().at(-1)?.body)).toContain(marker)
      if (store.capabilities.names) {
        expect(created.key.name).toBe('conformance-settled')
        expect((await store.get(created.key.id)).name).toBe('conformance-settled')
      }
      expect(created.key.metadata).toEqual(options.createInput?.metadata ?? {})
      expect((await store.get(created.key.id)).metadata).toEqual(
        options.createInput?.metadata ?? {},
      )
      expect(await store.findCreated(marker)).toEqual([])
      expect(emulator.control.works(created.secret.reveal())).toBe(true)
    })

    it.each([
      ['processed, then its answer lost', { drop: 'after' }],
      ['refused with a 502 before it was processed', { status: 502 }],
    ] as const)(
      'two creates of one name at once, one %s: both callers get their own working key',
      async (_what, fault) => {
        await store.list()
        const held = gate()
        emulator.inject({ match: createRequest, until: held.opened, ...fault })
        const first = store
          .create(input('ci-deploy') as never)
          .then(keep)
          .catch((error: unknown) => error)
        await vi.waitFor(() => expect(creates()).toHaveLength(1), { timeout: 10_000 })
        const second = keep(await store.create(input('ci-deploy') as never))
        held.open()
        const outcome = await first
        expect(outcome).not.toBeInstanceOf(Error)
        const firstKey = outcome as CreatedKey
        expect(firstKey.key.id).not.toBe(second.key.id)
        for (const created of [firstKey, second]) {
          expect(emulator.control.works(created.secret.reveal())).toBe(true)
          const listed = await store.get(created.key.id)
          expect(listed.status).toBe('active')
          if (store.capabilities.names) expect(listed.name).toBe('ci-deploy')
        }
      },
    )

    it('a create without a name whose answer is lost leaves no orphan', async () => {
      const before = await activeIds()
      emulator.inject({ match: createRequest, drop: 'after' })
      const created = keep(await store.create(input() as never))
      const added = (await activeIds()).filter((id) => !before.includes(id))
      expect(added).toEqual([created.key.id])
      expect(emulator.control.works(created.secret.reveal())).toBe(true)
    })

    it('a create without a name that loses every answer names every key it left', async () => {
      const before = await activeIds()
      emulator.inject({ match: createRequest, drop: 'after', times: 5 })
      const marker = createMarker()
      const outcome = await store
        .create(input() as never, { marker })
        .then(keep)
        .catch((error: unknown) => error)
      const added = (await activeIds()).filter((id) => !before.includes(id))
      if (outcome instanceof Error) {
        expect(outcome).toBeInstanceOf(AmbiguousCreateError)
        expect(findSecrets(outcome, secrets)).toEqual([])
        expect(added).toEqual((outcome as AmbiguousCreateError).candidateIds)
        expect((outcome as AmbiguousCreateError).marker).toBe(marker)
      } else {
        expect(store.capabilities.revealAfterCreate).toBe(true)
        expect(added).toEqual([(outcome as CreatedKey).key.id])
      }
    })

    it('a slow vendor that makes the key after the attempt timed out: one key in the end', async () => {
      await store.list()
      const slow = createStore(
        settingsFor({ timeoutMs: 300, reconcile: { windowMs: 8000, intervalMs: 100 } }),
      )
      const before = await activeIds()
      emulator.inject({ match: createRequest, delayMs: 900 })
      const marker = createMarker()
      const outcome = await slow
        .create(input('conformance-slow') as never, { marker })
        .then(keep)
        .catch((error: unknown) => error)
      await emulator.idle()
      const added = (await activeIds()).filter((id) => !before.includes(id))
      expect(creates().length).toBeLessThanOrEqual(2)
      if (outcome instanceof Error) {
        expect(outcome).toBeInstanceOf(AmbiguousCreateError)
        const carrying = (await store.findCreated(marker)).filter((key) => key.status === 'active')
        expect(added.sort()).toEqual(carrying.map((key) => key.id).sort())
      } else {
        expect(added).toEqual([(outcome as CreatedKey).key.id])
        expect(emulator.control.works((outcome as CreatedKey).secret.reveal())).toBe(true)
        expect(await store.findCreated(marker)).toEqual(
          store.capabilities.deleted === 'gone' ? [] : expect.any(Array),
        )
      }
    })

    it('a reconcile that cannot list says the outcome is unknown and names the marker', async () => {
      await store.list()
      const marker = createMarker()
      emulator.inject({ match: createRequest, drop: 'after' })
      emulator.inject({ match: { method: 'GET' }, status: 503, times: 50 })
      const error = await store.create(input('conformance-unlisted') as never, { marker }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      )
      expect(error).toBeInstanceOf(AmbiguousCreateError)
      expect((error as AmbiguousCreateError).marker).toBe(marker)
      expect((error as Error).message).toContain(marker)
      expect((error as Error).message).toMatch(/unknown/)
      expect(findSecrets(error, secrets)).toEqual([])
      emulator.clearFaults()
      const found = await store.findCreated(marker)
      expect(found).toHaveLength(1)
      expect(found[0]?.status).toBe('active')
    })

    it('an abort while the vendor is making the key leaves a key findCreated finds', async () => {
      await store.list()
      const marker = createMarker()
      const held = gate()
      emulator.inject({ match: createRequest, until: held.opened })
      const controller = new AbortController()
      const pending = store
        .create(input('conformance-aborted') as never, { marker, signal: controller.signal })
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        )
      await vi.waitFor(() => expect(creates()).toHaveLength(1), { timeout: 10_000 })
      controller.abort()
      const error = await pending
      held.open()
      await emulator.idle()
      expect(error).toBeInstanceOf(AmbiguousCreateError)
      expect((error as AmbiguousCreateError).marker).toBe(marker)
      expect((error as Error).message).toContain(marker)
      expect(((error as Error).cause as Error).name).toBe('AbortError')
      const found = await store.findCreated(marker)
      expect(found).toHaveLength(1)
      expect(found[0]?.status).toBe('active')
    })

    // Where the vendor cannot delete keys, the key is disabled, by the request the settle
    // failed with: the fault outlasts the settle's attempts only.
    const deletes = options.capabilities.deleted !== false
    it(`a key that cannot be settled is ${deletes ? 'deleted' : 'disabled'} again, and the error says so`, async () => {
      const before = await activeIds()
      const marker = createMarker()
      emulator.inject({
        match: settleRequest,
        status: 500,
        times: deletes ? 20 : fastRetry.attempts,
      })
      const error = await store.create(input('conformance-unsettled') as never, { marker }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      )
      emulator.clearFaults()
      expect(error).toBeInstanceOf(CreateSettleError)
      const settleError = error as CreateSettleError
      expect(settleError.marker).toBe(marker)
      expect(settleError.candidateIds).toEqual([])
      expect(settleError.deletedIds).toEqual([settleError.keyId])
      expect(settleError.message).toContain(settleError.keyId)
      expect(findSecrets(error, secrets)).toEqual([])
      expect((await activeIds()).filter((id) => !before.includes(id))).toEqual([])
      if (!deletes) {
        expect(settleError.message).toContain('disabled')
        expect((await store.get(settleError.keyId)).status).toBe('disabled')
      }
    })

    it('refuses a marker already used by a create in progress, or one unsafe in a name', async () => {
      const marker = createMarker()
      const held = gate()
      emulator.inject({ match: createRequest, until: held.opened })
      const first = store.create(input('conformance-first') as never, { marker }).then(keep)
      await vi.waitFor(() => expect(creates()).toHaveLength(1), { timeout: 10_000 })
      const sent = emulator.requests.length
      await expect(store.create(input('conformance-second') as never, { marker })).rejects.toThrow(
        ValidationError,
      )
      for (const bad of ['', 'has space', 'a~b', 'x'.repeat(200), 42]) {
        await expect(
          store.create(input('conformance-bad') as never, { marker: bad as never }),
        ).rejects.toThrow(ValidationError)
        await expect(store.findCreated(bad as never)).rejects.toThrow(ValidationError)
      }
      expect(emulator.requests.length).toBe(sent)
      held.open()
      await first
    })
  })

  describe(`${vendor} checks every setting, option and input before sending`, () => {
    let emulator: Emulator<EmulatorControl, string>
    let store: KeyStore

    beforeEach(async () => {
      emulator = await options.startEmulator(options.emulator)
      store = createStore({ ...emulator.settings, retry: fastRetry } as ConformanceSettings)
    })

    afterEach(async () => {
      await emulator.close()
    })

    const configureError = (settings: Record<string, unknown>): ValidationError => {
      let thrown: unknown
      try {
        createStore(settings as ConformanceSettings)
      } catch (error) {
        thrown = error
      }
      expect(thrown, 'expected the factory to throw').toBeInstanceOf(ValidationError)
      return thrown as ValidationError
    }

    it('refuses a blank, whitespace-only or control-character credential, naming the setting', () => {
      const credentials = Object.keys(emulator.settings).filter((name) => name !== 'baseUrl')
      expect(credentials.length).toBeGreaterThan(0)
      for (const setting of credentials) {
        for (const bad of ['', '   ', 'fake\r\nX-Injected: 1', 'fake\u0000value', '\tfake\n']) {
          const error = configureError({ ...emulator.settings, [setting]: bad })
          expect(error.issues.map((issue) => issue.path)).toEqual([setting])
          expect(error.message).toContain(setting)
          expect(error.message).not.toContain('fake')
        }
      }
      expect(emulator.requests).toEqual([])
    })

    it('refuses a credential or base URL given as undefined, never falling back to an env var', () => {
      // `managementKey: process.env.X` with X unset must not reach the account of the
      // vendor's default env var.
      for (const setting of Object.keys(emulator.settings)) {
        const error = configureError({ ...emulator.settings, [setting]: undefined })
        expect(error.issues.map((issue) => issue.path)).toEqual([setting])
        expect(error.message).toContain(`${setting} was given as undefined`)
      }
      expect(emulator.requests).toEqual([])
    })

    it.each([
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ timeoutMs: -1 }, 'timeoutMs'],
      [{ timeoutMs: Number.NaN }, 'timeoutMs'],
      [{ timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs'],
      [{ timeoutMs: '30' }, 'timeoutMs'],
      [{ retry: { attempts: 0 } }, 'retry.attempts'],
      [{ retry: { attempts: 1.5 } }, 'retry.attempts'],
      [{ retry: { deadlineMs: Number.NaN } }, 'retry.deadlineMs'],
      [{ retry: { baseDelayMs: -1 } }, 'retry.baseDelayMs'],
      [{ retry: { maxDelayMs: Number.POSITIVE_INFINITY } }, 'retry.maxDelayMs'],
      [{ retry: { maxRetryAfterMs: -5 } }, 'retry.maxRetryAfterMs'],
      [{ retry: { random: 0.5 } }, 'retry.random'],
      [{ retry: { attemps: 2 } }, 'retry.attemps'],
      [{ retry: true }, 'retry'],
      [{ scheduler: { concurrency: 0 } }, 'scheduler.concurrency'],
      [{ scheduler: { readsPerSecond: 0 } }, 'scheduler.readsPerSecond'],
      [{ scheduler: { writesPerSecond: Number.NaN } }, 'scheduler.writesPerSecond'],
      [{ hooks: { request: 'log' } }, 'hooks.request'],
      [{ hooks: 'log' }, 'hooks'],
      [{ fetch: 'fetch' }, 'fetch'],
      [{ userAgent: '' }, 'userAgent'],
      [{ userAgent: 'agent\r\nX-Injected: 1' }, 'userAgent'],
      [{ reconcile: { windowMs: -1 } }, 'reconcile.windowMs'],
      [{ reconcile: { sleep: 1 } }, 'reconcile.sleep'],
    ])('refuses the setting %o as a ValidationError naming %s', (extra, path) => {
      const error = configureError({ ...emulator.settings, ...extra })
      expect(error.issues.map((issue) => issue.path)).toContain(path)
      expect(error.message).toContain(path)
      expect(emulator.requests).toEqual([])
    })

    it('refuses a signal that is not an AbortSignal, on every method, sending nothing', async () => {
      const bad = { signal: 'x' } as never
      const { key } = await store.create({
        ...(store.capabilities.names ? { name: 'conformance-signal' } : {}),
        ...options.createInput,
      } as never)
      const sent = emulator.requests.length
      const calls: Array<() => Promise<unknown>> = [
        () => store.list(bad),
        async () => {
          for await (const _ of store.iterate(bad)) break
        },
        () => store.get(key.id, bad),
        () => store.create({ ...options.createInput } as never, bad),
        () => store.update(key.id, { name: 'x' } as never, bad),
        () => store.delete(key.id, bad),
        () => store.findCreated(createMarker(), bad),
        () => store.regenerate(key.id, bad),
        () => store.verify(null as never, bad),
      ]
      for (const call of calls) {
        const error = await call().then(
          () => undefined,
          (thrown: unknown) => thrown,
        )
        expect(error).toBeInstanceOf(ValidationError)
        expect((error as ValidationError).issues.map((issue) => issue.path)).toContain('signal')
      }
      await expect(store.list({ signal: {} } as never)).rejects.toThrow(ValidationError)
      await expect(store.list('all' as never)).rejects.toThrow(ValidationError)
      await expect(store.list({ includeDisabled: 'yes' } as never)).rejects.toThrow(ValidationError)
      expect(emulator.requests.length).toBe(sent)
    })

    it('refuses create and update input that is not a plain object, or has reserved field names', async () => {
      const sent = emulator.requests.length
      const refused = async (action: () => Promise<unknown>, path: string) => {
        const error = await action().then(
          () => undefined,
          (thrown: unknown) => thrown,
        )
        expect(error).toBeInstanceOf(ValidationError)
        expect((error as ValidationError).issues.map((issue) => issue.path)).toContain(path)
      }
      const base = { ...options.createInput }
      await refused(() => store.create([] as never), '')
      await refused(() => store.create('name' as never), '')
      await refused(() => store.create(null as never), '')
      await refused(() => store.create(new Date() as never), '')
      await refused(() => store.create({ ...base, constructor: 'x' } as never), 'constructor')
      await refused(
        () => store.create({ ...base, ...JSON.parse('{"__proto__": {"name": "x"}}') } as never),
        '__proto__',
      )
      await refused(() => store.create({ ...base, metadata: ['x'] } as never), 'metadata')
      await refused(
        () => store.create({ ...base, metadata: JSON.parse('{"constructor": "x"}') } as never),
        'metadata.constructor',
      )
      // A store that cannot update refuses every update as unsupported, before its input.
      if (options.capabilities.update !== false) {
        await refused(() => store.update(options.unknownId, [] as never), '')
        await refused(
          () => store.update(options.unknownId, { status: 'Disabled' } as never),
          'status',
        )
        await refused(
          () => store.update(options.unknownId, { constructor: 'x' } as never),
          'constructor',
        )
      }
      expect(emulator.requests.length).toBe(sent)
    })
  })
}
