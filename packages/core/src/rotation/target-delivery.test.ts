import { createHash } from 'node:crypto'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { RotationError, ValidationError } from '../errors.js'
import type { DeliveryTarget } from '../targets/delivery-target.js'
import { Place } from '../targets/place-target.test-support.js'
import type { CreatedKey } from '../types.js'
import { crashingJournal } from './crash-journal.test-support.js'
import { MemoryKeyStore } from './memory-key-store.test-support.js'
import { rotateKey } from './rotate-key.js'
import { rotateKeys } from './rotate-keys.js'
import { quick, rotation } from './rotation-harness.test-support.js'
import type { RotationJournal } from './rotation-journal.js'

/** A key `old` to rotate, held at two places (GitHub, Vercel), and their targets. */
function setup(options: { reveal?: boolean; finds?: boolean } = {}) {
  const { store, old, records, journalled } = rotation(
    { reveal: options.reveal ?? false },
    { seed: { name: 'ci', scope: 'read' } },
  )
  const github = new Place('github')
  const vercel = new Place('vercel')
  github.variables.set('OTHER', 'untouched-1')
  vercel.variables.set('DATABASE_URL', 'untouched-2')
  github.variables.set('API_KEY', old.secret)
  vercel.variables.set('API_KEY', old.secret)
  const finds = options.finds ?? false
  const targets = () => [
    github.target('API_KEY', { finds }),
    vercel.target('API_KEY', { redeploy: true, finds }),
  ]
  return { store, old, github, vercel, targets, records, options: journalled }
}

