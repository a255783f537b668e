// Rotating OpenAI keys through core's rotation, against the emulator: a project key's
// successor is a new service account in the same project, and the old key goes (with its
// account) only once the new one was delivered; nothing else in the project changes.
import {
  type CreatedKey,
  memoryJournal,
  type RotationJournal,
  type RotationState,
  rotateKey,
  rotateKeys,
  ValidationError,
} from '@keyway/core'
import {
  type Emulator,
  OPENAI_EMULATED_PROJECT,
  type OpenAIEmulatorControl,
  startOpenAIEmulator,
} from '@keyway/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createOpenAIKeyStore, type OpenAIKeyStore } from './openai-key-store.js'

const fastRetry = { baseDelayMs: 5, maxDelayMs: 20, random: () => 0.5 }

/** Thrown by the crashing journal: stands for the process dying at that moment. */
class Crash extends Error {}

/**
 * A journal that dies once, when a rotation writes `state` (`'before'`: the record is not
 * saved; `'after'`: it is). The records survive, as a file would.
 */
function crashingJournal(state: RotationState, when: 'before' | 'after'): RotationJournal {
  const journal = memoryJournal()
  let crashed = false
  return {
    ...journal,
    write: async (record) => {
      const crashNow = !crashed && record.state === state
      if (crashNow) crashed = true
      if (crashNow && when === 'before') throw new Crash(state)
      await journal.write(record)
      if (crashNow) throw new Crash(state)
    },
  }
}

let emulator: Emulator<OpenAIEmulatorControl, 'openai'>
let store: OpenAIKeyStore

beforeEach(async () => {
  emulator = await startOpenAIEmulator({ seedKind: 'project' })
  store = createOpenAIKeyStore({
    ...emulator.settings,
    project: OPENAI_EMULATED_PROJECT,
    retry: fastRetry,
  })
})

afterEach(async () => {
  await emulator.close()
})

const project = () =>
  emulator.control.projectState() as NonNullable<ReturnType<OpenAIEmulatorControl['projectState']>>

/** The project as it is, without the service accounts `accountIds` and their keys. */
function rest(accountIds: readonly string[]) {
  const state = project()
  return {
    serviceAccounts: state.serviceAccounts.filter((account) => !accountIds.includes(account.id)),
    keys: state.keys.filter((key) => !accountIds.includes(key.owner)),
  }
}

/** The service account that owns key `keyId`. */
const accountOf = (keyId: string) =>
  project().serviceAccounts.find((account) => account.keyIds.includes(keyId))

