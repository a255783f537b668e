import { ValidationError } from '@keyway/core'
import { descriptorEnv } from '@keyway/core/adapter'
import type { Vendor } from '@keyway/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { descriptors, withEmulator } from './vendors.js'

const saved = { ...process.env }
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
  Object.assign(process.env, saved)
})

/** Every env var any descriptor names, so none leaks in from the machine running the tests. */
const clearVendorEnv = () => {
  for (const descriptor of Object.values(descriptors))
    for (const name of Object.values(descriptorEnv(descriptor))) delete process.env[name]
}

// Every descriptor, those of vendors that cannot create keys too.
describe.each(Object.keys(descriptors) as Vendor[])('the %s descriptor', (vendor) => {
  const descriptor = descriptors[vendor]

  it('names the vendor its stores report', () => {
    expect(descriptor.id).toBe(vendor)
  })

  it('names the env vars its factory reads: a store built from them alone works', async () => {
    await withEmulator(vendor, async (emulator) => {
      clearVendorEnv()
      const env = descriptorEnv(descriptor)
      for (const [setting, value] of Object.entries(emulator.settings)) {
        const name = env[setting]
        expect(name, `env var of ${setting}`).toBeDefined()
        process.env[name as string] = String(value)
      }
      const store = descriptor.create()
      expect(store.provider).toBe(vendor)
      expect((await store.list()).length).toBeGreaterThan(0)
      expect(emulator.requests.length).toBeGreaterThan(0)
    })
  })

  it('names every credential env var in the error when none is set', () => {
    clearVendorEnv()
    expect.assertions(descriptor.credentials.length + 1)
    try {
      descriptor.create()
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      for (const way of descriptor.credentials)
        expect((error as Error).message).toContain(Object.values(way)[0])
    }
  })
})
