import { type DeliveryTarget, memoryJournal, rotateKey } from '@keyway/core'
import { createGitHubActionsTarget } from '@keyway/target-github'
import { createVercelEnvTarget } from '@keyway/target-vercel'
import { type Emulator, startGitHubEmulator, startVercelEmulator } from '@keyway/testkit'
import { findSecrets, useEmulator } from '@keyway/testkit/conformance'
import { describe, expect, it } from 'vitest'
import {
  events,
  expectDeliveryFailure,
  hooks,
  JOURNAL_KILL_POINTS,
  killAndResume,
  noteOldKeyAtConfirm,
} from './target-rotation.js'
import { fastRetry, seedKey, storeFor, vendors, withEmulator } from './vendors.js'

const quick = { verifyIntervalMs: 5 }

const github = useEmulator(startGitHubEmulator)
const vercel = useEmulator(startVercelEmulator)

/**
 * The key's two consumers: a GitHub Actions secret and a Vercel variable with a redeploy.
 * Each confirm first notes whether the old key still works at the vendor.
 */
function targetsFor(
  emulator: Emulator,
  oldSecret: string,
  oldAliveAtConfirm: boolean[],
): DeliveryTarget[] {
  const variable = `${emulator.vendor.toUpperCase()}_API_KEY`
  const targets = [
    createGitHubActionsTarget({
      ...github.settings,
      secret: variable,
      scope: { repository: 'acme/app' },
      confirmIntervalMs: 5,
      retry: fastRetry,
      hooks,
    }),
    createVercelEnvTarget({
      ...vercel.settings,
      project: 'web',
      key: variable,
      redeploy: true,
      confirmIntervalMs: 5,
      retry: fastRetry,
      hooks,
    }),
  ]
  return noteOldKeyAtConfirm(targets, emulator, oldSecret, oldAliveAtConfirm)
}

/** What each consumer holds now: the GitHub secret (opened) and the Vercel variable, and what the latest deployment runs with. */
function consumers(variable: string) {
  return {
    github: github.control.secret({ repository: 'acme/app' }, variable)?.value,
    vercel: vercel.control.env('web').find((entry) => entry.key === variable)?.value,
    deployed: vercel.control.deployments('web')[0]?.env[variable],
  }
}

describe.each(vendors)('rotation at %s delivered to GitHub Actions and Vercel', (vendor) => {
  it('plans each target, then writes, redeploys and confirms both before the old key is retired', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const variable = `${vendor.toUpperCase()}_API_KEY`
      github.control.seedSecret({ repository: 'acme/app' }, 'OTHER_SECRET', 'github-untouched')
      vercel.control.seedEnv('web', {
        key: 'DATABASE_URL',
        value: 'vercel-untouched',
        target: ['production'],
      })
      const alive: boolean[] = []
      const plan = await rotateKey(store, {
        keyId: old.id,
        targets: targetsFor(emulator, old.secret, alive),
        dryRun: true,
      })
      expect(
        plan.targets.map((target) => [target.kind, target.location, target.propagate]),
      ).toEqual([
        [
          'github-actions',
          `repository acme/app, Actions secret ${variable}`,
          'nothing: the next workflow run reads the secret',
        ],
        [
          'vercel',
          `project web (team ${vercel.settings.teamId}), sensitive variable ${variable} for production`,
          'redeploys the last production deployment',
        ],
      ])
      expect(plan.targets.every((target) => target.cannotConfirm !== null)).toBe(true)
      expect([github.requests, vercel.requests]).toEqual([[], []])

      const result = await rotateKey(store, {
        ...quick,
        keyId: old.id,
        targets: targetsFor(emulator, old.secret, alive),
      })
      const secret = result.secret?.reveal() as string
      expect(alive).toEqual([true, true])
      expect(consumers(variable)).toEqual({ github: secret, vercel: secret, deployed: secret })
      expect(emulator.control.works(old.secret)).toBe(false)
      expect(emulator.control.works(secret)).toBe(true)
      expect(
        result.deliveries.map((delivery) => [delivery.kind, delivery.holds, delivery.progress]),
      ).toEqual([
        ['github-actions', 'new', 'confirmed'],
        ['vercel', 'new', 'confirmed'],
      ])
      // No other variable changed.
      expect(github.control.secret({ repository: 'acme/app' }, 'OTHER_SECRET')?.value).toBe(
        'github-untouched',
      )
      expect(vercel.control.env('web').find((entry) => entry.key === 'DATABASE_URL')?.value).toBe(
        'vercel-untouched',
      )
      expect(
        findSecrets(
          [result.deliveries, events],
          [secret, old.secret, github.settings.token, vercel.settings.token],
        ),
      ).toEqual([])
    }))

  it.each(JOURNAL_KILL_POINTS)(
    'a worker killed %s (%s the journal write) resumes with each target written and redeployed once',
    (state, when) =>
      withEmulator(vendor, async (emulator) => {
        const store = storeFor(emulator)
        const old = seedKey(emulator)
        const variable = `${vendor.toUpperCase()}_API_KEY`
        await killAndResume(store, emulator, old, { state, when }, (alive) =>
          targetsFor(emulator, old.secret, alive),
        )
        const held = consumers(variable)
        expect(held.github).toBe(held.vercel)
        expect(held.deployed).toBe(held.vercel)
        expect(emulator.control.works(held.github as string)).toBe(true)
        expect(github.requests.filter((request) => request.method === 'PUT')).toHaveLength(1)
        expect(
          vercel.requests.filter(
            (request) => request.method === 'POST' && request.path.startsWith('/v10/'),
          ),
        ).toHaveLength(1)
        expect(
          vercel.requests.filter(
            (request) => request.method === 'POST' && request.path.startsWith('/v13/'),
          ),
        ).toHaveLength(1)
      }),
  )

  it('a redeploy that fails keeps the new key and the old one live, says where each target stands, and a rerun finishes', () =>
    withEmulator(vendor, async (emulator) => {
      const store = storeFor(emulator)
      const old = seedKey(emulator)
      const variable = `${vendor.toUpperCase()}_API_KEY`
      const journal = memoryJournal()
      const alive: boolean[] = []
      const options = { ...quick, keyId: old.id, rotationId: 'nightly-2', journal }
      vercel.control.nextDeployments('error')
      const { failure, newKeyId } = await expectDeliveryFailure(
        rotateKey(store, { ...options, targets: targetsFor(emulator, old.secret, alive) }),
        journal,
        'nightly-2',
        {
          progress: [
            ['github-actions', 'confirmed'],
            ['vercel', 'written'],
          ],
          failed: 1,
          reason: /ended ERROR/,
        },
      )
      const first = consumers(variable)
      // Both keys work: GitHub's workflows on the new one, Vercel's running deployment on the old.
      expect([
        emulator.control.works(old.secret),
        emulator.control.works(first.github as string),
      ]).toEqual([true, true])
      expect(findSecrets(failure, [old.secret, first.github as string])).toEqual([])

      const result = await rotateKey(store, {
        ...options,
        targets: targetsFor(emulator, old.secret, alive),
      })
      const final = consumers(variable)
      expect(final).toEqual({ github: final.vercel, vercel: final.vercel, deployed: final.vercel })
      expect(emulator.control.works(final.vercel as string)).toBe(true)
      expect(emulator.control.works(old.secret)).toBe(false)
      // A key given to GitHub and then replaced (its secret could not be read again) is retired too.
      if (result.newKeyId !== newKeyId)
        expect(emulator.control.works(first.github as string)).toBe(false)
      expect(alive.every(Boolean)).toBe(true)
    }))
})
