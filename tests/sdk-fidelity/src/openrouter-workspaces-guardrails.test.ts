// The SDK's workspace list and guardrail key assignments against the emulator, through the
// SDK's own page iterators, which follow `offset` and `limit` the way the SDK reads the spec.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  apiPath,
  type OpenRouterEmulator,
  sdkFor,
  startEmulatorForSdk,
  wire,
} from './openrouter-sdk.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

let emulator: OpenRouterEmulator

beforeEach(async () => {
  emulator = await startEmulatorForSdk()
})
afterEach(async () => {
  await emulator.close()
})

describe('workspaces.list', () => {
  it('pages every workspace through the SDK iterator, each with a default guardrail id', async () => {
    const seeded = ['Staging', 'Production', 'Research', 'Partners'].map(
      (name) => emulator.control.seedWorkspace({ name }).id,
    )
    const sdk = sdkFor(emulator)
    const pages: Array<{ ids: string[]; totalCount: number }> = []
    const guardrails: string[] = []
    for await (const page of await sdk.workspaces.list({ limit: 2 })) {
      pages.push({
        ids: page.result.data.map((item) => item.id),
        totalCount: page.result.totalCount,
      })
      for (const workspace of page.result.data) {
        expect(workspace.defaultGuardrailId).toMatch(UUID)
        guardrails.push(workspace.defaultGuardrailId)
      }
    }
    expect(pages).toEqual([
      { ids: [emulator.control.defaultWorkspaceId, seeded[0]], totalCount: 5 },
      { ids: [seeded[1], seeded[2]], totalCount: 5 },
      { ids: [seeded[3]], totalCount: 5 },
    ])
    expect(new Set(guardrails).size).toBe(5)
    expect(wire(emulator).map((request) => request.path)).toEqual([
      apiPath('/workspaces?limit=2&offset=0'),
      apiPath('/workspaces?limit=2&offset=2'),
      apiPath('/workspaces?limit=2&offset=4'),
    ])

    // The same workspace keeps its default guardrail id from one call to the next.
    const again = await sdk.workspaces.list({ limit: 100 })
    expect(again.result.data.map((item) => item.defaultGuardrailId)).toEqual(guardrails)
  })

  it('reads the default workspace with every field the SDK requires', async () => {
    const page = await sdkFor(emulator).workspaces.list()
    expect(page.result).toEqual({
      data: [
        {
          id: emulator.control.defaultWorkspaceId,
          slug: 'default',
          name: 'Default Workspace',
          description: null,
          createdAt: expect.any(String),
          updatedAt: null,
          createdBy: 'user_emulated',
          defaultGuardrailId: expect.stringMatching(UUID),
          defaultTextModel: null,
          defaultImageModel: null,
          defaultProviderSort: null,
          includeByokInBudgets: false,
          ioLoggingApiKeyIds: null,
          ioLoggingSamplingRate: 1,
          isDataDiscountLoggingEnabled: false,
          isObservabilityBroadcastEnabled: false,
          isObservabilityIoLoggingEnabled: false,
        },
      ],
      totalCount: 1,
    })
  })
})

describe('guardrails: key assignments', () => {
  it('assigns keys, lists them for the account and for one guardrail, and unassigns', async () => {
    const sdk = sdkFor(emulator)
    const strict = emulator.control.seedGuardrail({ name: 'Strict' }).id
    const loose = emulator.control.seedGuardrail({ name: 'Loose' }).id
    const first = emulator.control.seedKey({ name: 'first' })
    const second = emulator.control.seedKey({ name: 'second' })

    const assigned = await sdk.guardrails.bulkAssignKeys({
      id: strict,
      bulkAssignKeysRequest: { keyHashes: [first.id, second.id] },
    })
    expect(assigned).toEqual({ assignedCount: 2 })
    expect(wire(emulator)).toEqual([
      {
        method: 'POST',
        path: apiPath(`/guardrails/${strict}/assignments/keys`),
        body: { key_hashes: [first.id, second.id] },
      },
    ])

    const all = await sdk.guardrails.listKeyAssignments()
    expect(all.result.totalCount).toBe(2)
    expect(all.result.data).toEqual(
      [first, second].map((key, index) => ({
        id: expect.stringMatching(UUID),
        keyHash: key.id,
        keyName: index === 0 ? 'first' : 'second',
        keyLabel: `sk-or-v1-${key.secret.slice(9, 12)}...${key.secret.slice(-3)}`,
        guardrailId: strict,
        assignedBy: 'user_emulated',
        createdAt: expect.any(String),
      })),
    )

    // Assigning replaces a key's guardrail: the second key moves to the loose one.
    await sdk.guardrails.bulkAssignKeys({
      id: loose,
      bulkAssignKeysRequest: { keyHashes: [second.id] },
    })
    const ofStrict = await sdk.guardrails.listGuardrailKeyAssignments({ id: strict })
    expect(ofStrict.result.data.map((item) => item.keyHash)).toEqual([first.id])
    const ofLoose = await sdk.guardrails.listGuardrailKeyAssignments({ id: loose })
    expect(ofLoose.result).toMatchObject({ data: [{ keyHash: second.id, guardrailId: loose }] })
    expect(emulator.control.keyAttributes(second.secret)?.guardrail_id).toBe(loose)

    const unassigned = await sdk.guardrails.bulkUnassignKeys({
      id: strict,
      bulkUnassignKeysRequest: { keyHashes: [first.id, second.id] },
    })
    // The second key holds the other guardrail, so only the first was unassigned.
    expect(unassigned).toEqual({ unassignedCount: 1 })
    expect(wire(emulator).at(-1)).toEqual({
      method: 'POST',
      path: apiPath(`/guardrails/${strict}/assignments/keys/remove`),
      body: { key_hashes: [first.id, second.id] },
    })
    expect(emulator.control.keyAttributes(first.secret)?.guardrail_id).toBeNull()
    expect((await sdk.guardrails.listKeyAssignments()).result.totalCount).toBe(1)
  })

  it('pages the account-wide and the per-guardrail assignments through the SDK iterator', async () => {
    const sdk = sdkFor(emulator)
    const guardrailId = emulator.control.seedGuardrail().id
    const hashes = [0, 1, 2, 3, 4].map(
      (index) => emulator.control.seedKey({ name: `guarded-${index}`, guardrailId }).id,
    )
    const from = emulator.requests.length
    const seen: string[][] = []
    for await (const page of await sdk.guardrails.listKeyAssignments({ limit: 2 })) {
      seen.push(page.result.data.map((item) => item.keyHash))
    }
    expect(seen).toEqual([hashes.slice(0, 2), hashes.slice(2, 4), hashes.slice(4)])
    const seenOfOne: string[][] = []
    for await (const page of await sdk.guardrails.listGuardrailKeyAssignments({
      id: guardrailId,
      limit: 3,
    })) {
      seenOfOne.push(page.result.data.map((item) => item.keyHash))
    }
    expect(seenOfOne).toEqual([hashes.slice(0, 3), hashes.slice(3)])
    expect(wire(emulator, from).map((request) => request.path)).toEqual([
      apiPath('/guardrails/assignments/keys?limit=2&offset=0'),
      apiPath('/guardrails/assignments/keys?limit=2&offset=2'),
      apiPath('/guardrails/assignments/keys?limit=2&offset=4'),
      apiPath(`/guardrails/${guardrailId}/assignments/keys?limit=3&offset=0`),
      apiPath(`/guardrails/${guardrailId}/assignments/keys?limit=3&offset=3`),
    ])
  })
})
