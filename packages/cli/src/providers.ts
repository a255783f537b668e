import type { BaseStoreSettings, KeyStore } from '@keyway/core'
import { createLatitudeKeyStore } from '@keyway/latitudesh'
import { createNoteDxKeyStore } from '@keyway/notedx'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import type { Vendor } from '@keyway/testkit'
import { createVoiceableKeyStore } from '@keyway/voiceable'

export interface Provider {
  vendor: Vendor
  title: string
  /** Builds the store from settings; credentials default to the env vars. */
  create: (settings: BaseStoreSettings & Record<string, unknown>) => KeyStore
  /** The env vars that hold the credential, as a user would set them. */
  credentialEnv: string
  /** Env var that overrides the base URL (set by `keyway emulate`). */
  baseUrlEnv: string
  /** Emulator settings field → env var, for `keyway emulate`. */
  env: Record<string, string>
}

export const PROVIDERS: Record<Vendor, Provider> = {
  openrouter: {
    vendor: 'openrouter',
    title: 'OpenRouter',
    create: (settings) => createOpenRouterKeyStore(settings) as unknown as KeyStore,
    credentialEnv: 'OPENROUTER_MANAGEMENT_KEY',
    baseUrlEnv: 'OPENROUTER_BASE_URL',
    env: { baseUrl: 'OPENROUTER_BASE_URL', managementKey: 'OPENROUTER_MANAGEMENT_KEY' },
  },
  latitudesh: {
    vendor: 'latitudesh',
    title: 'Latitude.sh',
    create: (settings) => createLatitudeKeyStore(settings) as unknown as KeyStore,
    credentialEnv: 'LATITUDESH_BEARER',
    baseUrlEnv: 'LATITUDESH_BASE_URL',
    env: { baseUrl: 'LATITUDESH_BASE_URL', token: 'LATITUDESH_BEARER' },
  },
  notedx: {
    vendor: 'notedx',
    title: 'NoteDx',
    create: (settings) => createNoteDxKeyStore(settings) as unknown as KeyStore,
    credentialEnv: 'NOTEDX_EMAIL and NOTEDX_PASSWORD (or NOTEDX_ID_TOKEN)',
    baseUrlEnv: 'NOTEDX_BASE_URL',
    env: { baseUrl: 'NOTEDX_BASE_URL', email: 'NOTEDX_EMAIL', password: 'NOTEDX_PASSWORD' },
  },
  voiceable: {
    vendor: 'voiceable',
    title: 'Voiceable',
    create: (settings) => createVoiceableKeyStore(settings) as unknown as KeyStore,
    credentialEnv: 'VOICEABLE_API_KEY (or VOICEABLE_TOKEN)',
    baseUrlEnv: 'VOICEABLE_BASE_URL',
    env: {
      baseUrl: 'VOICEABLE_BASE_URL',
      apiKey: 'VOICEABLE_API_KEY',
      credentialKeyId: 'VOICEABLE_API_KEY_ID',
    },
  },
}

export function isVendor(value: string): value is Vendor {
  return Object.hasOwn(PROVIDERS, value)
}
