import { randomBytes } from 'node:crypto'
import { type KeyStore, rotateKeys } from '@keyway/core'
import { createLatitudeKeyStore } from '@keyway/latitudesh'
import { createNoteDxKeyStore } from '@keyway/notedx'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { type Emulator, type EmulatorOptions, startEmulator } from '@keyway/testkit'
import { createVoiceableKeyStore } from '@keyway/voiceable'
import type { WorkerConfig } from './worker.js'

type WorkerStore = WorkerConfig['stores'][string]

export const VENDORS = ['openrouter', 'latitudesh', 'notedx', 'voiceable'] as const

/** The four emulators, by store label (the vendor's name). */
export type Fleet = Record<(typeof VENDORS)[number], Emulator>

export async function startFleet(options: EmulatorOptions): Promise<Fleet> {
  const entries = await Promise.all(
    VENDORS.map(async (vendor) => [vendor, await startEmulator(vendor, options)] as const),
  )
  return Object.fromEntries(entries) as Fleet
}

/** A store of the test process itself, to list keys before and after. */
export function storeOf(fleet: Fleet, vendor: (typeof VENDORS)[number]): KeyStore {
  const settings = fleet[vendor].settings
  if (vendor === 'openrouter') return createOpenRouterKeyStore(settings)
  if (vendor === 'latitudesh') return createLatitudeKeyStore(settings)
  if (vendor === 'notedx') return createNoteDxKeyStore(settings)
  return createVoiceableKeyStore(settings)
}

/** Ids of the keys a batch rotates: those core's dry run would rotate (not the store's own). */
export async function rotatableIds(store: KeyStore): Promise<string[]> {
  const plan = await rotateKeys(store, { dryRun: true })
  return plan.plans.filter((each) => each.action === 'rotate').map((each) => each.keyId)
}

/** Ids of every active key but the store's own credential. */
export async function activeIds(store: KeyStore): Promise<string[]> {
  const own = new Set((await store.credentialKeyIds?.()) ?? [])
  const keys = await store.list({ includeDisabled: false })
  return keys.filter((key) => !own.has(key.id)).map((key) => key.id)
}

/** Creates and deletes the emulator received, by request path. */
export function writesAt(emulator: Emulator): { creates: number; deletes: number } {
  let creates = 0
  let deletes = 0
  for (const request of emulator.requests) {
    const path = request.path.split('?')[0] ?? ''
    if (request.method === 'POST' && /\/(keys|api_keys|create-api-key)$/.test(path)) creates++
    if (request.method === 'DELETE' || /\/delete-api-key$/.test(path)) deletes++
  }
  return { creates, deletes }
}

/** Create and delete requests over the whole fleet. */
export function writesOverall(fleet: Fleet): { creates: number; deletes: number } {
  let creates = 0
  let deletes = 0
  for (const vendor of VENDORS) {
    const writes = writesAt(fleet[vendor])
    creates += writes.creates
    deletes += writes.deletes
  }
  return { creates, deletes }
}

/** The per-store worker settings of a fleet: each store labelled by its vendor. */
export function workerStores(fleet: Fleet): Record<string, WorkerStore> {
  return Object.fromEntries(
    VENDORS.map((vendor) => [vendor, { vendor, settings: fleet[vendor].settings }]),
  )
}

/** A fresh sealing key for one test run. */
export function testSealingKey(): string {
  return randomBytes(32).toString('base64')
}

/** The variable a key's secret goes to at a delivery target: one per store and key. */
export function variableOf(label: string, keyId: string): string {
  return `KEY_${label}_${keyId}`.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase()
}
