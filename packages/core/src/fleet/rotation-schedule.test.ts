import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import type { HistoryEntry } from '../history/history-entry.js'
import { MemoryKeyStore } from '../rotation/memory-key-store.test-support.js'
import { memoryJournal } from '../rotation/rotation-journal.js'
import { attachFingerprint, storeFingerprint } from '../store-fingerprint.js'
import { apiKey } from './api-key.test-support.js'
import { createFleet } from './create-fleet.js'
import {
  dueKeys,
  type RotationSchedule,
  rotationHistory,
  rotationScheduleSchema,
  scheduledKeys,
  scheduleState,
} from './rotation-schedule.js'

const at = (iso: string) => new Date(iso)
const MINUTE = 60_000
const DAY = 86_400_000

function state(
  schedule: RotationSchedule,
  createdAt: string,
  now: string,
  history = rotationHistory([]),
) {
  return scheduleState(apiKey({ createdAt: at(createdAt) }), schedule, {
    now: at(now),
    label: 'prod',
    history,
  })
}

function outcome(fields: Partial<HistoryEntry>): HistoryEntry {
  return {
    change: 'c1',
    phase: 'outcome',
    at: '2026-05-20T10:00:00.000Z',
    action: 'regenerate',
    provider: 'latitudesh',
    store: 'prod',
    account: null,
    keyId: 'key-1',
    target: null,
    batchId: null,
    rotationId: null,
    step: null,
    outcome: 'succeeded',
    actor: { worker: 'w1' },
    ...fields,
  }
}

