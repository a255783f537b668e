// Keys with every setting a client can set at each vendor, made through the store before a
// test begins, so a test can check that a successor carries each of them.
import type { KeyStore } from '@keyway/core'
import type { Emulator, OpenRouterEmulatorControl } from '@keyway/testkit'

/** A key made for a test: its id as the store names it, and its secret. */
export interface MadeKey {
  id: string
  secret: string
}

/** Create input with every settable attribute of `emulator`'s vendor, under `name` where keys have names. */
export function restrictedInput(emulator: Emulator, name: string): Record<string, unknown> {
  switch (emulator.vendor) {
    case 'openrouter': {
      const control = emulator.control as OpenRouterEmulatorControl
      return {
        name,
        limit: 5,
        limitReset: 'daily',
        includeByokInLimit: true,
        expiresAt: new Date(Date.now() + 30 * 86_400_000),
        workspaceId: control.seedWorkspace().id,
        guardrailId: control.seedGuardrail().id,
      }
    }
    case 'latitudesh':
      return { name, readOnly: true, allowedIps: ['203.0.113.0/24'] }
    case 'notedx':
      return { type: 'live', metadata: { team: name } }
    case 'voiceable':
      return {
        name,
        keyType: 'public',
        allowedOrigins: ['https://example.com'],
        allowedAssistants: ['12'],
        transientAssistant: true,
      }
    case 'anthropic':
      throw new TypeError('anthropic cannot create keys through its API: nothing to restrict')
    case 'openai':
      return { name, expiresAt: new Date(Date.now() + 30 * 86_400_000) }
    default:
      throw new TypeError(`no restricted input for ${emulator.vendor} yet`)
  }
}

/** Makes a key with every settable attribute through `store`. */
export async function makeRestrictedKey(
  store: KeyStore,
  emulator: Emulator,
  name: string,
): Promise<MadeKey> {
  const created = await store.create(restrictedInput(emulator, name))
  return { id: created.key.id, secret: created.secret.reveal() }
}
