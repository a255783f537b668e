import { describe, expect, it } from 'vitest'
import { usePostgres } from './embedded-postgres.js'
import { withOneKey } from './harness.js'

const postgres = usePostgres()

describe('a vendor failure part way through a rotation', () => {
  it('is retried from the journal: the rotation finishes instead of ending with both keys live', async () => {
    await withOneKey(postgres, 'transient', async ({ setup, stores, keyId, workers, rotate }) => {
      // Retiring the old key fails for longer than the store's own retries last.
      setup.fleet.openrouter.inject({ match: { method: 'DELETE' }, status: 503, times: 4 })
      const run = await rotate(await workers.start('worker-a', { stores }), 'nightly')
      const newKeyId = await setup.expectReplacedBy(run)
      expect(await setup.deliveriesFor(keyId)).toEqual([
        { new_key_id: newKeyId, executor: 'worker-a' },
      ])
      // The retire checkpoint was run again, reopening the rotation from the journal.
      expect(await setup.trail(run?.workflowID as string)).toEqual([
        { name: 'open', ran: 'open' },
        { name: 'create', ran: 'create' },
        { name: 'deliver', ran: 'deliver' },
        { name: 'verify', ran: 'verify' },
        { name: 'retire', ran: 'retire*' },
      ])
    })
  }, 120_000)
})
