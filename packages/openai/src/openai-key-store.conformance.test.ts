import { AmbiguousCreateError, ConflictError, ValidationError } from '@keyway/core'
import {
  OPENAI_EMULATED_PROJECT,
  type OpenAIEmulatorControl,
  startOpenAIEmulator,
} from '@keyway/testkit'
import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { describe, expect, it } from 'vitest'
import {
  createOpenAIKeyStore,
  openAIAdminCapabilities,
  openAIProjectCapabilities,
} from './openai-key-store.js'

const UNKNOWN_ID = 'key_NoSuchKey000000000000000'

describe('admin API keys', () => {
  describeKeyStoreConformance({
    vendor: 'openai',
    startEmulator: startOpenAIEmulator,
    // Admin keys, or a project key minted as a new service account.
    createRequest: { method: 'POST', path: /\/(admin_api_keys|service_accounts)$/ },
    // A project key's service account renamed; admin keys cannot be renamed, nor settled.
    settleRequest: { method: 'POST', path: /\/service_accounts\/[^/]+$/ },
    createStore: (settings) => createOpenAIKeyStore(settings),
    capabilities: openAIAdminCapabilities,
    unknownId: UNKNOWN_ID,
    createsCarryMarker: false,
    additionalTests: (context) => {
      const control = () => context.emulator.control as OpenAIEmulatorControl

      it('creates with expires_in_seconds from expiresAt, and reads the expiry back', async () => {
        const expiresAt = new Date(Date.now() + 3_600_000)
        const created = await context.store.create({ name: 'expiring', expiresAt })
        context.secrets.add(created.secret.reveal())
        const body = context.emulator.requests.at(-1)?.body as Record<string, unknown>
        expect(body.name).toBe('expiring')
        expect(body.expires_in_seconds).toBeGreaterThanOrEqual(3599)
        expect(body.expires_in_seconds).toBeLessThanOrEqual(3600)
        const key = await context.store.get(created.key.id)
        expect(Math.abs((key.expiresAt?.getTime() ?? 0) - expiresAt.getTime())).toBeLessThan(2000)
        expect(key.status).toBe('active')
      })

      it('reads a key past its expiry as expired', async () => {
        const { id } = control().seedKey({
          name: 'stale',
          expiresAt: new Date(Date.now() - 60_000),
        })
        expect((await context.store.get(id)).status).toBe('expired')
        expect((await context.store.list()).map((key) => key.id)).toContain(id)
        const active = await context.store.list({ includeDisabled: false })
        expect(active.map((key) => key.id)).not.toContain(id)
        expect(active.length).toBeGreaterThan(0)
      })

      it('tells which listed admin key may be its own credential, by the redacted value', async () => {
        const keys = await context.store.list()
        const own = await context.store.credentialKeyIds?.()
        const credential = keys.find((key) => key.name === 'keyway-admin')
        expect(own).toEqual([credential?.id])
        expect(await context.store.credentialKeyIds?.({ among: keys })).toEqual(own)
      })

      it('names the key a lost create may have made, and deletes nothing', async () => {
        const before = context.emulator.control.keyIds()
        context.emulator.inject({ match: { method: 'POST' }, drop: 'after' })
        const error = await context.store
          .create({ name: 'lost-answer' })
          .catch((thrown: unknown) => thrown)
        expect(error).toBeInstanceOf(AmbiguousCreateError)
        const added = context.emulator.control.keyIds().filter((id) => !before.includes(id))
        expect(added).toHaveLength(1)
        expect((error as AmbiguousCreateError).candidateIds).toEqual(added)
        const posts = context.emulator.requests.filter((request) => request.method === 'POST')
        expect(posts).toHaveLength(1)
        expect(context.emulator.requests.some((request) => request.method === 'DELETE')).toBe(false)
      })
    },
  })
})

