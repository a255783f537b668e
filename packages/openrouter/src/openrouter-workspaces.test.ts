import { memoryJournal, rotateKeys } from '@keyway/core'
import { startEmulator } from '@keyway/testkit'
import { useEmulator } from '@keyway/testkit/conformance'
import { beforeEach, describe, expect, it } from 'vitest'
import { createOpenRouterKeyStore, type OpenRouterKeyStore } from './openrouter-key-store.js'
import { seedTwoWorkspaces } from './workspaces.test-support.js'

const emulator = useEmulator(() => startEmulator('openrouter', { seedKeys: 1 }))
let store: OpenRouterKeyStore
beforeEach(() => {
  store = createOpenRouterKeyStore(emulator.settings)
})

const workspaceOf = (secret: string) => emulator.control.keyAttributes(secret)?.workspace_id

describe('OpenRouter keys in other workspaces', () => {
  it('iterates the keys of three workspaces, each telling its workspace', async () => {
    const { research, staging, inResearch, inStaging } = seedTwoWorkspaces(emulator.control)
    const seen: Array<[string | null, string]> = []
    for await (const key of store.iterate()) {
      expect(key.workspace).toBe((key.raw as { workspace_id: string }).workspace_id)
      seen.push([key.name, key.workspace as string])
    }
    expect(seen).toEqual([
      ['seed-key-1', emulator.control.defaultWorkspaceId],
      ['research-1', research],
      ['staging-1', staging],
    ])
    expect((await store.get(inResearch.id)).id).toBe(inResearch.id)
    expect((await store.get(inStaging.id)).workspace).toBe(staging)
  })

  it('rotateKeys rotates a key of another workspace, and its successor stays in that workspace', async () => {
    const research = emulator.control.seedWorkspace({ name: 'Research' }).id
    const old = emulator.control.seedKey({ name: 'research-ci', workspaceId: research })
    const delivered: string[] = []
    const result = await rotateKeys(store, {
      journal: memoryJournal(),
      filter: (key) => key.name === 'research-ci',
      verifyIntervalMs: 0,
      deliver: (created) => void delivered.push(created.secret.reveal()),
    })
    expect(result.outcomes.map((outcome) => [outcome.keyId, outcome.status])).toEqual([
      [old.id, 'rotated'],
    ])
    expect(delivered).toHaveLength(1)
    expect(workspaceOf(delivered[0] as string)).toBe(research)
    expect(emulator.control.works(old.secret)).toBe(false)
    const creates = emulator.requests.filter(
      (request) => request.method === 'POST' && request.path === '/api/v1/keys',
    )
    expect(
      creates.map((request) => (request.body as { workspace_id?: string }).workspace_id),
    ).toEqual([research])
  })
})

describe('OpenRouter spend', () => {
  it('maps usage, monthly usage, limit, what is left and the reset into ApiKey.spend and raw', async () => {
    const { id } = emulator.control.seedKey({ name: 'capped', limit: 20, limitReset: 'weekly' })
    emulator.control.spend(id, 7.5)
    const key = await store.get(id)
    expect(key.spend).toEqual({
      used: 7.5,
      usedThisMonth: 7.5,
      usedToday: 7.5,
      usedThisWeek: 7.5,
      limit: 20,
      remaining: 12.5,
      limitReset: 'weekly',
    })
    expect(key.raw).toMatchObject({ usage: 7.5, usage_monthly: 7.5, limit_remaining: 12.5 })
    const listed = (await store.list()).find((candidate) => candidate.id === id)
    expect(listed?.spend).toEqual(key.spend)
    expect(store.capabilities.spendLimit).toBe(true)
  })
})