describe('rotation with delivery targets', () => {
  it('writes, propagates and confirms every target before the old key is retired', async () => {
    const { store, old, github, vercel, targets } = setup()
    // The old key still works whenever a target confirms.
    const oldAliveAtConfirm: boolean[] = []
    github.onConfirm = () => oldAliveAtConfirm.push(store.works(old.secret))
    vercel.onConfirm = () => oldAliveAtConfirm.push(store.works(old.secret))
    const result = await rotateKey(store, { ...quick, keyId: old.id, targets: targets() })
    const secret = result.secret?.reveal() as string
    expect(oldAliveAtConfirm).toEqual([true, true])
    expect(store.works(old.secret)).toBe(false)
    expect(store.works(secret)).toBe(true)
    expect(result.verified).toBe(true)
    expect(github.writes).toEqual([{ variable: 'API_KEY', value: secret, keyId: result.newKeyId }])
    expect(vercel.writes).toEqual([{ variable: 'API_KEY', value: secret, keyId: result.newKeyId }])
    expect(vercel.deploys).toEqual(['API_KEY'])
    // No other variable at either target changed.
    expect(Object.fromEntries(github.variables)).toEqual({ OTHER: 'untouched-1', API_KEY: secret })
    expect(Object.fromEntries(vercel.variables)).toEqual({
      DATABASE_URL: 'untouched-2',
      API_KEY: secret,
    })
    expect(result.deliveries).toEqual(
      ['github:API_KEY', 'vercel:API_KEY'].map((target) => ({
        target,
        kind: 'place',
        holds: 'new',
        keyId: result.newKeyId,
        progress: 'confirmed',
        cannotConfirm: null,
        failure: null,
      })),
    )
  })

  it('shows each target in the plan of a dry run, and writes nothing', async () => {
    const { store, old, github, targets } = setup()
    const plan = await rotateKey(store, { keyId: old.id, targets: targets(), dryRun: true })
    expect(plan.targets).toEqual([
      {
        name: 'github:API_KEY',
        kind: 'place',
        location: 'github, variable API_KEY',
        propagate: 'nothing',
        confirm: 'reads the value back',
        cannotConfirm: null,
      },
      {
        name: 'vercel:API_KEY',
        kind: 'place',
        location: 'vercel, variable API_KEY',
        propagate: 'a redeploy',
        confirm: 'reads the value back',
        cannotConfirm: null,
      },
    ])
    expect(github.writes).toEqual([])
    expect(store.writes).toEqual([])
  })

  it('a failing target keeps the new key, never retires the old one, and says which target holds which key', async () => {
    expect.assertions(8)
    const { store, old, github, vercel, targets, records, options } = setup({ reveal: true })
    vercel.faults.push({ step: 'propagate' })
    const error = await rotateKey(store, { ...options, targets: targets() }).catch((e) => e)
    expect(error).toBeInstanceOf(RotationError)
    expect(error).toMatchObject({ step: 'deliver', rolledBack: false })
    const newKeyId = records.get('r1')?.newKeyId as string
    const secret = github.writes[0]?.value as string
    expect(error.deliveries).toEqual([
      expect.objectContaining({
        target: 'github:API_KEY',
        holds: 'new',
        keyId: newKeyId,
        progress: 'confirmed',
      }),
      expect.objectContaining({
        target: 'vercel:API_KEY',
        holds: 'new',
        keyId: newKeyId,
        // A 500 may have started a deployment: the propagate is journalled as in flight.
        progress: 'propagating',
        failure: 'propagate failed: vercel redeploy failed',
      }),
    ])
    expect(error.message).toContain('vercel:API_KEY holds the new key')
    // Both keys work: consumers on either secret keep running.
    expect([store.works(old.secret), store.works(secret)]).toEqual([true, true])
    // Run again: the failed target goes on from where it stopped; nothing is written twice.
    const result = await rotateKey(store, { ...options, targets: targets() })
    expect(result.newKeyId).toBe(newKeyId)
    expect([github.writes.length, vercel.writes.length, vercel.deploys.length]).toEqual([1, 1, 1])
    expect([store.works(old.secret), store.works(secret)]).toEqual([false, true])
  })

  it('a rerun that cannot read the new secret again makes one more key for every target and retires both earlier keys after every confirm', async () => {
    const { store, old, github, vercel, targets, records, options } = setup({ reveal: false })
    vercel.faults.push({ step: 'write', kind: 'error' })
    await expect(rotateKey(store, { ...options, targets: targets() })).rejects.toMatchObject({
      step: 'deliver',
      deliveries: [
        expect.objectContaining({ holds: 'new', progress: 'confirmed' }),
        // A 503 may have landed: keyway cannot tell.
        expect.objectContaining({ holds: 'unknown', progress: 'writing' }),
      ],
    })
    const first = github.writes[0]?.value as string
    const firstId = github.writes[0]?.keyId as string
    vercel.onConfirm = () => expect(store.works(first) && store.works(old.secret)).toBe(true)
    const result = await rotateKey(store, { ...options, targets: targets() })
    const secret = result.secret?.reveal() as string
    expect(result.newKeyId).not.toBe(firstId)
    expect(github.writes.map((write) => write.keyId)).toEqual([firstId, result.newKeyId])
    expect(vercel.writes.map((write) => write.keyId)).toEqual([result.newKeyId])
    expect([store.works(old.secret), store.works(first), store.works(secret)]).toEqual([
      false,
      false,
      true,
    ])
    expect(result.warnings.join(' ')).toContain(`the new key ${firstId} was given to some targets`)
    expect(records.get('r1')?.supersededKeyIds).toEqual([])
  })

  it('a new secret that does not verify reaches no target and is deleted again', async () => {
    const { store, old, github, vercel, targets } = setup()
    const error = await rotateKey(store, {
      ...quick,
      keyId: old.id,
      targets: targets(),
      verify: () => false,
      verifyAttempts: 1,
    }).catch((e) => e)
    expect(error).toMatchObject({ step: 'deliver', rolledBack: true })
    expect([github.writes, vercel.writes]).toEqual([[], []])
    expect(store.writes.map((write) => write.operation)).toEqual(['create', 'delete'])
    expect(store.works(old.secret)).toBe(true)
  })

  describe.each([
    ['answers only after its deadline passed', 'late'],
    ['never answers', 'silent'],
  ] as const)('a confirm that %s is not confirmed', (_, how) => {
    it('leaves the old key working and the new key kept, and a rerun that confirms in time finishes', async () => {
      const { store, old, github, vercel, targets, records, options } = setup({ reveal: true })
      let slow = true
      let aborted = false
      const [first, second] = targets()
      const waiting: DeliveryTarget = {
        ...(second as DeliveryTarget),
        confirmWithinMs: 30,
        async confirm(context) {
          if (!slow) return (second as DeliveryTarget).confirm(context)
          context.signal?.addEventListener('abort', () => {
            aborted = true
          })
          if (how === 'late') {
            // Busy until the deadline is behind it, then says "confirmed".
            while (Date.now() <= context.deadline) await new Promise((r) => setTimeout(r, 5))
            return
          }
          await new Promise(() => {})
        },
      }
      const error = await rotateKey(store, {
        ...options,
        targets: [first as DeliveryTarget, waiting],
      }).catch((e) => e)
      expect(error).toBeInstanceOf(RotationError)
      expect(error).toMatchObject({ step: 'deliver', rolledBack: false })
      const newKeyId = records.get('r1')?.newKeyId as string
      expect(error.deliveries).toEqual([
        expect.objectContaining({ target: 'github:API_KEY', progress: 'confirmed' }),
        expect.objectContaining({
          target: 'vercel:API_KEY',
          holds: 'new',
          keyId: newKeyId,
          // A redeploy that did not finish in time is started again by the rerun.
          progress: 'written',
          failure: expect.stringMatching(
            /^confirm failed: target vercel:API_KEY did not confirm by its deadline/,
          ),
        }),
      ])
      // One that answers late is refused; one still silent just past it is told to stop.
      expect(aborted).toBe(how === 'silent')
      const secret = github.writes[0]?.value as string
      expect([store.works(old.secret), store.works(secret)]).toEqual([true, true])
      expect(records.get('r1')?.state).toBe('created')
      slow = false
      const result = await rotateKey(store, {
        ...options,
        targets: [first as DeliveryTarget, waiting],
      })
      expect(result.newKeyId).toBe(newKeyId)
      expect([store.works(old.secret), store.works(secret)]).toEqual([false, true])
      expect([github.writes.length, vercel.writes.length, vercel.deploys.length]).toEqual([1, 1, 2])
    })
  })

  it('a deliver callback given beside targets is one more target, confirmed once it returned', async () => {
    const { store, old, github } = setup()
    const delivered: CreatedKey[] = []
    const result = await rotateKey(store, {
      ...quick,
      keyId: old.id,
      targets: [github.target('API_KEY')],
      deliver: (created) => void delivered.push(created),
    })
    expect(delivered.map((created) => created.key.id)).toEqual([result.newKeyId])
    expect(
      result.deliveries.map((delivery) => [delivery.target, delivery.kind, delivery.progress]),
    ).toEqual([
      ['github:API_KEY', 'place', 'confirmed'],
      ['deliver', 'callback', 'confirmed'],
    ])
  })

  it('refuses targets of one name, or something that is not a target, before anything is sent', async () => {
    const { store, old, github } = setup()
    await expect(
      rotateKey(store, { keyId: old.id, targets: [github.target('A'), github.target('A')] }),
    ).rejects.toThrow(ValidationError)
    await expect(
      rotateKey(store, { keyId: old.id, targets: [{ name: 'x' } as never] }),
    ).rejects.toThrow(/targets\.0.*expected a delivery target/)
    expect(store.writes).toEqual([])
  })

  it('a crash at any journal write, then a resume: each target is sent each new key at most once (again only when the crash lost the answer and the target cannot tell it landed), and the old key lives until every target confirmed', async () => {
    // Count the journal writes of an undisturbed rotation, then crash at each in turn.
    const probe = setup({ reveal: true })
    const counting = crashingJournal(Number.POSITIVE_INFINITY, 'after')
    await rotateKey(probe.store, {
      ...quick,
      keyId: probe.old.id,
      journal: counting.journal,
      targets: probe.targets(),
    })
    const total = counting.writes()
    expect(total).toBeGreaterThan(10)
    for (const [reveal, finds] of [
      [true, false],
      [false, false],
      [true, true],
    ] as const) {
      for (let n = 1; n <= total; n++) {
        for (const when of ['before', 'after'] as const) {
          const {
            store,
            old,
            github,
            vercel,
            targets,
            options: journalled,
          } = setup({
            reveal,
            finds,
          })
          const oldAlive: boolean[] = []
          for (const place of [github, vercel]) {
            place.onConfirm = () => oldAlive.push(store.works(old.secret))
          }
          const options = { ...journalled, journal: crashingJournal(n, when).journal }
          await expect(rotateKey(store, { ...options, targets: targets() })).rejects.toThrow()
          const result = await rotateKey(store, { ...options, targets: targets() })
          const secret = result.secret?.reveal() ?? github.variables.get('API_KEY')
          const where = `crash at write ${n} ${when}, reveal ${reveal}, finds ${finds}`
          expect(oldAlive.every(Boolean), where).toBe(true)
          expect(store.works(old.secret), where).toBe(false)
          for (const place of [github, vercel]) {
            expect(place.variables.get('API_KEY'), where).toBe(secret)
            expect(store.works(place.variables.get('API_KEY') as string), where).toBe(true)
            // Per new key: one write, or two of the same value when the crash lost the first's answer.
            const keyIds = new Set(place.writes.map((write) => write.keyId))
            for (const keyId of keyIds) {
              const writes = place.writes.filter((write) => write.keyId === keyId)
              expect(new Set(writes.map((write) => write.value)).size, where).toBe(1)
              // A target that can tell a write landed is never sent it again.
              expect(writes.length, `${where}: writes at ${place.name}`).toBeLessThanOrEqual(
                finds ? 1 : 2,
              )
            }
          }
          if (finds) expect(vercel.deploys.length, `${where}: deploys`).toBeLessThanOrEqual(1)
          // Only the key every target holds is left, beside the store's own.
          expect(store.works(secret as string), where).toBe(true)
          expect(
            [...store.entries.values()].filter((entry) => entry.key.status === 'active').length,
            where,
          ).toBe(2)
        }
      }
    }
  })

  it('a crash after every target confirmed, before the journal says delivered: the resume writes nothing again, even without the secret', async () => {
    const { store, old, github, vercel, targets, options: journalled } = setup({ reveal: false })
    const journal = journalled.journal
    let crashed = false
    const dying: RotationJournal = {
      ...journal,
      write: async (record) => {
        if (!crashed && record.state === 'delivered') {
          crashed = true
          throw new Error('crash before delivered')
        }
        await journal.write(record)
      },
    }
    const options = { ...journalled, journal: dying }
    await expect(rotateKey(store, { ...options, targets: targets() })).rejects.toThrow(
      'crash before delivered',
    )
    const result = await rotateKey(store, { ...options, targets: targets() })
    expect([github.writes.length, vercel.writes.length, vercel.deploys.length]).toEqual([1, 1, 1])
    expect(result.newKeyId).toBe(github.writes[0]?.keyId)
    expect([store.works(old.secret), store.works(github.writes[0]?.value as string)]).toEqual([
      false,
      true,
    ])
  })

  it('never puts a secret in an error, event, journal record or result report', async () => {
    const { store, old, github, vercel, targets, records, ...run } = setup({ reveal: true })
    vercel.faults.push({ step: 'confirm' })
    const events: unknown[] = []
    const options = {
      ...run.options,
      onStep: (event: unknown) => void events.push(event),
      onWait: (event: unknown) => void events.push(event),
    }
    const error = await rotateKey(store, { ...options, targets: targets() }).catch((e) => e)
    expect(error).toBeInstanceOf(RotationError)
    const result = await rotateKey(store, { ...options, targets: targets() })
    const secrets = [
      old.secret,
      result.secret?.reveal() as string,
      ...github.writes.map((w) => w.value),
    ]
    const seen = [
      JSON.stringify(error),
      inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify(events),
      JSON.stringify([...records.values()]),
      JSON.stringify({ ...result, secret: null }),
      inspect(result, { depth: Number.POSITIVE_INFINITY }),
    ].join('\n')
    for (const secret of secrets) expect(seen).not.toContain(secret)
    expect(result.deliveries.map((delivery) => delivery.progress)).toEqual([
      'confirmed',
      'confirmed',
    ])
  })
})

