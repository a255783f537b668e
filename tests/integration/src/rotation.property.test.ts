import {
  AmbiguousCreateError,
  type CreatedKey,
  RotationError,
  type RotationState,
  rotateKey,
} from '@keyway/core'
import type { Emulator, Fault } from '@keyway/testkit'
import { findSecrets } from '@keyway/testkit/conformance'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Crash, crashingJournal } from './crash-journal.js'
import { activeIds, seedKey, storeFor, vendors, withEmulator } from './vendors.js'

/** Runs in the test command; raise it locally with KEYWAY_PROPERTY_RUNS. */
const RUNS = Number(process.env.KEYWAY_PROPERTY_RUNS ?? 200)

const faultArbitrary: fc.Arbitrary<Fault> = fc
  .record({
    match: fc.record({ method: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE') }),
    times: fc.integer({ min: 1, max: 3 }),
    kind: fc.constantFrom('500', '503', '429', 'drop-before', 'drop-after', 'malformed'),
  })
  .map(({ match, times, kind }) => {
    if (kind === 'drop-before' || kind === 'drop-after')
      return { match, times, drop: kind === 'drop-before' ? 'before' : 'after' }
    if (kind === 'malformed') return { match, times: 1, malformed: true }
    return { match, times, status: Number(kind), ...(kind === '429' ? { retryAfter: 0 } : {}) }
  })

const states: RotationState[] = ['started', 'creating', 'created', 'delivered', 'verified', 'done']

const scenario = fc.record({
  vendor: fc.constantFrom(...vendors),
  faults: fc.array(faultArbitrary, { maxLength: 3 }),
  deliveryFails: fc.boolean(),
  verificationFails: fc.boolean(),
  crash: fc.option(
    fc.record({
      state: fc.constantFrom(...states),
      when: fc.constantFrom('before' as const, 'after' as const),
    }),
    {
      nil: undefined,
    },
  ),
})

/** Ids a failure names: an ambiguous create's candidates, or ids spelt out in the message chain. */
function namedIn(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    parts.push(current.message)
    if (current instanceof AmbiguousCreateError) parts.push(...current.candidateIds)
    current = current.cause
  }
  return parts.join(' ')
}

describe('rotation under random faults (property)', () => {
  it(`keeps a working key, leaves no unnamed key and leaks no secret (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (run) =>
        withEmulator(run.vendor, async (emulator: Emulator) => {
          const old = seedKey(emulator)
          const before = new Set(await activeIds(storeFor(emulator)))
          const { journal, records } = crashingJournal(run.crash)
          const delivered: string[] = []
          const minted: string[] = []
          let deliveries = 0
          const options = {
            keyId: old.id,
            rotationId: 'property-run',
            journal,
            verifyAttempts: 2,
            verifyIntervalMs: 1,
            deliver: (created: CreatedKey) => {
              minted.push(created.secret.reveal())
              deliveries++
              if (run.deliveryFails && deliveries === 1)
                throw new Error(`could not store ${created.secret.reveal()}`)
              delivered.push(created.secret.reveal())
            },
            ...(run.verificationFails ? { verify: () => false } : {}),
          }
          for (const fault of run.faults) emulator.inject(fault)

          const outcomes: unknown[] = []
          let result = await rotateKey(storeFor(emulator), options).catch((error: unknown) => error)
          outcomes.push(result)
          // A crash, or a rotation that stopped early and says so, is followed by a new
          // process running the same rotation again, as an operator would.
          const unfinished = (outcome: unknown) =>
            outcome instanceof Crash ||
            (outcome instanceof RotationError && outcome.step === 'resume')
          for (let resume = 0; resume < 3 && unfinished(result); resume++) {
            result = await rotateKey(storeFor(emulator), options).catch((error: unknown) => error)
            outcomes.push(result)
          }

          // Faults not yet played must not disturb the checks.
          emulator.clearFaults()
          const secrets = [old.secret, ...minted, ...Object.values(emulator.settings)]
          // 1. A working key: the old one, or a new one that was delivered.
          const oldWorks = emulator.control.works(old.secret)
          const deliveredWorks = delivered.some((secret) => emulator.control.works(secret))
          expect(oldWorks || deliveredWorks).toBe(true)
          // 2. No key at the vendor that the result or the error does not name.
          const added = (await activeIds(storeFor(emulator))).filter((id) => !before.has(id))
          const named =
            result instanceof Error ? namedIn(result) : (result as { newKeyId: string }).newKeyId
          for (const id of added) expect(named).toContain(id)
          // 3. No secret in the journal, the result or any error.
          expect(findSecrets([...records.values()], secrets)).toEqual([])
          // A result holds its secret in a Secret, which prints masked.
          for (const outcome of outcomes) expect(findSecrets(outcome, secrets)).toEqual([])
        }),
      ),
      { numRuns: RUNS, endOnFailure: false },
    )
    // Each run is bounded; the limit only catches a hang, however busy the machine is.
  }, 600_000)
})