describe('rotating a project key', () => {
  it('makes exactly one new service account in the project, delivers, then deletes the old one; nothing else changes', async () => {
    const old = emulator.control.seedKey({ name: 'ci-deploy' })
    const oldAccount = accountOf(old.id)?.id as string
    const before = project()
    const others = rest([oldAccount])
    const deliveredAt: number[] = []
    let oldWorkedAtDelivery = false

    const result = await rotateKey(store, {
      keyId: old.id,
      deliver: (created: CreatedKey) => {
        deliveredAt.push(emulator.requests.length)
        oldWorkedAtDelivery = emulator.control.works(old.secret)
        expect(emulator.control.works(created.secret.reveal())).toBe(true)
      },
    })

    const after = project()
    const added = after.serviceAccounts.filter(
      (account) => !before.serviceAccounts.some((earlier) => earlier.id === account.id),
    )
    expect(added).toEqual([
      {
        id: expect.stringMatching(/^svc_acct_/),
        name: 'ci-deploy',
        role: 'member',
        keyIds: [result.newKeyId],
      },
    ])
    expect(after.serviceAccounts.map((account) => account.id)).not.toContain(oldAccount)
    expect(rest([oldAccount, ...added.map((account) => account.id)])).toEqual(others)
    expect(emulator.control.works(old.secret)).toBe(false)
    expect(result).toMatchObject({ oldKeyId: old.id, retired: 'deleted' })
    expect(result.secret !== null && emulator.control.works(result.secret.reveal())).toBe(true)

    // The one delete, of the old key's account, comes after the delivery.
    expect(oldWorkedAtDelivery).toBe(true)
    expect(deliveredAt).toHaveLength(1)
    const writes = emulator.requests
      .map((request, index) => ({ ...request, index }))
      .filter((request) => request.method !== 'GET')
    const deletes = writes.filter((request) => request.method === 'DELETE')
    expect(deletes.map((request) => request.path)).toEqual([
      `/v1/organization/projects/${OPENAI_EMULATED_PROJECT}/service_accounts/${oldAccount}`,
    ])
    expect(deletes.every((request) => request.index >= (deliveredAt[0] as number))).toBe(true)
    expect(writes.filter((request) => request.method === 'POST')).toHaveLength(2)
  })

  it.each([
    ['creating', 'after'],
    ['created', 'before'],
    ['created', 'after'],
    ['delivered', 'before'],
    ['delivered', 'after'],
    ['verified', 'after'],
    ['done', 'before'],
  ] as const)(
    'after a crash %s (%s) and a resume: one new key, the old one deleted, nothing else changed',
    async (state, when) => {
      const old = emulator.control.seedKey({ name: 'nightly' })
      const oldAccount = accountOf(old.id)?.id as string
      const before = project()
      const others = rest([oldAccount])
      const delivered: string[] = []
      const options = {
        keyId: old.id,
        rotationId: 'rotation-1',
        journal: crashingJournal(state, when),
        deliver: (created: CreatedKey) => void delivered.push(created.secret.reveal()),
      }
      await expect(rotateKey(store, options)).rejects.toBeInstanceOf(Crash)
      const result = await rotateKey(store, options)

      const after = project()
      const added = after.serviceAccounts.filter(
        (account) => !before.serviceAccounts.some((earlier) => earlier.id === account.id),
      )
      expect(added.map((account) => account.keyIds)).toEqual([[result.newKeyId]])
      expect(added.map((account) => account.name)).toEqual(['nightly'])
      expect(rest([oldAccount, ...added.map((account) => account.id)])).toEqual(others)
      expect(emulator.control.works(old.secret)).toBe(false)
      expect(delivered.filter((secret) => emulator.control.works(secret))).toHaveLength(1)

      // A rerun of the finished rotation writes nothing.
      const sent = emulator.requests.length
      await rotateKey(store, options)
      expect(emulator.requests.slice(sent).filter((request) => request.method !== 'GET')).toEqual(
        [],
      )
    },
  )

  it("carries a service account's owner role over to its successor", async () => {
    const { id } = emulator.control.seedKey({ name: 'admin-bot' })
    const account = accountOf(id)?.id as string
    const response = await fetch(
      `${emulator.settings.baseUrl}/organization/projects/${OPENAI_EMULATED_PROJECT}/service_accounts/${account}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${emulator.settings.adminKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ role: 'owner' }),
      },
    )
    expect(response.status).toBe(200)
    const plan = await store.successorInput(await store.get(id))
    expect(plan).toEqual({ input: { name: 'admin-bot', role: 'owner' }, warnings: [] })
    const result = await rotateKey(store, { keyId: id, deliver: () => {} })
    expect(accountOf(result.newKeyId)).toMatchObject({ name: 'admin-bot', role: 'owner' })
    expect(accountOf(id)).toBeUndefined()
  })

  it('deletes the new service account again when it cannot be made an owner', async () => {
    const before = project()
    emulator.inject({
      match: { method: 'POST', path: /\/service_accounts\/[^/]+$/ },
      status: 400,
    })
    const error = await store
      .create({ name: 'would-own', role: 'owner' })
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ValidationError)
    expect(project()).toEqual(before)
  })

  it("plans a user's key and a service account holding two keys as skipped, and rotates the rest", async () => {
    const plans = (await rotateKeys(store, { dryRun: true })).plans
    const userKey = project().keys.find((key) => key.owner.startsWith('user_'))?.id
    expect(plans.find((plan) => plan.keyId === userKey)).toMatchObject({
      action: 'skip',
      reason: expect.stringContaining('belongs to a user'),
    })
    expect(plans.filter((plan) => plan.action !== 'skip')).toHaveLength(3)
    expect(emulator.requests.every((request) => request.method === 'GET')).toBe(true)
  })
})

describe('rotating admin keys', () => {
  it('rotates an admin key with its expiry, and never retires the store’s own credential', async () => {
    await emulator.close()
    emulator = await startOpenAIEmulator({ seedKeys: 1 })
    store = createOpenAIKeyStore({ ...emulator.settings, retry: fastRetry })
    const old = emulator.control.seedKey({
      kind: 'admin',
      name: 'ops',
      expiresAt: new Date(Date.now() + 7 * 86_400_000),
    })
    const result = await rotateKey(store, { keyId: old.id, deliver: () => {} })
    const created = emulator.requests.find((request) => request.method === 'POST')
    expect(created?.body).toMatchObject({ name: 'ops', expires_in_seconds: expect.any(Number) })
    expect(emulator.control.works(old.secret)).toBe(false)
    expect(result.secret !== null && emulator.control.works(result.secret.reveal())).toBe(true)

    const own = (await store.credentialKeyIds?.()) ?? []
    expect(own).toHaveLength(1)
    const plans = (await rotateKeys(store, { dryRun: true })).plans
    expect(plans.find((plan) => plan.keyId === own[0])?.action).toBe('skip')
  })
})