/**
 * Numbers in [0, 1) drawn from `seed` (each a SHA-256 of the seed and the draw's count), so a
 * failing schedule can be replayed by its seed.
 */
function seeded(seed: number): () => number {
  let draws = 0
  return () => createHash('sha256').update(`${seed}:${draws++}`).digest().readUInt32BE(0) / 2 ** 32
}

describe('targets per key in a batch', () => {
  it('gives each key its own targets from a function, and a key with none goes through deliver', async () => {
    const store = new MemoryKeyStore()
    const keys = ['ci-1', 'ci-2', 'other'].map((name) => store.seed({ name }))
    const github = new Place('github')
    const delivered: string[] = []
    const result = await rotateKeys(store, {
      ...quick,
      keyIds: keys.map((key) => key.id),
      targets: ({ key }) =>
        key?.name?.startsWith('ci-')
          ? [github.target(`${key.name.toUpperCase().replace('-', '_')}_KEY`)]
          : [],
      deliver: (created) => void delivered.push(created.key.name ?? ''),
      dryRun: false,
    })
    expect(result.rotated).toBe(3)
    expect(result.plans.map((plan) => plan.targets.map((target) => target.name))).toEqual([
      ['github:CI_1_KEY', 'deliver'],
      ['github:CI_2_KEY', 'deliver'],
      [],
    ])
    expect([...github.variables.keys()].sort()).toEqual(['CI_1_KEY', 'CI_2_KEY'])
    // The callback beside targets is one more target; the key without targets uses it alone.
    expect(delivered.sort()).toEqual(['ci-1', 'ci-2', 'other'])
    for (const key of keys) expect(store.works(key.secret)).toBe(false)
  })

  it('refuses a function that gives a key no target and no deliver is given, before anything is written', async () => {
    const { store, old: only } = rotation({}, { seed: { name: 'ci-1' } })
    await expect(
      rotateKeys(store, { ...quick, keyIds: [only.id], targets: () => [] }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: `memory rotate ${only.id}: no target for this key, and no deliver`,
      issues: [
        { path: 'targets', message: `gives no target for key ${only.id}, and no deliver is given` },
      ],
    })
    expect(store.writes).toEqual([])
  })
})

