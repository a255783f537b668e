// Each descriptor's leak rules against its vendor's emulator: a key's secret, and the part of it
// the vendor shows, find exactly that key; a secret of one vendor is sent to no other.
import { createHash } from 'node:crypto'
import { createFleet, findLeakedKeys, Secret } from '@keyway/core'
import { type Emulator, startEmulator, type Vendor } from '@keyway/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { descriptors, seedKey, storeFor } from './vendors.js'

// Every descriptor, those of vendors that cannot create keys too.
const vendors = Object.keys(descriptors) as Vendor[]

const started: Emulator[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((emulator) => emulator.close()))
})

async function every(): Promise<Emulator[]> {
  const emulators = await Promise.all(vendors.map((vendor) => startEmulator(vendor)))
  started.push(...emulators)
  return emulators
}

const fleetOf = (emulators: readonly Emulator[]) =>
  createFleet(emulators.map((emulator) => ({ label: emulator.vendor, store: storeFor(emulator) })))

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

describe.each(vendors)('the %s leak rules', (vendor) => {
  const descriptor = descriptors[vendor]

  it('find a seeded key by its whole secret, and send it to no other vendor', async () => {
    const emulators = await every()
    const own = emulators.find((emulator) => emulator.vendor === vendor) as Emulator
    for (const emulator of emulators) seedKey(emulator, 'neighbour')
    const leaked = seedKey(own, 'leaked')
    const shaped = (descriptor.secretPatterns ?? []).some((pattern) => pattern.test(leaked.secret))
    const counts = emulators.map((emulator) => emulator.requests.length)
    const search = await findLeakedKeys(
      fleetOf(emulators),
      { secret: new Secret(leaked.secret) },
      { vendors: Object.values(descriptors) },
    )
    // A vendor whose id does not derive from the secret and that shows none of it cannot be matched.
    const key = await storeFor(own).get(leaked.id)
    const findable =
      descriptor.leak?.keyIdOf !== undefined || descriptor.leak?.shown(key) !== undefined
    // Found by the id the secret gives where the vendor's id derives from it, else by the hint.
    const by = descriptor.leak?.keyIdOf === undefined ? 'hint' : 'key-id'
    expect(search.matches.map((match) => [match.label, match.key.id, match.by])).toEqual(
      findable ? [[vendor, leaked.id, by]] : [],
    )
    for (const [index, emulator] of emulators.entries()) {
      const sent = emulator.requests.slice(counts[index])
      // Where the secret has its vendor's shape, no other vendor is even asked.
      if (shaped && emulator.vendor !== vendor) expect(sent, emulator.vendor).toEqual([])
      for (const request of sent) {
        if (emulator.vendor !== vendor)
          expect(request.credentialDigest).not.toBe(sha256(leaked.secret))
        expect(JSON.stringify([request.path, request.body ?? null])).not.toContain(leaked.secret)
      }
    }
  })

  it('find a seeded key by the part of its secret the vendor shows', async () => {
    const emulator = await startEmulator(vendor)
    started.push(emulator)
    const leaked = seedKey(emulator, 'leaked')
    const store = storeFor(emulator)
    const key = await store.get(leaked.id)
    const shown = descriptor.leak?.shown(key)
    // Voiceable shows a key's value only in the create's answer.
    if (shown === undefined) return expect(vendor).toBe('voiceable')
    const { start = '', end = '' } = shown ?? {}
    if (start !== '') expect(leaked.secret.startsWith(start)).toBe(true)
    if (end !== '') expect(leaked.secret.endsWith(end)).toBe(true)
    const hint = `${start}…${end}`
    const search = await findLeakedKeys(
      createFleet([{ label: vendor, store }]),
      { hint },
      { vendors: Object.values(descriptors) },
    )
    expect(search.matches.map((match) => match.key.id)).toContain(leaked.id)
  })
})
