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
    for (const label of ['', 'prod/openrouter', 'line\nbreak']) {
      expect(
        await refusal(() => defineKeywayRotations({ ...base, stores: { [label]: { store } } })),
      ).toEqual({ path: 'stores' })
    }
    // A switch moves only the store of the worker that ran it: every other worker would keep
    // the credential the rotation then retires.
    expect(
      await refusal(() =>
        defineKeywayRotations({
          ...base,
          stores: { openrouter: { store } },
          rotation: { allowSelf: true } as never,
        }),
      ),
    ).toEqual({ path: 'rotation.allowSelf' })
    // Two policies of one name would share a schedule and a batch: the second never ran.
    const monthly = { name: 'monthly', schedule: '0 3 * * *' }
    expect(
      await refusal(() =>
        defineKeywayRotations({
          ...base,
          stores: { openrouter: { store } },
          policies: [monthly, { ...monthly, maxAgeMs: 1 }],
        }),
      ),
    ).toEqual({ path: 'policies.name' })
    // Without a delivery every rotation would fail at its first step.
    expect(
      await refusal(() =>
        defineKeywayRotations({
          ...base,
          stores: { openrouter: { store } },
          deliver: undefined as never,
        }),
      ),
    ).toEqual({ path: 'deliver' })
    const rotations = defineKeywayRotations({ ...base, stores: { openrouter: { store } } })
    // An OpenRouter key id: its hash, 64 hex.
    const keyId = 'a'.repeat(64)
    expect(await refusal(() => rotations.enqueue('', 'openrouter', keyId))).toEqual({
      path: 'batchId',
    })
    // The store's own id check, as its get makes it.
    expect(await refusal(() => rotations.enqueue('nightly', 'openrouter', ''))).toEqual({
      path: 'id',
    })
    expect(
      await refusal(() => rotations.enqueueBatch('nightly', 'openrouter', [keyId, ''])),
    ).toEqual({
      path: 'id',
    })
    // Core's journal takes rotation ids of at most 200 characters: the encoded id must fit.
    expect(await refusal(() => rotations.enqueue('é'.repeat(40), 'openrouter', keyId))).toEqual({
      path: 'batchId',
    })
    expect(await refusal(() => rotations.enqueue('nightly', 'elsewhere', keyId))).toEqual({
      path: 'label',
    })
    // DBOS keeps one registration of keyway's workflows a process: a second definition is refused.
    expect(
      await refusal(() => defineKeywayRotations({ ...base, stores: { openrouter: { store } } })),
    ).toEqual({ path: 'defineKeywayRotations' })
  })
})
