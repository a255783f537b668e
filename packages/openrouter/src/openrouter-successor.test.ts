import {
  AmbiguousCreateError,
  type ApiKey,
  ResponseValidationError,
  ValidationError,
} from '@keyway/core'
import { createMarker } from '@keyway/core/adapter'
import { startEmulator } from '@keyway/testkit'
import { useEmulator } from '@keyway/testkit/conformance'
import { beforeEach, describe, expect, it } from 'vitest'
import { GuardrailAssignmentError } from './openrouter-errors.js'
import {
  createOpenRouterKeyStore,
  type OpenRouterCreateKeyInput,
  type OpenRouterKeyStore,
} from './openrouter-key-store.js'
import { seedTwoWorkspaces } from './workspaces.test-support.js'

const emulator = useEmulator(() => startEmulator('openrouter'))
const fastRetry = { baseDelayMs: 1, maxDelayMs: 2, random: () => 0.5 }
let store: OpenRouterKeyStore
beforeEach(() => {
  store = createOpenRouterKeyStore({ ...emulator.settings, retry: fastRetry })
})

const paths = (from: number, prefix: string) =>
  emulator.requests
    .slice(from)
    .map((request) => request.path)
    .filter((path) => path.startsWith(`/api/v1${prefix}`))

describe('OpenRouter listing', () => {
  it('lists the keys of every workspace, asking for each by workspace_id', async () => {
    const { research, staging, inResearch, inStaging } = seedTwoWorkspaces(emulator.control)
    const before = emulator.requests.length
    const keys = await store.list()
    expect(keys).toHaveLength(5)
    expect(keys.map((key) => key.id)).toEqual(expect.arrayContaining([inResearch.id, inStaging.id]))
    const research1 = keys.find((key) => key.id === inResearch.id) as ApiKey
    expect((research1.raw as { workspace_id: string }).workspace_id).toBe(research)
    const listed = paths(before, '/keys').map((path) => new URL(path, 'http://x').searchParams)
    expect(listed.map((query) => query.get('workspace_id'))).toEqual([
      emulator.control.defaultWorkspaceId,
      research,
      staging,
    ])
  })

  it('gets, updates and deletes a key of another workspace by its hash', async () => {
    const workspace = emulator.control.seedWorkspace().id
    const { id, secret } = emulator.control.seedKey({ name: 'elsewhere', workspaceId: workspace })
    expect((await store.get(id)).name).toBe('elsewhere')
    expect((await store.update(id, { name: 'renamed' })).name).toBe('renamed')
    await store.delete(id)
    expect(emulator.control.works(secret)).toBe(false)
  })

  // A hundred workspaces and a hundred and one key listings: given time on a busy machine.
  it('pages the workspaces by 100', { timeout: 30_000 }, async () => {
    for (let index = 0; index < 100; index++) emulator.control.seedWorkspace()
    const before = emulator.requests.length
    await store.list()
    expect(paths(before, '/workspaces')).toEqual([
      '/api/v1/workspaces?offset=0&limit=100',
      '/api/v1/workspaces?offset=100&limit=100',
    ])
    expect(paths(before, '/keys')).toHaveLength(101)
  })
})

describe('OpenRouter create with a workspace and a guardrail', () => {
  it('sends workspace_id, then assigns the guardrail to the new key', async () => {
    const workspaceId = emulator.control.seedWorkspace().id
    const guardrailId = emulator.control.seedGuardrail().id
    const before = emulator.requests.length
    const marker = createMarker()
    const created = await store.create({ name: 'guarded', workspaceId, guardrailId }, { marker })
    const writes = emulator.requests.slice(before).filter((request) => request.method === 'POST')
    expect(writes.map((request) => [request.path, request.body])).toEqual([
      ['/api/v1/keys', { name: `guarded~${marker}`, workspace_id: workspaceId }],
      [`/api/v1/guardrails/${guardrailId}/assignments/keys`, { key_hashes: [created.key.id] }],
    ])
    expect(emulator.control.keyAttributes(created.secret.reveal())).toMatchObject({
      workspace_id: workspaceId,
      guardrail_id: guardrailId,
    })
  })

  it('deletes the new key again when the guardrail cannot be assigned, and says so', async () => {
    const before = new Set(emulator.control.keyIds())
    const error = await store
      .create({ name: 'guarded', guardrailId: '99999999-9999-4999-8999-999999999999' })
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(GuardrailAssignmentError)
    const failure = error as GuardrailAssignmentError
    expect(failure.code).toBe('guardrail_assignment_failed')
    expect(failure.message).toMatch(/could not be assigned.*was deleted again/)
    expect(failure.status).toBeUndefined()
    expect(new Set(emulator.control.keyIds())).toEqual(before)
    const deletes = emulator.requests.filter((request) => request.method === 'DELETE')
    expect(deletes.map((request) => request.path)).toEqual([`/api/v1/keys/${failure.deletedKeyId}`])
  })

  it('names the key when neither the assignment nor the delete goes through', async () => {
    const guardrailId = emulator.control.seedGuardrail().id
    emulator.inject({ match: { path: /\/assignments\/keys$/ }, status: 503, times: 10 })
    emulator.inject({ match: { method: 'DELETE' }, status: 503, times: 10 })
    const before = new Set(emulator.control.keyIds())
    const error = await store
      .create({ name: 'guarded', guardrailId })
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(AmbiguousCreateError)
    const left = emulator.control.keyIds().filter((id) => !before.has(id))
    expect(left).toHaveLength(1)
    expect((error as AmbiguousCreateError).candidateIds).toEqual(left)
  })

  it('refuses, sending nothing, a workspaceId that is not a UUID or a guardrailId with a path in it', async () => {
    const before = emulator.requests.length
    await expect(store.create({ name: 'x', workspaceId: 'research' })).rejects.toBeInstanceOf(
      ValidationError,
    )
    await expect(store.create({ name: 'x', guardrailId: '../keys' })).rejects.toBeInstanceOf(
      ValidationError,
    )
    expect(emulator.requests.length).toBe(before)
  })
})

