import { afterEach, describe, expect, it } from 'vitest'
import { EMULATOR_REGISTRY, startEmulator } from './start-emulator.js'
import type { Emulator, Vendor } from './types.js'

/** Every bundled vendor, with an id it could give, unlike any it gives on its own. */
const VENDORS = Object.keys(EMULATOR_REGISTRY) as Vendor[]
const CHOSEN = Object.fromEntries(
  VENDORS.map((vendor) => [vendor, EMULATOR_REGISTRY[vendor].idExample]),
) as Record<Vendor, string>

const started: Emulator[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((emulator) => emulator.close()))
})

describe('seeding a key with a chosen id', () => {
  it.each(VENDORS)(
    '%s: two accounts hold a key under one id, each with its own secret',
    async (vendor) => {
      const accounts = [
        await startEmulator(vendor, { seedKeys: 0 }),
        await startEmulator(vendor, { seedKeys: 0 }),
      ]
      started.push(...accounts)
      const [a, b] = accounts.map((emulator) => emulator.control.seedKey({ id: CHOSEN[vendor] }))
      expect(a?.id).toBe(CHOSEN[vendor])
      expect(b?.id).toBe(CHOSEN[vendor])
      for (const emulator of accounts) expect(emulator.control.keyIds()).toContain(CHOSEN[vendor])
      expect(accounts[0]?.control.works(a?.secret as string)).toBe(true)
      expect(accounts[1]?.control.works(b?.secret as string)).toBe(true)
      if (vendor !== 'notedx') {
        // NoteDx's id is its key: the same id is the same secret. Elsewhere each account's
        // key is its own.
        expect(a?.secret).not.toBe(b?.secret)
        expect(accounts[0]?.control.works(b?.secret as string)).toBe(false)
      }
      // A fresh key never takes the chosen id, and a taken id is refused.
      expect(accounts[0]?.control.seedKey().id).not.toBe(CHOSEN[vendor])
      expect(() => accounts[0]?.control.seedKey({ id: CHOSEN[vendor] })).toThrow(RangeError)
    },
  )
})
