import { mkdtemp, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CreatedKey, rotateKey } from '@keyway/core'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { type Emulator, type OpenRouterEmulatorControl, startEmulator } from '@keyway/testkit'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { writeVariable } from './dotenv-file.js'
import { KeyFile } from './key-file.js'
import { createService } from './service.js'
import { Traffic } from './traffic.js'

const VARIABLE = 'OPENROUTER_API_KEY'

let emulator: Emulator<OpenRouterEmulatorControl>
let folder: string
let envFile: string
let service: Server
let serviceUrl: string

beforeEach(async () => {
  emulator = await startEmulator('openrouter')
  folder = await mkdtemp(join(tmpdir(), 'keyway-hot-reload-'))
  envFile = join(folder, 'openrouter.env')
  service = createService({
    keyFile: new KeyFile(envFile, VARIABLE),
    vendorUrl: emulator.settings.baseUrl as string,
  })
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve))
  serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/credits`
})

afterEach(async () => {
  service.closeAllConnections()
  await new Promise((resolve) => service.close(resolve))
  await emulator.close()
  await rm(folder, { recursive: true, force: true })
})

/** The service's own calls to the vendor (the rotation verifies the new key with GET /key too). */
const serviceCalls = () =>
  emulator.requests.filter((request) => request.headers['x-title'] === 'keyway hot-reload example')

/** How many of the service's vendor calls used the key with this id (its hash). */
const callsWith = (keyId: string) =>
  serviceCalls().filter((request) => request.credentialDigest === keyId).length

function gate() {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

it('keeps serving through a rotation: no failed request, old key then new key, old key deleted', async () => {
  const old = emulator.control.seedKey({ name: 'hot-reload-service' })
  await writeVariable(envFile, VARIABLE, old.secret)
  // Hold the old key's deletion until the service was seen using the new key, so the test
  // shows the switch happened while the old key was still live, whatever the machine's speed.
  const deletion = gate()
  emulator.inject({
    match: { method: 'DELETE', path: `/api/v1/keys/${old.id}` },
    until: deletion.opened,
  })
  const traffic = new Traffic(serviceUrl, 2)
  await traffic.until(() => callsWith(old.id) >= 1)

  const store = createOpenRouterKeyStore({ ...emulator.settings })
  let created: CreatedKey | undefined
  let answeredAtDelivery = 0
  const rotation = rotateKey(store, {
    keyId: old.id,
    deliver: async (key) => {
      await writeVariable(envFile, VARIABLE, key.secret.reveal())
      created = key
      answeredAtDelivery = traffic.outcomes.length
    },
    graceMs: 50,
    retire: 'delete',
  })
  // Wait for the service to use the new key, or for far more answers than it needs to: a
  // service that kept the old key fails here rather than at the test's time limit, and so
  // does a rotation that failed.
  await Promise.race([
    traffic.until(
      () =>
        created !== undefined &&
        (callsWith(created.key.id) >= 1 || traffic.outcomes.length > answeredAtDelivery + 200),
    ),
    rotation,
  ])
  // The service switched to the new key while the old one still worked: the DELETE may have
  // arrived, but the vendor has not carried it out.
  expect(callsWith(created?.key.id as string)).toBeGreaterThanOrEqual(1)
  expect(emulator.control.works(old.secret)).toBe(true)
  deletion.open()
  const result = await rotation
  const servedBeforeEnd = traffic.outcomes.length
  await traffic.until(() => traffic.outcomes.length > servedBeforeEnd + 2)
  await traffic.stop()

  const newId = created?.key.id as string
  expect(result).toMatchObject({ oldKeyId: old.id, newKeyId: newId, retired: 'deleted' })
  expect(traffic.failed).toEqual([])
  expect(callsWith(old.id)).toBeGreaterThanOrEqual(1)
  expect(callsWith(newId)).toBeGreaterThanOrEqual(1)
  expect(emulator.control.keyIds()).not.toContain(old.id)
  expect(emulator.control.works(old.secret)).toBe(false)
  // A request made now is served with the new key.
  const after = (await (await fetch(serviceUrl)).json()) as { label: string }
  expect(after.label.slice(-3)).toBe(created?.secret.reveal().slice(-3))
})

it('retries once with the new key a request that took the old key just before it was deleted', async () => {
  const old = emulator.control.seedKey({ name: 'hot-reload-service' })
  await writeVariable(envFile, VARIABLE, old.secret)
  const vendor = gate()
  emulator.inject({ match: { method: 'GET', path: '/api/v1/key' }, until: vendor.opened })
  const pending = fetch(serviceUrl)
  // Wait until the service's call with the old key has reached the vendor, where it is held.
  await new Promise<void>((resolve) => {
    const check = () => (callsWith(old.id) === 1 ? resolve() : setTimeout(check, 5))
    check()
  })

  const store = createOpenRouterKeyStore({ ...emulator.settings })
  const result = await rotateKey(store, {
    keyId: old.id,
    deliver: (key) => writeVariable(envFile, VARIABLE, key.secret.reveal()),
    graceMs: 1,
    retire: 'delete',
  })
  expect(emulator.control.works(old.secret)).toBe(false)
  vendor.open()
  const response = await pending

  expect(response.status).toBe(200)
  const calls = serviceCalls().map((request) => request.credentialDigest)
  expect(calls).toEqual([old.id, result.newKeyId])
})

it('answers 502 without the key when the vendor refuses a key the file still holds', async () => {
  const old = emulator.control.seedKey({ name: 'hot-reload-service' })
  await writeVariable(envFile, VARIABLE, old.secret)
  const store = createOpenRouterKeyStore({ ...emulator.settings })
  await store.delete(old.id)

  const response = await fetch(serviceUrl)
  const text = await response.text()
  expect(response.status).toBe(502)
  expect(text).toContain('OpenRouter refused the request (401)')
  expect(text).not.toContain(old.secret)
  // Read again once, found the same key, and did not call the vendor a second time.
  expect(serviceCalls()).toHaveLength(1)
})
