// Counts the requests one rotation sends to each vendor's emulator: a single `rotateKey`,
// and a key's share of a `rotateKeys` batch. Session logins (NoteDx) are left out: a store
// makes them once, whatever it does next.
import { PROVIDERS } from '@keyway/cli'
import { type KeyStore, rotateKey, rotateKeys } from '@keyway/core'
import type { KeyStoreDescriptor } from '@keyway/core/adapter'
import { noteDxKeyId } from '@keyway/notedx'
import { type Emulator, startEmulator, type Vendor } from '@keyway/testkit'

/** Each vendor's adapter: the CLI's registry. */
const DESCRIPTORS: Readonly<Record<Vendor, KeyStoreDescriptor>> = PROVIDERS

export const ROTATION_VENDORS: readonly Vendor[] = [
  'openrouter',
  'latitudesh',
  'notedx',
  'voiceable',
]

/** Requests one rotation sent: all of them, and the writes among them. */
export interface RequestCount {
  requests: number
  writes: number
}

/** Keys in the batch whose per-key share is measured. */
export const BATCH_KEYS = 10

function storeFor(emulator: Emulator): KeyStore {
  return DESCRIPTORS[emulator.vendor].create({ ...emulator.settings })
}

function seed(emulator: Emulator, name: string): string {
  const { id, secret } = emulator.control.seedKey({ name })
  return emulator.vendor === 'notedx' ? noteDxKeyId(secret) : id
}

function count(emulator: Emulator, from: number, keys: number): RequestCount {
  const sent = emulator.requests
    .slice(from)
    .filter((request) => !/\/auth\/(login|refresh)$/.test(request.path))
  const writes = sent.filter((request) => request.method !== 'GET').length
  return {
    requests: Math.round((sent.length / keys) * 100) / 100,
    writes: Math.round((writes / keys) * 100) / 100,
  }
}

// NoteDx has no verify call: the emulator stands in for an application trying the key.
const verifyAt = (emulator: Emulator, store: KeyStore) =>
  store.capabilities.verify
    ? {}
    : {
        verify: (created: { secret: { reveal(): string } }) =>
          emulator.control.works(created.secret.reveal()),
      }

/** Requests of one `rotateKey` of a dashboard-made key at `vendor`. */
export async function singleRotation(vendor: Vendor): Promise<RequestCount> {
  const emulator = await startEmulator(vendor, { rateLimit: false, seedKeys: 0 })
  try {
    const keyId = seed(emulator, 'bench-rotate')
    const store = storeFor(emulator)
    const from = emulator.requests.length
    await rotateKey(store, {
      keyId,
      deliver: () => {},
      verifyIntervalMs: 1,
      ...verifyAt(emulator, store),
    })
    return count(emulator, from, 1)
  } finally {
    await emulator.close()
  }
}

/** Requests per key of one `rotateKeys` over `BATCH_KEYS` dashboard-made keys at `vendor`. */
export async function batchRotation(vendor: Vendor): Promise<RequestCount> {
  const emulator = await startEmulator(vendor, { rateLimit: false, seedKeys: 0 })
  try {
    for (let index = 0; index < BATCH_KEYS; index++) seed(emulator, `bench-batch-${index}`)
    const store = storeFor(emulator)
    const from = emulator.requests.length
    const result = await rotateKeys(store, {
      filter: (key) =>
        vendor === 'notedx'
          ? (key.raw as { type?: string }).type === 'live'
          : (key.name?.startsWith('bench-batch-') ?? false),
      deliver: () => {},
      verifyIntervalMs: 1,
      ...verifyAt(emulator, store),
    })
    if (result.rotated !== BATCH_KEYS) {
      throw new Error(`${vendor}: ${result.rotated} of ${BATCH_KEYS} keys rotated`)
    }
    return count(emulator, from, BATCH_KEYS)
  } finally {
    await emulator.close()
  }
}