describe('random fault schedules over targets', () => {
  const kinds = [
    { step: 'write', kind: 'error' },
    { step: 'write', kind: 'refused' },
    { step: 'write', kind: 'lost' },
    { step: 'propagate' },
    { step: 'confirm' },
  ] as const

  it.each(Array.from({ length: 40 }, (_, index) => index + 1))(
    'seed %i: reruns finish the rotation; the old key lives until every target confirmed; no target is sent two secrets for one key',
    async (seed) => {
      const random = seeded(seed)
      const { store, old, github, vercel, targets, options } = setup({ reveal: random() < 0.5 })
      const places = [github, vercel]
      for (let fault = 0; fault < 4; fault++) {
        const place = places[Math.floor(random() * places.length)] as Place
        place.faults.push({ ...kinds[Math.floor(random() * kinds.length)] } as never)
      }
      const oldAlive: boolean[] = []
      for (const place of places) place.onConfirm = () => oldAlive.push(store.works(old.secret))
      let result: Awaited<ReturnType<typeof rotateKey>> | undefined
      for (let run = 0; run < 10 && result === undefined; run++) {
        try {
          result = await rotateKey(store, { ...options, targets: targets() })
        } catch (error) {
          expect(error).toBeInstanceOf(RotationError)
          // While a target fails, the old key keeps working.
          expect(store.works(old.secret)).toBe(true)
        }
      }
      expect(result).toBeDefined()
      const secret = result?.secret?.reveal() as string
      expect(oldAlive.every(Boolean)).toBe(true)
      expect(store.works(old.secret)).toBe(false)
      for (const place of places) {
        expect(place.variables.get('API_KEY')).toBe(secret)
        const keyIds = new Set(place.writes.map((write) => write.keyId))
        for (const keyId of keyIds) {
          const values = place.writes.filter((write) => write.keyId === keyId).map((w) => w.value)
          expect(new Set(values).size).toBe(1)
        }
      }
      expect(github.variables.get('OTHER')).toBe('untouched-1')
      expect(vercel.variables.get('DATABASE_URL')).toBe('untouched-2')
      // Every key this rotation made and replaced is retired: only the final one and the store's own remain.
      const active = [...store.entries.values()].filter((entry) => entry.key.status === 'active')
      expect(active.map((entry) => entry.key.name)).toEqual(['admin', 'ci'])
      expect(active.filter((entry) => entry.secret === secret)).toHaveLength(1)
    },
  )
})
