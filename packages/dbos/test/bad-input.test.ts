import { ValidationError } from '@keyway/core'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { describe, expect, it } from 'vitest'
import { defineKeywayRotations, type KeywayRotationsOptions } from '../src/index.js'
import { testSealingKey } from './fleet.js'

// Refused before DBOS is launched or anything reaches a database: the pool never connects.
const base: KeywayRotationsOptions = {
  databaseUrl: 'postgresql://127.0.0.1:1/unused',
  sealingKey: testSealingKey(),
  stores: {},
  deliver: () => {},
  takeover: false,
}

async function refusal(act: () => unknown): Promise<{ path: string | undefined }> {
  try {
    await act()
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return { path: (error as ValidationError).issues?.[0]?.path }
  }
  throw new Error('not refused')
}

describe('what names a rotation', () => {
  it("refuses store labels a policy could not name, a fleet rotating its stores' own credentials, policies of one name, no delivery, and empty or oversized rotation names", async () => {
    const store = createOpenRouterKeyStore({
      managementKey: 'test-only-management-key',
      baseUrl: 'http://127.0.0.1:1',
    }) as never
    const openrouter = { openrouter: { store } }
    const monthly = { name: 'monthly', schedule: '0 3 * * *' }
    // Options no rotations are defined with, each with the path of the issue refusing them.
    const definitions: Array<[Partial<KeywayRotationsOptions>, string]> = [
      ...['', 'prod/openrouter', 'line\nbreak'].map(
        (label): [Partial<KeywayRotationsOptions>, string] => [
          { stores: { [label]: { store } } },
          'stores',
        ],
      ),
      // A switch moves only the store of the worker that ran it: every other worker would keep
      // the credential the rotation then retires.
      [{ stores: openrouter, rotation: { allowSelf: true } as never }, 'rotation.allowSelf'],
      // Two policies of one name would share a schedule and a batch: the second never ran.
      [{ stores: openrouter, policies: [monthly, { ...monthly, maxAgeMs: 1 }] }, 'policies.name'],
      // Without a delivery every rotation would fail at its first step.
      [{ stores: openrouter, deliver: undefined as never }, 'deliver'],
    ]
    for (const [options, path] of definitions) {
      expect(await refusal(() => defineKeywayRotations({ ...base, ...options }))).toEqual({ path })
    }
    const rotations = defineKeywayRotations({ ...base, stores: openrouter })
    // An OpenRouter key id: its hash, 64 hex.
    const keyId = 'a'.repeat(64)
    const acts: Array<[() => unknown, string]> = [
      [() => rotations.enqueue('', 'openrouter', keyId), 'batchId'],
      // The store's own id check, as its get makes it.
      [() => rotations.enqueue('nightly', 'openrouter', ''), 'id'],
      [() => rotations.enqueueBatch('nightly', 'openrouter', [keyId, '']), 'id'],
      // Core's journal takes rotation ids of at most 200 characters: the encoded id must fit.
      [() => rotations.enqueue('é'.repeat(40), 'openrouter', keyId), 'batchId'],
      [() => rotations.enqueue('nightly', 'elsewhere', keyId), 'label'],
      // DBOS keeps one registration of keyway's workflows a process: a second definition is refused.
      [() => defineKeywayRotations({ ...base, stores: openrouter }), 'defineKeywayRotations'],
    ]
    for (const [act, path] of acts) expect(await refusal(act)).toEqual({ path })
  })
})