describe('OpenRouter successorInput', () => {
  const everything = async () => {
    const workspaceId = emulator.control.seedWorkspace({ name: 'Research' }).id
    const guardrailId = emulator.control.seedGuardrail().id
    const input: OpenRouterCreateKeyInput = {
      name: 'ci-deploy',
      limit: 5,
      limitReset: 'daily',
      includeByokInLimit: true,
      expiresAt: new Date(Date.now() + 7 * 86_400_000),
      workspaceId,
      guardrailId,
    }
    const old = await store.create(input)
    const listed = (await store.list()).find((key) => key.id === old.key.id) as ApiKey
    return { old, listed, input, workspaceId }
  }

  it('carries limit, reset, BYOK, expiry, workspace and guardrail: the new key is stored alike', async () => {
    const { old, listed, input, workspaceId } = await everything()
    const plan = await store.successorInput(listed)
    expect(plan.input).toEqual(input)
    expect(plan.blocked).toBeUndefined()
    const successor = await store.create(plan.input)
    const attributes = emulator.control.keyAttributes(successor.secret.reveal())
    expect(attributes).toEqual(emulator.control.keyAttributes(old.secret.reveal()))
    expect(attributes).toMatchObject({ limit: 5, workspace_id: workspaceId })
  })

  it('warns about what cannot be carried: spend alert, hashes elsewhere, a fresh limit', async () => {
    const { listed } = await everything()
    const { warnings } = await store.successorInput(listed)
    expect(warnings).toEqual([
      expect.stringMatching(/spend alert is set only in the dashboard/),
      expect.stringMatching(
        /allowed_api_key_hashes.*api_key_hashes.*io_logging_api_key_ids.*must update them/,
      ),
      expect.stringMatching(/starts again with its whole limit of \$5/),
    ])
  })

  it('finds a guardrail assigned in the dashboard, paging the assignments by 100', async () => {
    const guardrail = emulator.control.seedGuardrail().id
    const other = emulator.control.seedGuardrail().id
    for (let index = 0; index < 120; index++)
      emulator.control.seedKey({ name: `bulk-${index}`, guardrailId: other })
    const { id } = emulator.control.seedKey({ name: 'last', guardrailId: guardrail })
    const before = emulator.requests.length
    const plan = await store.successorInput(await store.get(id))
    expect(plan.input.guardrailId).toBe(guardrail)
    expect(paths(before, '/guardrails')).toEqual([
      '/api/v1/guardrails/assignments/keys?offset=0&limit=100',
      '/api/v1/guardrails/assignments/keys?offset=100&limit=100',
    ])
  })

  it('carries no guardrail where the key has none, and no limit warning without a limit', async () => {
    const [seeded] = await store.list()
    const plan = await store.successorInput(seeded as ApiKey)
    expect(plan.input).toEqual({
      name: seeded?.name,
      includeByokInLimit: false,
      workspaceId: emulator.control.defaultWorkspaceId,
    })
    expect(plan.warnings).toHaveLength(2)
  })

  it('leaves out an expiry that has passed, with a warning', async () => {
    const [seeded] = await store.list()
    const past = '2020-01-01T00:00:00.000Z'
    const expired = {
      ...(seeded as ApiKey),
      expiresAt: new Date(past),
      raw: { ...((seeded as ApiKey).raw as object), expires_at: past },
    }
    const plan = await store.successorInput(expired)
    expect(plan.input.expiresAt).toBeUndefined()
    expect(plan.warnings[0]).toMatch(/expiry \(2020-01-01T00:00:00.000Z\) has passed/)
  })
})

describe('OpenRouter verify', () => {
  it.each([
    ['a body that is not JSON', { malformed: true }],
    ['a body of another shape', { status: 200, body: { data: { label: 'x' } } }],
  ])('throws ResponseValidationError for a 2xx with %s', async (_name, fault) => {
    const created = await store.create({ name: 'fresh' })
    emulator.inject({ match: { path: '/api/v1/key' }, times: 5, ...fault })
    await expect(store.verify(created.secret)).rejects.toBeInstanceOf(ResponseValidationError)
  })
})
