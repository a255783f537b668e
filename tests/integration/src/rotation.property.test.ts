// Rotation under random fault schedules at every vendor: vendor faults (5xx, 429, dropped
// connections, malformed answers, slow answers), failed deliveries and verifications, process
// crashes at any journal write, single rotations and concurrent batches of keys that share a
// name, and reruns as an operator would do them. After each schedule, the invariants below.
//
// KEYWAY_PROPERTY_RUNS sets the schedules per vendor (default 15, for the test command);
// KEYWAY_PROPERTY_SEED (and KEYWAY_PROPERTY_PATH) replays a failure.
import {
  AmbiguousCreateError,
  type CreatedKey,
  type KeyStore,
  type RotateKeysResult,
  type RotationResult,
  rotateKey,
  rotateKeys,
} from '@keyway/core'
import type { Emulator, Fault, Vendor } from '@keyway/testkit'
import { findSecrets } from '@keyway/testkit/conformance'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Crash, crashingJournal } from './crash-journal.js'
import { type MadeKey, makeRestrictedKey } from './restricted-keys.js'
import { activeIds, seedKey, storeFor, vendors, withEmulator } from './vendors.js'

const RUNS = Number(process.env.KEYWAY_PROPERTY_RUNS ?? 15)
const { KEYWAY_PROPERTY_SEED: seed, KEYWAY_PROPERTY_PATH: path } = process.env
const REPLAY =
  seed === undefined ? {} : { seed: Number(seed), ...(path === undefined ? {} : { path }) }

const faultArbitrary: fc.Arbitrary<Fault> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE'),
    times: fc.integer({ min: 1, max: 3 }),
    kind: fc.constantFrom('500', '503', '429', 'drop-before', 'drop-after', 'malformed', 'slow'),
    delayMs: fc.integer({ min: 5, max: 60 }),
  })
  .map(({ method, times, kind, delayMs }): Fault => {
    const match = { method }
    if (kind === 'drop-before' || kind === 'drop-after')
      return { match, times, drop: kind === 'drop-before' ? 'before' : 'after' }
    if (kind === 'malformed') return { match, times: 1, malformed: true }
    if (kind === 'slow') return { match, times, delayMs }
    return { match, times, status: Number(kind), ...(kind === '429' ? { retryAfter: 0 } : {}) }
  })

const crashStates = [
  'started',
  'creating',
  'created',
  'delivered',
  'verified',
  'done',
  'rolling-back',
  'rolled-back',
] as const

const scenario = fc.record({
  batch: fc.boolean(),
  keys: fc.integer({ min: 1, max: 3 }),
  sharedName: fc.boolean(),
  concurrency: fc.integer({ min: 1, max: 3 }),
  faults: fc.array(faultArbitrary, { maxLength: 4 }),
  failDelivery: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  failVerification: fc.integer({ min: 0, max: 9 }).map((draw) => draw === 0),
  retire: fc.constantFrom('delete', 'disable', 'keep'),
  graceMs: fc.constantFrom(0, 0, 5),
  own: fc.constantFrom('none', 'included', 'allowed'),
  crash: fc.option(
    fc.record({
      state: fc.constantFrom(...crashStates),
      when: fc.constantFrom('before' as const, 'after' as const),
    }),
    { nil: undefined },
  ),
})
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

/** The credential the store's settings hold, where it is a secret the emulator can check. */
function settingsCredential(emulator: Emulator): string | undefined {
  const { managementKey, token, apiKey } = emulator.settings
  return managementKey ?? token ?? apiKey
}

/** Ids and words a failure or result names: messages, candidates, warnings. */
function named(value: unknown): string {
  const parts: string[] = []
  let current: unknown = value
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    parts.push(current.message)
    if (current instanceof AmbiguousCreateError) parts.push(...current.candidateIds)
    current = current.cause
  }
  if (!(value instanceof Error)) parts.push(JSON.stringify(value))
  return parts.join(' ')
}