describe('a schedule’s due-ness', () => {
  const monthly = { every: '30d', at: '03:00Z' }

  it('is due from the start of the window its interval ends in, and only inside windows', () => {
    // Rotated 40 s into a window: the next one is due at that window's start 30 days on.
    const made = '2026-05-01T03:00:40Z'
    expect(state(monthly, made, '2026-05-31T02:59:00Z')).toMatchObject({
      due: false,
      dueAt: at('2026-05-31T03:00:00Z'),
      nextRun: at('2026-05-31T03:00:00Z'),
      lastRotated: at(made),
      lastRotatedFrom: 'created',
    })
    expect(state(monthly, made, '2026-05-31T03:00:00Z').due).toBe(true)
    expect(state(monthly, made, '2026-05-31T04:59:00Z').due).toBe(true)
    // The window closed with the key unrotated: it waits for the next one.
    expect(state(monthly, made, '2026-05-31T05:00:00Z')).toMatchObject({
      due: false,
      dueAt: at('2026-05-31T03:00:00Z'),
      nextRun: at('2026-06-01T03:00:00Z'),
    })
    expect(state(monthly, made, '2026-06-01T03:30:00Z').due).toBe(true)
  })

  it('moves a key made outside any window to the next window after its interval', () => {
    expect(state(monthly, '2026-05-01T12:00:00Z', '2026-05-31T12:00:00Z')).toMatchObject({
      due: false,
      dueAt: at('2026-06-01T03:00:00Z'),
    })
  })

  it('reads a zone offset and a window across midnight', () => {
    const late = { every: '1d', at: '00:30+01:00', window: '90m' }
    // 00:30+01:00 is 23:30 UTC; the window runs to 01:00 UTC.
    expect(state(late, '2026-05-01T23:31:00Z', '2026-05-02T23:29:00Z').due).toBe(false)
    expect(state(late, '2026-05-01T23:31:00Z', '2026-05-03T00:59:00Z').due).toBe(true)
    expect(state(late, '2026-05-01T23:31:00Z', '2026-05-03T01:00:00Z').due).toBe(false)
  })

  it('without a window is due once the interval passed, counted to the minute', () => {
    const often = { every: '15m' }
    expect(state(often, '2026-05-01T00:00:50Z', '2026-05-01T00:14:59Z').due).toBe(false)
    expect(state(often, '2026-05-01T00:00:50Z', '2026-05-01T00:15:00Z')).toMatchObject({
      due: true,
      nextRun: at('2026-05-01T00:15:00Z'),
    })
  })

  it('counts a regenerate in place from history, never an attempt without outcome or a failure', () => {
    const weekly = { every: '7d' }
    const made = '2026-05-01T00:00:00Z'
    const now = '2026-05-22T00:00:00Z'
    expect(state(weekly, made, now).due).toBe(true)
    const regenerated = rotationHistory([outcome({ at: '2026-05-20T10:00:00.000Z' })])
    expect(state(weekly, made, now, regenerated)).toMatchObject({
      due: false,
      lastRotated: at('2026-05-20T10:00:00.000Z'),
      lastRotatedFrom: 'history',
    })
    const unsettled = rotationHistory([
      outcome({ phase: 'attempt', outcome: undefined }),
      outcome({ outcome: 'failed', errorCode: 'provider_error' }),
      outcome({ store: 'staging' }),
      outcome({ keyId: 'key-2' }),
    ])
    expect(state(weekly, made, now, unsettled).lastRotatedFrom).toBe('created')
    // A vendor that tells no creation time: history's create says when keyway made the key.
    const noDate = apiKey({ createdAt: null })
    const created = rotationHistory([outcome({ action: 'create', at: '2026-05-21T00:00:00Z' })])
    expect(
      scheduleState(noDate, weekly, { now: at(now), label: 'prod', history: created }),
    ).toMatchObject({
      due: false,
      lastRotatedFrom: 'history',
    })
    expect(scheduleState(noDate, weekly, { now: at(now), label: 'prod' })).toMatchObject({
      due: true,
      lastRotated: null,
      dueAt: null,
    })
  })

  it.each([
    // Made five days ago with a short expiry that passed yesterday; the window opens at 03:00.
    {
      key: { expiresAt: at('2026-05-05T12:00:00Z') },
      state: { due: true, dueAt: at('2026-05-05T12:00:00Z'), nextRun: at('2026-05-06T12:00:00Z') },
    },
    // The vendor says it expired without saying when.
    {
      key: { status: 'expired' as const },
      state: { due: true, dueAt: at('2026-05-06T12:00:00Z') },
    },
    // Not yet expired: its schedule alone decides.
    {
      key: { expiresAt: at('2026-05-06T12:01:00Z') },
      state: { due: false, dueAt: at('2026-05-31T03:00:00Z') },
    },
  ])(
    'is due at once for a key that has expired, in a window or not, whatever its interval: $key',
    ({ key, state }) => {
      const made = apiKey({ createdAt: at('2026-05-01T00:00:00Z'), ...key })
      const monthly = { every: '30d', at: '03:00Z' }
      expect(
        scheduleState(made, monthly, { now: at('2026-05-06T12:00:00Z'), label: 'prod' }),
      ).toMatchObject({ ...state, lastRotatedFrom: 'created' })
    },
  )

  it('counts history only of the account the label reaches now, where it is told', () => {
    // Two Latitude.sh accounts whose key ids collide; the label was pointed from A to B.
    const accountA = { baseUrl: 'https://api.latitude.sh', credential: 'digest-of-token-a' }
    const accountB = { baseUrl: 'https://api.latitude.sh', credential: 'digest-of-token-b' }
    const weekly = { every: '7d' }
    const made = '2026-05-01T00:00:00Z'
    const now = '2026-05-22T00:00:00Z'
    const regeneratedAtA = [outcome({ account: accountA, at: '2026-05-20T10:00:00.000Z' })]
    // Account B's key of the same id was never rotated: due, whatever A's history says.
    const atB = rotationHistory(regeneratedAtA, (label) =>
      label === 'prod' ? accountB : undefined,
    )
    expect(state(weekly, made, now, atB)).toMatchObject({ due: true, lastRotatedFrom: 'created' })
    // The label still at A: A's regenerate counts, and so it does for the same account id
    // reached with another credential.
    const atA = rotationHistory(regeneratedAtA, () => accountA)
    expect(state(weekly, made, now, atA)).toMatchObject({ due: false, lastRotatedFrom: 'history' })
    const byId = (credential: string) => ({ ...accountA, credential, account: 'team-1' })
    const sameTeam = rotationHistory([outcome({ account: byId('digest-1') })], () => byId('d-2'))
    expect(state(weekly, made, now, sameTeam).due).toBe(false)
    // An entry naming no account cannot be told apart: it does not put the rotation off.
    const unnamed = rotationHistory([outcome({ account: null })], () => accountB)
    expect(state(weekly, made, now, unnamed).due).toBe(true)
    // Where the label's account cannot be told (or none is given), label and key id decide.
    expect(
      state(
        weekly,
        made,
        now,
        rotationHistory(regeneratedAtA, () => undefined),
      ).due,
    ).toBe(false)
    expect(state(weekly, made, now, rotationHistory(regeneratedAtA)).due).toBe(false)
    // History's create (for a vendor without creation times) is read the same way.
    const noDate = apiKey({ createdAt: null })
    const createdAtA = [
      outcome({ action: 'create', account: accountA, at: '2026-05-21T00:00:00Z' }),
    ]
    expect(
      scheduleState(noDate, weekly, {
        now: at(now),
        label: 'prod',
        history: rotationHistory(createdAtA, () => accountB),
      }),
    ).toMatchObject({ due: true, lastRotated: null })
  })

  it('rotates a key exactly every 30 days at the window’s start when a run comes every minute', () => {
    // 120 days of a cron run each minute; each rotation takes 40 s, so the vendor dates the
    // successor 40 s after the run began.
    let createdAt = at('2026-01-01T03:00:40Z')
    const rotations: string[] = []
    const start = at('2026-01-01T00:00:00Z').getTime()
    for (let now = start; now < start + 120 * DAY; now += MINUTE) {
      const [due] = dueKeys([{ label: 'prod', key: apiKey({ createdAt }), schedules: [monthly] }], {
        now: new Date(now),
      })
      if (due === undefined) continue
      rotations.push(new Date(now).toISOString())
      createdAt = new Date(now + 40_000)
    }
    expect(rotations).toEqual([
      '2026-01-31T03:00:00.000Z',
      '2026-03-02T03:00:00.000Z',
      '2026-04-01T03:00:00.000Z',
    ])
  })

  it('takes the first schedule that covers a key, by name, id or labels', () => {
    const schedules: RotationSchedule[] = [
      { keys: { ids: ['key-9'] }, every: '1d' },
      { keys: { name: 'ci-*', metadata: { team: 'ops' } }, every: '7d' },
      { keys: { name: 'ci-*' }, every: '30d' },
    ]
    const keys = [
      apiKey({ id: 'key-9', name: 'ci-a' }),
      apiKey({ id: 'key-2', name: 'ci-b', metadata: { team: 'ops' } }),
      apiKey({ id: 'key-3', name: 'ci-c' }),
      apiKey({ id: 'key-4', name: 'web' }),
    ]
    const found = scheduledKeys(
      keys.map((key) => ({ label: 'prod', key, schedules })),
      { now: at('2026-06-01T00:00:00Z') },
    )
    expect(found.map((entry) => [entry.key.id, entry.schedule.every])).toEqual([
      ['key-9', '1d'],
      ['key-2', '7d'],
      ['key-3', '30d'],
    ])
  })
})

