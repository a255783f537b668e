import { type KeyStore, openRotation } from '@keyway/core'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { startEmulator } from '@keyway/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureKeywayTables, postgresJournal } from '../src/index.js'
import { startTestPostgres, type TestPostgres } from './embedded-postgres.js'
import { activeIds, rotatableIds, writesAt } from './fleet.js'

let postgres: TestPostgres
let pool: pg.Pool

beforeAll(async () => {
  postgres = await startTestPostgres()
  pool = new pg.Pool({ connectionString: await postgres.url('journal'), max: 4 })
  // The cluster stops at the end while idle connections may still be closing.
  pool.on('error', () => {})
  await ensureKeywayTables(pool)
}, 120_000)

afterAll(async () => {
  await pool?.end()
  await postgres?.stop()
})

describe('a rotation held by two workers', () => {
  it('goes on with the one that moved it on: the stale one sends nothing and changes no record', async () => {
    const openrouter = await startEmulator('openrouter', { seedKeys: 1, rateLimit: false })
    try {
      const store = createOpenRouterKeyStore(openrouter.settings) as unknown as KeyStore
      const [keyId] = await rotatableIds(store)
      const journal = postgresJournal(pool)
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
