import { type KeyStore, ValidationError } from '@keyway/core'
import { findSecrets, MALFORMED_IDS, settingSecrets } from '@keyway/testkit/conformance'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineKeywayRotations, type KeywayRotations } from '../src/index.js'
import { type Fleet, startFleet, storeOf, testSealingKey, VENDORS } from './fleet.js'

// Refused before a workflow starts: its id (which holds the key id) never reaches DBOS's
// records, and DBOS is not even launched. The pool never connects.
describe('enqueue refuses, by each store’s own rules, before anything is sent or recorded', () => {
  let fleet: Fleet
  let rotations: KeywayRotations
  /** Per vendor: the store's credential settings and a secret it minted. */
  const secrets = new Map<string, string[]>()

  beforeAll(async () => {
    fleet = await startFleet({ seedKeys: 1, rateLimit: false })
    const stores: Record<string, { store: KeyStore }> = {}
    for (const vendor of VENDORS) {
      const store = storeOf(fleet, vendor)
      const name = store.capabilities.names ? { name: 'enqueue-refusal' } : {}
      const created = await store.create(name as never)
      secrets.set(vendor, [...settingSecrets(fleet[vendor].settings), created.secret.reveal()])
      stores[vendor] = { store }
    }
    rotations = defineKeywayRotations({
      databaseUrl: 'postgresql://127.0.0.1:1/unused',
      sealingKey: testSealingKey(),
      stores,
      deliver: () => {},
      takeover: false,
    })
  })

  /** What enqueue and enqueueBatch throw for `keyId` at `label`, each a `ValidationError`. */
  async function refusals(label: string, keyId: string): Promise<ValidationError[]> {
    const errors: ValidationError[] = []
    const acts: Array<() => Promise<unknown>> = [
      () => rotations.enqueue('nightly', label, keyId),
      () => rotations.enqueueBatch('nightly', label, [keyId]),
    ]
    for (const act of acts) {
      const error = await Promise.resolve()
        .then(act)
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        )
      expect(error).toBeInstanceOf(ValidationError)
      errors.push(error as ValidationError)
    }
    return errors
  }

  afterAll(async () => {
    await rotations?.close()
    await Promise.all(VENDORS.map((vendor) => fleet?.[vendor].close()))
  })

  it("an id holding another store's secret, in the shape of this store's ids, is refused", async () => {
    // A Latitude.sh id is tok_ and 13 letters or digits: 13 hex of another vendor's key fit.
    const others = VENDORS.filter((vendor) => vendor !== 'latitudesh')
    const before = fleet.latitudesh.requests.length
    expect.assertions(others.length * 2 * 3 + 1)
    for (const vendor of others) {
      const minted = secrets.get(vendor)?.at(-1) as string
      const keyId = `tok_${(/[0-9a-f]{13,}/.exec(minted)?.[0] ?? '').slice(0, 13)}`
      for (const error of await refusals('latitudesh', keyId)) {
        expect(error.issues).toEqual([
          { path: 'id', message: 'holds a secret (a credential or a key), not a key id' },
        ])
        expect(findSecrets(error, [keyId])).toEqual([])
      }
    }
    expect(fleet.latitudesh.requests.slice(before)).toEqual([])
  })

  for (const vendor of VENDORS) {
    it(`${vendor}: an id that is a secret or malformed is a ValidationError, no request, no secret`, async () => {
      const known = secrets.get(vendor) ?? []
      expect(known.length).toBeGreaterThanOrEqual(2)
      const before = fleet[vendor].requests.length
      let refused = 0
      for (const keyId of [...known, ...MALFORMED_IDS]) {
        for (const error of await refusals(vendor, keyId)) {
          expect(error.provider).toBe(vendor)
          expect(findSecrets(error, known)).toEqual([])
          refused++
        }
      }
      expect(refused).toBe(2 * (known.length + MALFORMED_IDS.length))
      expect(fleet[vendor].requests.slice(before)).toEqual([])
    })
  }
})
