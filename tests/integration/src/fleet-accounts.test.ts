import { createFleet, memoryJournal, SameAccountError, ValidationError } from '@keyway/core'
import { createLatitudeKeyStore } from '@keyway/latitudesh'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { type Emulator, startEmulator } from '@keyway/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'

let emulators: Emulator[] = []
afterEach(async () => {
  vi.unstubAllEnvs()
  await Promise.all(emulators.map((emulator) => emulator.close()))
  emulators = []
})

async function start(vendor: 'openrouter' | 'latitudesh'): Promise<Emulator> {
  const emulator = await startEmulator(vendor, { seedKeys: 2 })
  emulators.push(emulator)
  return emulator
}

describe("the README's library fleet example", () => {
  it('throws a ValidationError naming the setting when its env var is not set, instead of reaching OPENROUTER_MANAGEMENT_KEY', async () => {
    const fallback = await start('openrouter')
    // The vendor's default env var holds another account's key; the fleet's own are unset.
    vi.stubEnv('OPENROUTER_MANAGEMENT_KEY', String(fallback.settings.managementKey))
    vi.stubEnv('OPENROUTER_BASE_URL', String(fallback.settings.baseUrl))
    vi.stubEnv('OPENROUTER_PROD_KEY', undefined)
    expect.assertions(5)
    try {
      createFleet([
        {
          label: 'openrouter-prod',
          store: createOpenRouterKeyStore({ managementKey: process.env.OPENROUTER_PROD_KEY }),
        },
        {
          label: 'openrouter-team',
          store: createOpenRouterKeyStore({ managementKey: process.env.OPENROUTER_TEAM_KEY }),
        },
      ])
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).message).toBe(
        'openrouter: managementKey was given as undefined; pass a value, or leave `managementKey` out to read OPENROUTER_MANAGEMENT_KEY (an env var that is not set?)',
      )
      expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
        'managementKey',
      ])
      expect(JSON.stringify(error)).not.toContain(String(fallback.settings.managementKey))
    }
    expect(fallback.requests).toEqual([])
  })
})

describe('two stores of one fleet that reach one account', () => {
  it('are refused before any request, naming both labels', async () => {
    const emulator = await start('latitudesh')
    const settings = {
      baseUrl: String(emulator.settings.baseUrl),
      token: String(emulator.settings.token),
    }
    const fleet = createFleet([
      { label: 'latitude', store: createLatitudeKeyStore(settings) },
      {
        label: 'latitude-again',
        store: createLatitudeKeyStore({ ...settings, baseUrl: `${settings.baseUrl}/` }),
      },
    ])
    const policy = { maxAgeDays: 1 }
    await expect(fleet.plan(policy)).rejects.toThrow(SameAccountError)
    const refused = fleet.rotate({
      policy,
      journal: memoryJournal(),
      deliver: () => {},
    })
    await expect(refused).rejects.toMatchObject({
      code: 'same_account',
      labels: ['latitude', 'latitude-again'],
    })
    expect(emulator.requests.filter((request) => request.method !== 'GET')).toEqual([])
    expect(emulator.requests).toEqual([])
  })

  it('are rotated when their exact key lists are disjoint', async () => {
    const emulator = await start('latitudesh')
    const settings = {
      baseUrl: String(emulator.settings.baseUrl),
      token: String(emulator.settings.token),
    }
    const [first, second] = (await createLatitudeKeyStore(settings).list())
      .filter((key) => key.name?.startsWith('seed-key'))
      .map((key) => key.id)
    const fleet = createFleet([
      { label: 'one', store: createLatitudeKeyStore(settings) },
      { label: 'two', store: createLatitudeKeyStore(settings) },
    ])
    const result = await fleet.rotate({
      keyIds: { one: [first as string], two: [second as string] },
      journal: memoryJournal(),
      deliver: () => {},
    })
    expect(result).toMatchObject({ rotated: 2, failed: 0 })
  })
})
