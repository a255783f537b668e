import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AuditPolicy,
  createFleet,
  fileJournal,
  type KeyStore,
  memoryJournal,
} from '@keyway/core'
import { noteDxKeyId } from '@keyway/notedx'
import { type Emulator, type OpenRouterEmulatorControl, startEmulator } from '@keyway/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { storeFor } from './vendors.js'

const DAY = 86_400_000
const policy: AuditPolicy = {
  maxAgeDays: 90,
  unusedDays: 30,
  expiringWithinDays: 14,
  requireLimitOrExpiry: true,
}

let emulators: Emulator[] = []
afterEach(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()))
  emulators = []
})

/**
 * Five stores over the four emulators: two OpenRouter accounts (one with keys in three
 * workspaces), Latitude, NoteDx and Voiceable, with keys of known ages.
 */
async function fleetOverEmulators() {
  const start = async (vendor: 'latitudesh' | 'notedx' | 'voiceable') => {
    const emulator = await startEmulator(vendor, { seedKeys: 0, rateLimit: false })
    emulators.push(emulator)
    return emulator
  }
  const startOpenRouter = async () => {
    const emulator = await startEmulator('openrouter', { seedKeys: 0 })
    emulators.push(emulator)
    return emulator
  }
  const [prod, team, latitude, notedx, voiceable] = await Promise.all([
    startOpenRouter(),
    startOpenRouter(),
    start('latitudesh'),
    start('notedx'),
    start('voiceable'),
  ])
  const now = new Date()
  const ago = (days: number) => new Date(now.getTime() - days * DAY)
  const research = prod.control.seedWorkspace({ name: 'Research' }).id
  const teamA = team.control.seedWorkspace({ name: 'A' }).id
  const teamB = team.control.seedWorkspace({ name: 'B' }).id
  const limited = prod.control.seedKey({ name: 'ci-limited', createdAt: ago(10), limit: 5 })
  prod.control.spend(limited.id, 2)
  const keys = {
    prod: {
      'ci-old': prod.control.seedKey({ name: 'ci-old', createdAt: ago(120) }),
      'ci-new': prod.control.seedKey({ name: 'ci-new', createdAt: ago(5) }),
      'ci-expiring': prod.control.seedKey({
        name: 'ci-expiring',
        createdAt: ago(10),
        expiresAt: new Date(now.getTime() + 3 * DAY),
      }),
      'ci-limited': limited,
      'ci-research': prod.control.seedKey({
        name: 'ci-research',
        createdAt: ago(100),
        workspaceId: research,
      }),
      'manual-old': prod.control.seedKey({ name: 'manual-old', createdAt: ago(200) }),
      'ci-disabled': prod.control.seedKey({
        name: 'ci-disabled',
        createdAt: ago(10),
        disabled: true,
      }),
    },
    team: {
      't-default': team.control.seedKey({ name: 't-default', createdAt: ago(100) }),
      't-a': team.control.seedKey({ name: 't-a', createdAt: ago(95), workspaceId: teamA }),
      't-b': team.control.seedKey({ name: 't-b', createdAt: ago(10), workspaceId: teamB }),
    },
    latitude: {
      'lat-old': latitude.control.seedKey({
        name: 'lat-old',
        createdAt: ago(100),
        lastUsedAt: ago(1),
      }),
      'lat-idle': latitude.control.seedKey({
        name: 'lat-idle',
        createdAt: ago(60),
        lastUsedAt: ago(40),
      }),
    },
    notedx: { 'live-old': notedx.control.seedKey({ createdAt: ago(100) }) },
    voiceable: {
      'v-old': voiceable.control.seedKey({ name: 'v-old', createdAt: ago(100) }),
      'v-new': voiceable.control.seedKey({ name: 'v-new', createdAt: ago(1) }),
    },
  }
  const store = (emulator: Emulator) => storeFor(emulator) as KeyStore
  const fleet = createFleet([
    // Successors get a lifetime of their own: one that kept ci-expiring's would be skipped.
    {
      label: 'openrouter-prod',
      store: store(prod),
      select: { name: 'ci-*' },
      rotation: { expiresInDays: 90 },
    },
    { label: 'openrouter-team', store: store(team), rotation: { concurrency: 1 } },
    { label: 'latitude', store: store(latitude) },
    { label: 'notedx', store: store(notedx) },
    { label: 'voiceable', store: store(voiceable), rotation: { graceMs: 5 } },
  ])
  const noteDxLive = noteDxKeyId(keys.notedx['live-old'].secret)
  /** The keys the policy finds due: managed, active, too old or expiring soon. */
  const due = [
    ['openrouter-prod', keys.prod['ci-old'].id],
    ['openrouter-prod', keys.prod['ci-expiring'].id],
    ['openrouter-prod', keys.prod['ci-research'].id],
    ['openrouter-team', keys.team['t-default'].id],
    ['openrouter-team', keys.team['t-a'].id],
    ['latitude', keys.latitude['lat-old'].id],
    ['notedx', noteDxLive],
    ['voiceable', keys.voiceable['v-old'].id],
  ]
  const dueSecrets = [
    keys.prod['ci-old'],
    keys.prod['ci-expiring'],
    keys.prod['ci-research'],
    keys.team['t-default'],
    keys.team['t-a'],
    keys.latitude['lat-old'],
    keys.notedx['live-old'],
    keys.voiceable['v-old'],
  ].map((key) => key.secret)
  const all = [prod, team, latitude, notedx, voiceable]
  // Every request that changes something at a vendor (a NoteDx login changes no key).
  const writes = () =>
    all.flatMap((emulator) =>
      emulator.requests.filter(
        (request) => request.method !== 'GET' && !request.path.includes('/auth/'),
      ),
    )
  return { fleet, now, keys, research, due, dueSecrets, noteDxLive, prod, all, writes }
}

