// One way to build each vendor's store against its emulator, and to seed a key whose
// secret the test knows, so tests can ask the emulator whether a secret still works.
import { PROVIDERS } from '@keyway/cli'
import type { BaseStoreSettings, KeyStore, ReconcileOptions, RetryOptions } from '@keyway/core'
import type { KeyStoreDescriptor } from '@keyway/core/adapter'
import { noteDxKeyId } from '@keyway/notedx'
import {
  type Emulator,
  type StartEmulatorOptions,
  startEmulator,
  VENDORS,
  type Vendor,
} from '@keyway/testkit'

/** Each vendor's adapter, as its package describes it: the CLI's registry. */
export const descriptors: Readonly<Record<Vendor, KeyStoreDescriptor>> = PROVIDERS

export const vendors: readonly Vendor[] = VENDORS

export const fastRetry: RetryOptions = { baseDelayMs: 1, maxDelayMs: 5, random: () => 0.5 }

/** A reconcile that looks over its whole window at once: tests never wait real seconds. */
export const noWaitReconcile: ReconcileOptions = {
  sleep: (_ms, signal) => (signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve()),
}

export function storeFor(
  emulator: Emulator,
  retry: RetryOptions = fastRetry,
  extra: BaseStoreSettings = {},
): KeyStore {
  const settings = { ...emulator.settings, reconcile: noWaitReconcile, ...extra, retry }
  return descriptors[emulator.vendor].create(settings)
}

/** A key made at the vendor for the test, with its id as the store names it and its secret. */
export function seedKey(emulator: Emulator, name = 'to-rotate'): { id: string; secret: string } {
  const { id, secret } = emulator.control.seedKey({ name })
  return { id: emulator.vendor === 'notedx' ? noteDxKeyId(secret) : id, secret }
}

export async function withEmulator<T>(
  vendor: Vendor,
  work: (emulator: Emulator) => Promise<T>,
  options: StartEmulatorOptions = {},
): Promise<T> {
  const emulator = await startEmulator(vendor, options)
  try {
    return await work(emulator)
  } finally {
    await emulator.close()
  }
}

/** Ids of the keys that work at the vendor, as the store names them. */
export async function activeIds(store: KeyStore): Promise<string[]> {
  return (await store.list()).filter((key) => key.status === 'active').map((key) => key.id)
}