describe('a schedule’s checks', () => {
  const issues = (input: unknown) => {
    const parsed = v.safeParse(rotationScheduleSchema, input)
    return parsed.success
      ? []
      : parsed.issues.map((issue) => `${v.getDotPath(issue)}: ${issue.message}`)
  }

  it('refuses a bad interval, time of day, window or lifetime, naming the field', () => {
    expect(issues({ every: '30x' })[0]).toMatch(/^every: expected a whole number and a unit/)
    expect(issues({ every: '0d' })[0]).toMatch(/^every: /)
    expect(issues({ every: '30d', at: '25:00Z' })[0]).toMatch(/^at: expected a time of day/)
    expect(issues({ every: '30d', at: '03:00' })[0]).toMatch(/^at: .*with its zone/)
    expect(issues({ every: '30d', window: '1h' })).toEqual([
      'window: needs "at": the time of day the window opens',
    ])
    expect(issues({ every: '30d', at: '03:00Z', window: '25h' })).toEqual([
      'window: at most 24h: a window opens every day',
    ])
    expect(issues({ every: '1h', at: '03:00Z', window: '2h' })[0]).toMatch(
      /^window: at most "every"/,
    )
    expect(issues({ every: '30d', at: '03:00Z', lifetime: '30d' })[0]).toMatch(
      /^lifetime: must be longer than "every" and the window/,
    )
    expect(issues({ every: '30d', at: '03:00Z', lifetime: '31d', window: '2h' })).toEqual([])
    expect(issues({ every: '30d', evry: '1d' })[0]).toMatch(/^evry: /)
  })

  it('refuses, in createFleet, a schedule beside retire "keep" and a lifetime where keys cannot expire', () => {
    expect.assertions(2)
    try {
      createFleet([
        {
          label: 'prod',
          store: new MemoryKeyStore(),
          rotation: { retire: 'keep' },
          schedule: [{ every: '30d', lifetime: '45d' }],
        },
      ])
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
        '0.rotation.retire',
        '0.schedule.0.lifetime',
      ])
    }
  })
})

