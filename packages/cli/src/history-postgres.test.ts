// `keyway history --database-url` reads the history @keyway/dbos workers keep in Postgres,
// with the same filters and output as the local file. The cluster is the one the DBOS tests use.
import type { HistoryEntry } from '@keyway/core'
import { ensureKeywayTables, postgresHistory } from '@keyway/dbos'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPostgres, type TestPostgres } from '../../dbos/test/embedded-postgres.js'
import { keyway } from './cli.test-support.js'
import type { ShownChange } from './commands/history.js'

let cluster: TestPostgres | undefined
let url = ''

beforeAll(async () => {
  cluster = await startTestPostgres()
  url = await cluster.url('history_cli')
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  try {
    await ensureKeywayTables(pool)
    const sink = postgresHistory(pool)
    const entry = (fields: Partial<HistoryEntry>): HistoryEntry => ({
      change: 'c-1',
      phase: 'attempt',
      at: '2026-12-01T03:00:00.000Z',
      action: 'create',
      provider: 'openrouter',
      store: 'openrouter-prod',
      account: null,
      keyId: null,
      target: null,
      batchId: 'sched~20261201T0300Z',
      rotationId: 'keyway-rotate/sched/openrouter-prod/old-key',
      step: 'create',
      actor: { worker: 'worker-a' },
      ...fields,
    })
    await sink.append(entry({}))
    await sink.append(entry({ phase: 'outcome', outcome: 'succeeded', keyId: 'new-key' }))
    await sink.append(entry({ change: 'c-2', action: 'delete', keyId: 'old-key', step: 'retire' }))
    await sink.append(
      entry({
        change: 'c-2',
        phase: 'outcome',
        action: 'delete',
        keyId: 'old-key',
        step: 'retire',
        outcome: 'failed',
        errorCode: 'rate_limited',
      }),
    )
  } finally {
    await pool.end()
  }
}, 180_000)

afterAll(async () => {
  await cluster?.stop()
})

describe('keyway history --database-url', () => {
  it('shows the workers’ changes from the history table, filtered as the file is', async () => {
    const all = await keyway(['history', '--json', '--database-url', url])
    expect(all.stderr).toBe('')
    const changes = JSON.parse(all.stdout) as ShownChange[]
    expect(
      changes.map((change) => [change.action, change.keyId, change.outcome, change.errorCode]),
    ).toEqual([
      ['create', 'new-key', 'succeeded', null],
      ['delete', 'old-key', 'failed', 'rate_limited'],
    ])
    expect(changes[0]?.actor).toEqual({ worker: 'worker-a' })
    const failed = await keyway(['history', '--json', '--outcome', 'failed'], {
      KEYWAY_DATABASE_URL: url,
    })
    expect((JSON.parse(failed.stdout) as ShownChange[]).map((change) => change.action)).toEqual([
      'delete',
    ])
    const table = await keyway(['history', '--database-url', url], {
      KEYWAY_FORCE_TTY: '1',
      NO_COLOR: '1',
    })
    expect(table.stdout).toMatch(/delete\s+openrouter-prod\s+old-key .*failed \(rate_limited\)/)
  })

  it('says what failed, never the URL, when the database cannot be read', async () => {
    const missing = await keyway([
      'history',
      '--database-url',
      url.replace(/\/history_cli$/, '/nothing_here'),
    ])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('HistoryUnreadable')
    const password = new URL(url).password
    expect(password).not.toBe('')
    expect(missing.stderr).not.toContain(password)
    const unreachable = await keyway([
      'history',
      '--database-url',
      'postgresql://keyway:hunter2-secret@127.0.0.1:9/x',
    ])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain('the history table could not be read')
    expect(unreachable.stderr).not.toContain('hunter2-secret')
  })
})
