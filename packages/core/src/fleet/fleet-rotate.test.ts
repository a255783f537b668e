import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { listingStore } from '../credential-store.test-support.js'
import { ValidationError } from '../errors.js'
import { memoryJournal } from '../rotation/rotation-journal.js'
import { apiKey } from './api-key.test-support.js'
import { createFleet } from './create-fleet.js'

const CREDENTIALS = {
  prod: 'prod-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6',
  staging: 'staging-0f9e8d7c6b5a493827160f9e8d7c6b5a',
}

/** A store of one vendor that knows its own credential only, recording what it is asked. */
function storeOf(label: keyof typeof CREDENTIALS, calls: string[]) {
  return listingStore({
    secrets: [CREDENTIALS[label]],
    keys: [apiKey({ provider: 'vendor', id: `${label}_key`, name: label })],
    ownKeyIds: [`${label}_key`],
    onList: () => calls.push(`${label} list`),
  })
}

describe('fleet rotate', () => {
  for (const dryRun of [false, true]) {
    it(`refuses, sending nothing, an id that is another store's credential or part of it${dryRun ? ' (dry run)' : ''}`, async () => {
      const calls: string[] = []
      const fleet = createFleet([
        { label: 'prod', store: storeOf('prod', calls) },
        { label: 'staging', store: storeOf('staging', calls) },
      ])
      for (const id of [CREDENTIALS.prod, CREDENTIALS.prod.slice('prod-'.length)]) {
        const error = await fleet
          .rotate({
            journal: memoryJournal(),
            deliver: () => {},
            keyIds: { staging: [id] },
            dryRun,
          })
          .then(
            () => undefined,
            (thrown: unknown) => thrown,
          )
        expect(error).toBeInstanceOf(ValidationError)
        expect((error as ValidationError).issues).toEqual([
          {
            path: 'keyIds.staging.0',
            message: 'holds a secret (a credential or a key), not a key id',
          },
        ])
        const views = [JSON.stringify(error), inspect(error, { depth: null, showHidden: true })]
        for (const view of views) expect(view).not.toContain(id)
      }
      expect(calls).toEqual([])
    })
  }
})
