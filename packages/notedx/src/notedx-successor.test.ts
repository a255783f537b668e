import { startEmulator } from '@keyway/testkit'
import { useEmulator } from '@keyway/testkit/conformance'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  createNoteDxKeyStore,
  NOTEDX_SANDBOX_BLOCKED,
  type NoteDxKeyStore,
} from './notedx-key-store.js'

const emulator = useEmulator(() => startEmulator('notedx'))
let store: NoteDxKeyStore
beforeEach(() => {
  store = createNoteDxKeyStore({ ...emulator.settings, retry: false })
})

describe('NoteDx successorInput', () => {
  it('carries a live key’s type and metadata: the new key is stored just like the old', async () => {
    const old = await store.create({ type: 'live', metadata: { team: 'platform', env: 'prod' } })
    const plan = await store.successorInput(await store.get(old.key.id))
    expect(plan).toEqual({
      input: { type: 'live', metadata: { team: 'platform', env: 'prod' } },
      warnings: [],
    })
    const successor = await store.create(plan.input)
    expect(emulator.control.keyAttributes(successor.secret.reveal())).toEqual({
      type: 'live',
      metadata: { team: 'platform', env: 'prod' },
    })
  })

  it('blocks the sandbox key, which cannot have a second beside it', async () => {
    const sandbox = (await store.list()).find(
      (key) => (key.raw as { type: string }).type === 'sandbox',
    )
    const before = emulator.requests.filter((request) => request.method === 'POST').length
    const plan = await store.successorInput(sandbox as NonNullable<typeof sandbox>)
    expect(plan.blocked).toBe(NOTEDX_SANDBOX_BLOCKED)
    expect(plan.blocked).toMatch(/one sandbox key per account/)
    // Only reads (and a login): nothing created.
    const posts = emulator.requests.filter((request) => request.method === 'POST')
    expect(posts.slice(before).map((request) => request.path)).not.toContain(
      '/v1/user/create-api-key',
    )
  })
})
