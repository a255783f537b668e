import { openRotation } from '@keyway/core/adapter'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { startEmulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { postgresJournal } from '../src/index.js'
import { usePostgres } from './embedded-postgres.js'
import { activeIds, rotatableIds, writesAt } from './fleet.js'
import { useKeywayPool } from './harness.js'

const pool = useKeywayPool(usePostgres(), 'journal', 4)

describe('a rotation held by two workers', () => {
  it('goes on with the one that moved it on: the stale one sends nothing and changes no record', async () => {
    const openrouter = await startEmulator('openrouter', { seedKeys: 1, rateLimit: false })
    try {
      const store = createOpenRouterKeyStore(openrouter.settings)
      const [keyId] = await rotatableIds(store)
      const journal = postgresJournal(pool())
      const delivered: string[] = []
      const options = {
        keyId: keyId as string,
        rotationId: 'keyway-rotate/nightly/openrouter/stale',
        journal,
        deliver: (created: { key: { id: string } }) => void delivered.push(created.key.id),
      }
      // Worker A opened the rotation, then stalled (its event loop blocked, its machine
      // paused) long enough for worker B to pick the rotation up and create the new key.
      const stale = await openRotation(store, options)
      const fresh = await openRotation(store, options)
      expect([stale.next, fresh.next]).toEqual(['create', 'create'])
      await fresh.runNext()
      const recorded = await journal.read(options.rotationId)
      expect(recorded?.state).toBe('created')
      // A comes back and goes on where it was: it must not create a second key.
      await expect(stale.runNext()).rejects.toThrow(/moved on/)
      expect(writesAt(openrouter).creates).toBe(1)
      expect(await journal.read(options.rotationId)).toEqual(recorded)
      while (fresh.next !== null) await fresh.runNext()
      const { newKeyId } = fresh.result()
      expect(delivered).toEqual([newKeyId])
      expect(await activeIds(store)).toEqual([newKeyId])
    } finally {
      await openrouter.close()
    }
  })
})
