import { AmbiguousCreateError, type ReconcileOptions } from '@keyway/core'
import { startEmulator } from '@keyway/testkit'
import { useEmulator } from '@keyway/testkit/conformance'
import { beforeEach, describe, expect, it } from 'vitest'
import { createNoteDxKeyStore, type NoteDxKeyStore } from './notedx-key-store.js'

const noWait: ReconcileOptions['sleep'] = (_ms, signal) =>
  signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve()

describe('a NoteDx sandbox create, which can carry no marker', () => {
  const emulator = useEmulator(() => startEmulator('notedx'))
  let store: NoteDxKeyStore

  beforeEach(async () => {
    store = createNoteDxKeyStore({
      ...emulator.settings,
      retry: { baseDelayMs: 1, maxDelayMs: 5, random: () => 0.5 },
      reconcile: { sleep: noWait },
    })
    // An account comes with its one sandbox key; delete it so a new one may be made.
    const sandbox = (await store.list()).find(
      (key) => (key.raw as { type: string }).type === 'sandbox',
    )
    await store.delete(sandbox?.id as string)
  })

  const creates = () =>
    emulator.requests.filter((request) => request.path.endsWith('/user/create-api-key'))

  it('sends no marker and settles nothing when the answer arrives', async () => {
    const created = await store.create({ type: 'sandbox' })
    expect(creates().map((request) => request.body)).toEqual([
      { keyType: 'sandbox', metadata: null },
    ])
    expect(emulator.control.works(created.secret.reveal())).toBe(true)
    expect(
      emulator.requests.some((request) => request.path.endsWith('/update-api-key-metadata')),
    ).toBe(false)
  })

  it('is never sent again after a lost answer; the new sandbox key is named, not touched', async () => {
    const before = new Set((await store.list()).map((key) => key.id))
    emulator.inject({ match: { method: 'POST', path: /\/user\/create-api-key$/ }, drop: 'after' })
    const error = await store.create({ type: 'sandbox' }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    )
    expect(error).toBeInstanceOf(AmbiguousCreateError)
    const made = (await store.list()).filter((key) => !before.has(key.id))
    expect(made).toHaveLength(1)
    expect(made[0]?.status).toBe('active')
    expect((error as AmbiguousCreateError).candidateIds).toEqual([made[0]?.id])
    expect((error as AmbiguousCreateError).deletedIds).toEqual([])
    expect((error as Error).message).toMatch(/sandbox/)
    expect(creates()).toHaveLength(1)
    // The operator can take the key over: NoteDx shows it again.
    const secret = await store.reveal(made[0]?.id as string)
    expect(emulator.control.works(secret?.reveal() as string)).toBe(true)
  })
})