describe('project API keys', () => {
  const createStore = (settings: Record<string, unknown>) =>
    createOpenAIKeyStore({ ...settings, project: OPENAI_EMULATED_PROJECT })

  describeKeyStoreConformance({
    vendor: 'openai',
    startEmulator: startOpenAIEmulator,
    // Admin keys, or a project key minted as a new service account.
    createRequest: { method: 'POST', path: /\/(admin_api_keys|service_accounts)$/ },
    // A project key's service account renamed; admin keys cannot be renamed, nor settled.
    settleRequest: { method: 'POST', path: /\/service_accounts\/[^/]+$/ },
    createStore,
    capabilities: openAIProjectCapabilities,
    unknownId: UNKNOWN_ID,
    emulator: { seedKind: 'project' },
    successorSeed: () => ({ role: 'owner' }),
    additionalTests: (context) => {
      const control = () => context.emulator.control as OpenAIEmulatorControl
      const projectPath = `/v1/organization/projects/${OPENAI_EMULATED_PROJECT}`

      it('mints a key as a new service account named as asked, and settles its name', async () => {
        const before = control().projectState()
        const created = await context.store.create({ name: 'ci-deploy' })
        context.secrets.add(created.secret.reveal())
        const after = control().projectState()
        const added = after?.serviceAccounts.filter(
          (account) => !before?.serviceAccounts.some((old) => old.id === account.id),
        )
        expect(added).toEqual([
          { id: expect.any(String), name: 'ci-deploy', role: 'member', keyIds: [created.key.id] },
        ])
        expect(created.key.name).toBe('ci-deploy')
        const posts = context.emulator.requests.filter((request) => request.method === 'POST')
        expect(posts.map((request) => request.path)).toEqual([
          `${projectPath}/service_accounts`,
          `${projectPath}/service_accounts/${added?.[0]?.id}`,
        ])
        expect(posts[1]?.body).toEqual({ name: 'ci-deploy' })
      })

      it('lists every key with owner_project_access=any, and only active ones without disabled', async () => {
        const { id } = control().seedKey({ name: 'no-access', disabled: true })
        expect((await context.store.list()).map((key) => key.id)).toContain(id)
        expect(context.emulator.requests.at(-1)?.path).toBe(
          `${projectPath}/api_keys?owner_project_access=any&limit=100`,
        )
        const active = await context.store.list({ includeDisabled: false })
        expect(active.map((key) => key.id)).not.toContain(id)
        expect(context.emulator.requests.at(-1)?.path).toBe(
          `${projectPath}/api_keys?owner_project_access=active&limit=100`,
        )
      })

      it("deletes a user's key with its own delete, and a service account's with its account", async () => {
        const user = control().seedKey({ name: 'laptop', owner: 'user' })
        const account = control().seedKey({ name: 'worker' })
        await context.store.delete(user.id)
        await context.store.delete(account.id)
        const deletes = context.emulator.requests.filter((request) => request.method === 'DELETE')
        expect(deletes.map((request) => request.path)).toEqual([
          `${projectPath}/api_keys/${user.id}`,
          expect.stringMatching(new RegExp(`^${projectPath}/service_accounts/svc_acct_`)),
        ])
        expect(control().works(user.secret)).toBe(false)
        expect(control().works(account.secret)).toBe(false)
      })

      it('refuses to delete a key whose service account holds another, deleting nothing', async () => {
        const { id } = control().seedKey({ name: 'shared' })
        const accountId = control()
          .projectState()
          ?.serviceAccounts.find((account) => account.keyIds.includes(id))?.id as string
        const response = await fetch(
          `${context.emulator.url}${projectPath}/service_accounts/${accountId}/api_keys`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${context.settings.adminKey}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ name: 'second' }),
          },
        )
        const second = (await response.json()) as { value: string }
        context.secrets.add(second.value)
        const before = control().projectState()
        const error = await context.store.delete(id).catch((thrown: unknown) => thrown)
        expect(error).toBeInstanceOf(ConflictError)
        expect(control().projectState()).toEqual(before)
        const key = (await context.store.list()).find((listed) => listed.id === id)
        const plan = await context.store.successorInput(key as never)
        expect(plan.blocked).toContain(accountId)
      })

      it("blocks a rotation of a user's key, saying why", async () => {
        const { id } = control().seedKey({ name: 'laptop', owner: 'user' })
        const key = await context.store.get(id)
        const plan = await context.store.successorInput(key)
        expect(plan.blocked).toBe(
          `openai mints project keys only as service accounts: key ${id} belongs to a user, who makes keys in the dashboard`,
        )
      })

      it('refuses a project id of the wrong shape, naming the setting', () => {
        expect(() =>
          createOpenAIKeyStore({ ...context.settings, project: 'not-a-project' }),
        ).toThrow(ValidationError)
      })
    },
  })
})
