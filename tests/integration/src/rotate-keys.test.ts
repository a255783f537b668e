import { type RotateKeysProgress, rotateKeys } from '@keyway/core'
import { findSecrets } from '@keyway/testkit/conformance'
import { describe, expect, it } from 'vitest'
import { crashingJournal } from './crash-journal.js'
import { activeIds, seedKey, storeFor, withEmulator } from './vendors.js'

const clock = { now: 0 }

describe('rotateKeys', () => {
  it('rotates 30 Latitude keys under its real rate limits (time-scaled) with no RateLimitError', () =>
    // 60 reads and 20 writes a minute per key; the minute lasts 600 ms here, and it passes
    // only while the store waits out a 429, so the limit is met however slow the machine is.
    withEmulator(
      'latitudesh',
      async (emulator) => {
        let waits = 0
        const store = storeFor(
          emulator,
          { baseDelayMs: 50 },
          {
            hooks: {
              retry: (event) => {
                if (event.reason !== 'rate_limited') return
                waits++
                clock.now += event.delayMs
              },
            },
          },
        )
        const seeded = Array.from({ length: 30 }, (_, index) => seedKey(emulator, `batch-${index}`))
        const progress: RotateKeysProgress[] = []
        const delivered: string[] = []
        const result = await rotateKeys(store, {
          filter: (key) => key.name?.startsWith('batch-') ?? false,
          deliver: (created) => void delivered.push(created.secret.reveal()),
          onProgress: (event) => progress.push(event),
          verifyIntervalMs: 50,
        })
        expect(result.failed).toBe(0)
        expect(result.rotated).toBe(30)
        expect(progress.flatMap((event) => (event.kind === 'key' ? [event.done] : []))).toEqual(
          Array.from({ length: 30 }, (_, index) => index + 1),
        )
        expect(seeded.every((key) => !emulator.control.works(key.secret))).toBe(true)
        expect(delivered.every((secret) => emulator.control.works(secret))).toBe(true)
        // The vendor did push back, and the store waited it out every time.
        expect(waits).toBeGreaterThan(0)
        expect(findSecrets(progress, [...delivered, ...seeded.map((key) => key.secret)])).toEqual(
          [],
        )
      },
      { timeScale: 0.01, now: () => clock.now },
    ))

  it('skips the store’s own key, carries on past failures, and resumes a batch', () =>
    withEmulator('latitudesh', async (emulator) => {
      const store = storeFor(emulator)
      const keys = [seedKey(emulator, 'a'), seedKey(emulator, 'b'), seedKey(emulator, 'c')]
      const [own] = (await store.credentialKeyIds?.()) ?? []
      let deliveries = 0
      const { journal } = crashingJournal()
      const first = await rotateKeys(store, {
        keyIds: [own as string, ...keys.map((key) => key.id)],
        batchId: 'nightly',
        journal,
        concurrency: 1,
        verifyIntervalMs: 5,
        deliver: () => {
          deliveries++
          if (deliveries === 2) throw new Error('vault unavailable')
        },
      })
      expect(first.outcomes.map((outcome) => [outcome.keyId, outcome.status])).toEqual([
        [own, 'skipped'],
        [keys[0]?.id, 'rotated'],
        [keys[1]?.id, 'failed'],
        [keys[2]?.id, 'rotated'],
      ])
      const failed = first.outcomes[2]
      expect(failed?.status === 'failed' && failed.error).toMatchObject({
        step: 'deliver',
        rolledBack: true,
      })
      expect(emulator.control.works(keys[1]?.secret as string)).toBe(true)

      // Running the batch again finishes the failed key and leaves the others alone.
      const before = await activeIds(store)
      const second = await rotateKeys(store, {
        batchId: 'nightly',
        resume: true,
        journal,
        verifyIntervalMs: 5,
        deliver: () => {},
      })
      expect(second.outcomes.map((outcome) => [outcome.keyId, outcome.status])).toEqual([
        [own, 'skipped'],
        [keys[0]?.id, 'rotated'],
        [keys[1]?.id, 'rotated'],
        [keys[2]?.id, 'rotated'],
      ])
      expect(
        second.outcomes.filter((outcome) => outcome.status === 'rotated' && outcome.result.resumed),
      ).toHaveLength(3)
      expect(emulator.control.works(keys[1]?.secret as string)).toBe(false)
      expect((await activeIds(store)).length).toBe(before.length)
    }))
})