describe('a fleet with schedules', () => {
  it('plans and rotates only the keys due by their schedule, and a second run sends no write', async () => {
    const store = new MemoryKeyStore()
    const old = store.seed({ name: 'ci-old' })
    const young = store.seed({ name: 'ci-young' })
    const other = store.seed({ name: 'web' })
    const now = Date.now()
    const entryOf = (id: string) => store.entries.get(id) as { key: { createdAt: Date } }
    entryOf(old.id).key.createdAt = new Date(now - 31 * DAY)
    entryOf(young.id).key.createdAt = new Date(now - 2 * DAY)
    entryOf(other.id).key.createdAt = new Date(now - 400 * DAY)
    const fleet = createFleet([
      { label: 'prod', store, schedule: { keys: { name: 'ci-*' }, every: '30d' } },
    ])
    const plan = await fleet.plan({})
    expect(plan.entries.map((entry) => [entry.key.id, entry.reasons[0]?.kind])).toEqual([
      [old.id, 'scheduled'],
    ])
    expect(plan.entries[0]?.schedule?.due).toBe(true)
    const journal = memoryJournal()
    const first = await fleet.rotate({ journal, deliver: () => {} })
    expect(first.rotated).toBe(1)
    const writes = store.writes.length
    const second = await fleet.rotate({ journal, deliver: () => {} })
    expect(second.rotated).toBe(0)
    expect(store.writes.length).toBe(writes)
    expect((await fleet.plan({})).entries).toEqual([])
  })
  it('with historyDigestKey, counts a regenerate only at the account the label reaches now', async () => {
    const digestKey = 'history-digest-key-0123456789'
    // The label 'prod' first reached account A, which regenerated key-1; it now reaches B,
    // whose key of the same id was made 40 days ago and never rotated.
    const before = new MemoryKeyStore()
    attachFingerprint(before, { baseUrl: 'https://memory.test', credential: ['token-a'] })
    const store = new MemoryKeyStore()
    attachFingerprint(store, { baseUrl: 'https://memory.test', credential: ['token-b'] })
    const key = store.seed({ name: 'ci-a' })
    const entry = store.entries.get(key.id) as { key: { createdAt: Date } }
    entry.key.createdAt = new Date(Date.now() - 40 * DAY)
    const regenerated = (account: MemoryKeyStore) =>
      outcome({
        provider: 'memory',
        keyId: key.id,
        account: storeFingerprint(account, digestKey),
        at: new Date(Date.now() - DAY).toISOString(),
      })
    const fleet = createFleet([
      { label: 'prod', store, schedule: { keys: { name: 'ci-*' }, every: '30d' } },
    ])
    const due = async (history: HistoryEntry[]) =>
      (await fleet.plan({}, { history, historyDigestKey: digestKey })).entries.map(
        (planned) => planned.key.id,
      )
    expect(await due([regenerated(before)])).toEqual([key.id])
    expect(await due([regenerated(store)])).toEqual([])
    // `rotate` with a policy reads history the same way.
    const journal = memoryJournal()
    const rotated = await fleet.rotate({
      journal,
      deliver: () => {},
      history: [regenerated(before)],
      historyDigestKey: digestKey,
    })
    expect(rotated.rotated).toBe(1)
  })
})