const sorted = (pairs: Array<Array<string | null>>) =>
  [...pairs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))

describe('a fleet over the four emulators', () => {
  it('audits every key of every store, key by key', async () => {
    const { fleet, now, noteDxLive } = await fleetOverEmulators()
    const report = await fleet.audit(policy, { now })
    expect(report.errors).toEqual([])
    const found = report.entries.map((entry) => [
      entry.label,
      entry.key.name ?? (entry.key.id === noteDxLive ? 'live-old' : 'sandbox'),
      entry.findings.map((finding) => finding.kind).join(' '),
    ])
    const noLimit = 'no-limit-or-expiry'
    // OpenRouter and Voiceable do not report last use: their keys are never called unused.
    expect(sorted(found)).toEqual(
      sorted([
        ['openrouter-prod', 'ci-old', `too-old ${noLimit}`],
        ['openrouter-prod', 'ci-new', noLimit],
        ['openrouter-prod', 'ci-expiring', 'expiring-soon'],
        ['openrouter-prod', 'ci-limited', ''],
        ['openrouter-prod', 'ci-research', `too-old ${noLimit}`],
        ['openrouter-prod', 'manual-old', `too-old ${noLimit} unmanaged`],
        ['openrouter-prod', 'ci-disabled', 'disabled unmanaged'],
        ['openrouter-team', 't-default', `too-old ${noLimit}`],
        ['openrouter-team', 't-a', `too-old ${noLimit}`],
        ['openrouter-team', 't-b', noLimit],
        ['latitude', 'admin', 'own-credential'],
        ['latitude', 'lat-old', 'too-old'],
        ['latitude', 'lat-idle', 'unused'],
        ['notedx', 'sandbox', ''],
        ['notedx', 'live-old', 'too-old unused'],
        ['voiceable', 'admin', 'own-credential'],
        ['voiceable', 'v-old', 'too-old'],
        ['voiceable', 'v-new', ''],
      ]),
    )
    const limited = report.entries.find((entry) => entry.key.name === 'ci-limited')
    expect(limited?.key.spend).toEqual({
      used: 2,
      usedThisMonth: 2,
      usedToday: 2,
      usedThisWeek: 2,
      limit: 5,
      remaining: 3,
      limitReset: null,
    })
    const old = report.entries.find((entry) => entry.key.name === 'ci-old')
    expect(old).toMatchObject({ ageDays: 120, managed: true, ownCredential: false })
  })

  it('plans exactly the due keys, rotates exactly them, and a rerun sends no write', async () => {
    const { fleet, now, due, dueSecrets, keys, research, prod, all, writes } =
      await fleetOverEmulators()
    const plan = await fleet.plan(policy, { now })
    expect(plan.errors).toEqual([])
    expect(plan.skipped).toEqual([])
    expect(sorted(plan.entries.map((entry) => [entry.label, entry.key.id]))).toEqual(sorted(due))
    const expiring = plan.entries.find((entry) => entry.key.name === 'ci-expiring')
    expect(expiring?.reasons.map((reason) => reason.kind)).toEqual(['expiring-soon'])
    expect(expiring?.plan.input.expiresAt).toEqual(new Date(now.getTime() + 90 * 86_400_000))
    expect(writes()).toEqual([])

    const journal = memoryJournal()
    const delivered: Array<{ label: string; secret: string }> = []
    const options = {
      batchId: 'nightly-1',
      journal,
      keyIds: Object.fromEntries(
        fleet.stores.map((store) => [
          store.label,
          plan.entries.filter((entry) => entry.label === store.label).map((entry) => entry.key.id),
        ]),
      ),
      deliver: (created: { secret: { reveal(): string } }, store: { label: string }) =>
        void delivered.push({ label: store.label, secret: created.secret.reveal() }),
    }
    const result = await fleet.rotate(options)
    expect(result.stores.map((store) => [store.label, store.error])).toEqual(
      fleet.stores.map((store) => [store.label, undefined]),
    )
    expect([result.rotated, result.failed, result.skipped]).toEqual([8, 0, 0])
    expect(delivered).toHaveLength(8)
    expect(
      dueSecrets.filter((secret) => all.some((emulator) => emulator.control.works(secret))),
    ).toEqual([])
    expect(delivered.every(({ label, secret }) => worksAt(all, label, secret))).toBe(true)
    // Keys that were not due still work.
    for (const name of ['ci-new', 'ci-limited', 'manual-old'] as const) {
      expect(prod.control.works(keys.prod[name].secret)).toBe(true)
    }
    // The successor of a key in another workspace lives in that workspace.
    const inResearch = delivered
      .filter((entry) => entry.label === 'openrouter-prod')
      .map((entry) => (prod.control as OpenRouterEmulatorControl).keyAttributes(entry.secret))
      .filter((attributes) => attributes?.workspace_id === research)
    expect(inResearch).toHaveLength(1)

    const before = all.map((emulator) => emulator.requests.length)
    const writesBefore = writes().length
    const rerun = await fleet.rotate(options)
    expect(writes().length).toBe(writesBefore)
    expect(all.map((emulator) => emulator.requests.length)).toEqual(before)
    expect(rerun.rotated).toBe(8)
    expect(delivered).toHaveLength(8)
  })

  it('resumes a batch interrupted mid-way and finishes exactly the rest', async () => {
    const { fleet, now, dueSecrets, all, keys } = await fleetOverEmulators()
    const untouched = [
      keys.prod['ci-new'],
      keys.prod['ci-limited'],
      keys.prod['manual-old'],
      keys.team['t-b'],
      keys.latitude['lat-idle'],
      keys.voiceable['v-new'],
    ].map((key) => key.secret)
    const directory = await mkdtemp(join(tmpdir(), 'keyway-fleet-'))
    try {
      const journal = fileJournal(join(directory, 'journal.json'))
      const activeBefore = await activeCounts(fleet)
      const controller = new AbortController()
      const delivered: Array<{ label: string; secret: string }> = []
      await expect(
        fleet.rotate({
          batchId: 'nightly-2',
          journal,
          policy,
          now,
          signal: controller.signal,
          deliver: (created, store) => {
            delivered.push({ label: store.label, secret: created.secret.reveal() })
            if (delivered.length === 3) controller.abort(new Error('interrupted'))
          },
        }),
      ).rejects.toThrow('interrupted')
      const firstRun = delivered.length
      expect(firstRun).toBeGreaterThanOrEqual(3)
      expect(firstRun).toBeLessThan(8)

      const resumed = await fleet.rotate({
        batchId: 'nightly-2',
        resume: true,
        journal: fileJournal(join(directory, 'journal.json')),
        policy,
        now,
        deliver: (created, store) =>
          void delivered.push({ label: store.label, secret: created.secret.reveal() }),
      })
      expect(resumed.stores.map((store) => store.error)).toEqual(fleet.stores.map(() => undefined))
      expect([resumed.rotated, resumed.failed, resumed.skipped]).toEqual([8, 0, 0])
      // Each due key ends with exactly one working new secret. (A secret delivered but not yet
      // verified when the run stopped cannot be checked again: the resume replaces that key.)
      const working = delivered.filter(({ label, secret }) => worksAt(all, label, secret))
      expect(countBy(working.map((entry) => entry.label))).toEqual({
        'openrouter-prod': 3,
        'openrouter-team': 2,
        latitude: 1,
        notedx: 1,
        voiceable: 1,
      })
      expect(
        dueSecrets.filter((secret) => all.some((emulator) => emulator.control.works(secret))),
      ).toEqual([])
      // Nothing outside the batch was touched.
      expect(
        untouched.every((secret) => all.some((emulator) => emulator.control.works(secret))),
      ).toBe(true)
      // No key minted twice, none left behind: every store holds as many working keys as before.
      expect(await activeCounts(fleet)).toEqual(activeBefore)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}

function worksAt(all: readonly Emulator[], _label: string, secret: string): boolean {
  return all.some((emulator) => emulator.control.works(secret))
}

async function activeCounts(
  fleet: ReturnType<typeof createFleet>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const entry of await fleet.list()) {
    if (entry.key.status === 'active') counts[entry.label] = (counts[entry.label] ?? 0) + 1
  }
  return counts
}
