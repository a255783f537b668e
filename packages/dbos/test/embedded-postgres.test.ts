import { describe, expect, it } from 'vitest'
import { startTestPostgres } from './embedded-postgres.js'

describe('the test cluster', () => {
  it('starts, hands out databases, and stops', async () => {
    const postgres = await startTestPostgres()
    try {
      expect(await postgres.url('first')).toMatch(
        /^postgresql:\/\/postgres:.+@127\.0\.0\.1:\d+\/first$/,
      )
    } finally {
      await postgres.stop()
    }
  })

  it("fails at once with Postgres's own words when Postgres cannot start", async () => {
    await expect(startTestPostgres({ settings: { max_connections: 'many' } })).rejects.toThrow(
      /Postgres ended before it was ready[\s\S]*invalid value for parameter "max_connections": "many"/,
    )
  })
})
