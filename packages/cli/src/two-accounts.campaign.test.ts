// A fault campaign over the CLI's journal-based resume: per seed, a random set of vendors
// with two accounts each, random key id collisions, a random label layout and store order,
// random concurrency and a random delivery after which keyway is killed. Each case is fixed by
// its seed; what must hold is the same for all: no secret crosses to another account, every
// due key is rotated exactly once, nothing else is touched.
import type { Vendor } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { configOf, envOf, useAccounts, VENDORS } from './two-accounts.test-support.js'

/** mulberry32: a small seeded generator, so each case is the same on every run. */
function generator(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Label layouts an operator might use, some where one label starts with another. */
const LAYOUTS: ReadonlyArray<(vendor: Vendor, side: 0 | 1) => string> = [
  (vendor, side) => `${vendor}-${side === 0 ? 'a' : 'b'}`,
  (vendor, side) => `${side === 0 ? 'prod' : 'staging'}-${vendor}`,
  (vendor, side) => (side === 0 ? vendor : `${vendor}-eu`),
  (vendor, side) => (side === 0 ? `eu-${vendor}` : `eu-${vendor}-2`),
]

const SEEDS = Array.from({ length: 24 }, (_, index) => 1_000 + index * 7_919)

const { start, writeConfig, writeDeliveryScript, expectNoCrossing, keyway } =
  useAccounts('keyway-campaign-')

describe('fault campaign: two accounts per vendor, a kill mid-batch, a resume', () => {
  it.each(SEEDS)('seed %i: no crossing', async (seed) => {
    const random = generator(seed)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
    const vendors = [...VENDORS]
      .map((vendor) => ({ vendor, order: random() }))
      .sort((a, b) => a.order - b.order)
      .slice(0, 1 + Math.floor(random() * 3))
      .map((entry) => entry.vendor)
    const layout = pick(LAYOUTS)
    const keys = 1 + Math.floor(random() * 3)
    const collisions = new Map(
      vendors.flatMap((vendor) =>
        Array.from({ length: keys }, (_, index) => [`${vendor}:${index}`, random() < 0.75]),
      ),
    )
    const accounts = await start({
      vendors,
      labels: layout,
      keys,
      collide: (vendor, index) => collisions.get(`${vendor}:${index}`) === true,
    })
    const ordered = accounts
      .map((account) => ({ account, order: random() }))
      .sort((a, b) => a.order - b.order)
      .map((entry) => entry.account)
    const concurrency = new Map(ordered.map((account) => [account, 1 + Math.floor(random() * 3)]))
    const total = accounts.length * keys
    const killAfter = 1 + Math.floor(random() * total)

    const env = envOf(accounts)
    await writeConfig(configOf(ordered, (account) => concurrency.get(account) ?? 1))
    await writeDeliveryScript(killAfter)
    const where = `seed ${seed}: ${ordered.map((account) => account.label).join(', ')}, ${keys} keys each, killed after delivery ${killAfter} of ${total}`

    await keyway(['apply', '--yes', '--batch-id', 'campaign'], env)
    const resumed = await keyway(['apply', '--yes', '--batch-id', 'campaign', '--json'], env)
    expect(resumed.code, `${where}\n${resumed.stderr}`).toBe(0)
    expect(JSON.parse(resumed.stdout), where).toMatchObject({ failed: 0 })
    await expectNoCrossing()
  })
})