async function runSchedule(vendor: Vendor, run: Scenario): Promise<void> {
  await withEmulator(
    vendor,
    async (emulator) => {
      const setup = storeFor(emulator)
      const retire = run.retire === 'disable' && !setup.capabilities.disable ? 'delete' : run.retire
      const name = (index: number) => (run.sharedName ? 'ci-shared' : `ci-${index}`)
      const count = run.batch ? run.keys : 1
      const olds: MadeKey[] = []
      for (let index = 0; index < count; index++) {
        olds.push(await makeRestrictedKey(setup, emulator, name(index)))
      }
      // Someone else's key of the same name: never to be touched.
      const bystander = seedKey(emulator, name(0))
      const ownIds = (await setup.credentialKeyIds?.()) ?? []
      const includeOwn = run.batch && run.own !== 'none' && run.crash === undefined
      const allowSelf = includeOwn && run.own === 'allowed'
      const keyIds = [...olds.map((key) => key.id), ...(includeOwn ? ownIds : [])]
      const attributes = new Map(
        olds.map((key) => [key.id, emulator.control.keyAttributes(key.secret)]),
      )
      const before = new Set(await activeIds(setup))
      const { journal, records } = crashingJournal(run.crash)

      const delivered = new Map<string, string>()
      const minted: string[] = []
      let deliveries = 0
      const options = {
        journal,
        retire,
        graceMs: run.graceMs,
        verifyAttempts: 2,
        verifyIntervalMs: 1,
        allowSelf,
        deliver: (created: CreatedKey) => {
          minted.push(created.secret.reveal())
          deliveries++
          if (deliveries === run.failDelivery)
            throw new Error(`could not store ${created.secret.reveal()}`)
          delivered.set(created.key.id, created.secret.reveal())
        },
        ...(run.failVerification ? { verify: () => false } : {}),
      }
      const attempt = (store: KeyStore): Promise<RotationResult | RotateKeysResult> =>
        run.batch
          ? rotateKeys(store, {
              ...options,
              batchId: 'property',
              keyIds,
              concurrency: run.concurrency,
            })
          : rotateKey(store, { ...options, keyId: olds[0]?.id as string, rotationId: 'property' })
      const finished = (outcome: unknown) =>
        !(outcome instanceof Error) &&
        (!('outcomes' in (outcome as object)) || (outcome as RotateKeysResult).failed === 0)

      for (const fault of run.faults) emulator.inject(fault)
      const outcomes: unknown[] = []
      let store = storeFor(emulator)
      let outcome: unknown = await attempt(store).catch((error: unknown) => error)
      outcomes.push(outcome)
      // An operator runs it again: after a crash as a new process with a new store.
      for (let rerun = 0; rerun < 6 && !finished(outcome); rerun++) {
        if (outcome instanceof Crash) {
          // A new process, started after the vendor finished whatever the old one had sent.
          await emulator.idle()
          store = storeFor(emulator)
        }
        outcome = await attempt(store).catch((error: unknown) => error)
        outcomes.push(outcome)
      }
      emulator.clearFaults()
      await emulator.idle()

      const done = [...records.values()].filter((record) => record.state === 'done')
      // Rotations that may have retired their old key: past delivery and verification.
      const retiring = [...records.values()].filter((record) =>
        ['verified', 'switched', 'done'].includes(record.state),
      )
      const secrets = [
        ...olds.map((key) => key.secret),
        bystander.secret,
        ...minted,
        ...Object.entries(emulator.settings)
          .filter(([field]) => field !== 'baseUrl' && field !== 'credentialKeyId')
          .map(([, value]) => value),
      ]

      // 1. No secret in the journal, a result, an outcome or an error.
      expect(findSecrets([...records.values()], secrets)).toEqual([])
      for (const item of outcomes) expect(findSecrets(item, secrets)).toEqual([])

      // 2. No key retired without a delivered successor; a working key for every old key.
      for (const old of olds) {
        if (emulator.control.works(old.secret)) continue
        const record = retiring.find((item) => item.oldKeyId === old.id)
        expect(record, `old key ${old.id} retired before its successor was verified`).toBeDefined()
        const secret = delivered.get(record?.newKeyId as string)
        expect(secret, `old key ${old.id} retired, successor not delivered`).toBeDefined()
        expect(emulator.control.works(secret as string)).toBe(true)
      }

      // 3. The successor's settable attributes equal the old key's.
      for (const record of done) {
        const expected = attributes.get(record.oldKeyId)
        const secret = delivered.get(record.newKeyId as string)
        if (expected === undefined || secret === undefined) continue
        expect(emulator.control.keyAttributes(secret)).toEqual(expected)
      }

      // 4. The store's credential works at the end.
      await expect(store.list()).resolves.toBeDefined()
      const credential = settingsCredential(emulator)
      if (credential !== undefined && !allowSelf)
        expect(emulator.control.works(credential)).toBe(true)

      // 5. Only keys the run made are ever deleted: every key gone since is a retired old key.
      const after = new Set(await activeIds(store))
      expect(emulator.control.works(bystander.secret)).toBe(true)
      for (const id of before) {
        if (after.has(id)) continue
        expect(
          retiring.some((record) => record.oldKeyId === id) && retire !== 'keep',
          `key ${id} was deleted or disabled but was not a retired old key`,
        ).toBe(true)
      }

      // 6. Every key the run left is named: a result, a warning, an error or the journal.
      const mentioned = [
        ...outcomes.map(named),
        ...[...records.values()].flatMap((record) => [record.newKeyId ?? '', ...record.warnings]),
      ].join(' ')
      for (const id of after) {
        if (!before.has(id)) expect(mentioned, `key ${id} left behind unnamed`).toContain(id)
      }

      // 7. A rerun of a finished batch (or rotation) sends no write.
      if (finished(outcome)) {
        const writes = () => emulator.requests.filter((request) => request.method !== 'GET').length
        const sent = writes()
        await attempt(store)
        expect(writes()).toBe(sent)
      }
    },
    { rateLimit: false },
  )
}

describe.each(vendors)('rotation at %s under random fault schedules (property)', (vendor) => {
  it(`keeps every promise (${RUNS} schedules)`, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (run) => runSchedule(vendor, run)),
      { numRuns: RUNS, endOnFailure: true, ...REPLAY },
    )
  }, 600_000)
})
