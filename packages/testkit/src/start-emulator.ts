import { type AnthropicEmulatorControl, createAnthropicEmulator } from './anthropic-emulator.js'
import { defineEmulator } from './emulator-framework.js'
import { createLatitudeEmulator, LATITUDE_RATE_LIMITS } from './latitudesh-emulator.js'
import { createNoteDxEmulator } from './notedx-emulator.js'
import {
  createOpenAIEmulator,
  type OpenAIEmulatorControl,
  type OpenAISeedKind,
} from './openai-emulator.js'
import { createOpenRouterEmulator, type OpenRouterEmulatorControl } from './openrouter-emulator.js'
import type { Emulator, EmulatorControl, EmulatorOptions, Vendor } from './types.js'
import { createVoiceableEmulator } from './voiceable-emulator.js'

/** Options of `startEmulator`, with the vendor-specific ones. */
export interface StartEmulatorOptions extends EmulatorOptions {
  /** NoteDx: send a new refresh token with every refresh. */
  rotateRefreshTokens?: boolean
  /** OpenAI: which keys `seedKey` makes when not told, admin keys or project keys. Default `'admin'`. */
  seedKind?: OpenAISeedKind
}

/**
 * Starts a loopback server that plays OpenRouter's key-management API, with workspaces and
 * guardrails that its controls can seed.
 */
export const startOpenRouterEmulator: (
  options?: EmulatorOptions,
) => Promise<Emulator<OpenRouterEmulatorControl, 'openrouter'>> = defineEmulator({
  vendor: 'openrouter',
  create: ({ url, limiter, seedKeys, clock }) =>
    createOpenRouterEmulator(url, limiter, seedKeys, clock),
})

/** Starts a loopback server that plays Latitude.sh's API tokens, with its rate limits. */
export const startLatitudeEmulator: (
  options?: EmulatorOptions,
) => Promise<Emulator<EmulatorControl, 'latitudesh'>> = defineEmulator({
  vendor: 'latitudesh',
  rateLimit: LATITUDE_RATE_LIMITS,
  create: ({ url, limiter, seedKeys, clock }) =>
    createLatitudeEmulator(url, limiter, seedKeys, clock),
})

/** Starts a loopback server that plays NoteDx's login and API keys. */
export const startNoteDxEmulator: (
  options?: StartEmulatorOptions,
) => Promise<Emulator<EmulatorControl, 'notedx'>> = defineEmulator({
  vendor: 'notedx',
  create: ({ url, limiter, seedKeys, timeScale }, options: StartEmulatorOptions) =>
    createNoteDxEmulator(url, limiter, seedKeys, {
      timeScale,
      rotateRefreshTokens: options.rotateRefreshTokens ?? false,
    }),
})

/** Starts a loopback server that plays Voiceable's API keys. */
export const startVoiceableEmulator: (
  options?: EmulatorOptions,
) => Promise<Emulator<EmulatorControl, 'voiceable'>> = defineEmulator({
  vendor: 'voiceable',
  create: ({ url, limiter, seedKeys }) => createVoiceableEmulator(url, limiter, seedKeys),
})

/**
 * Starts a loopback server that plays Anthropic's Admin API for API keys, whose controls
 * seed keys with a status, an expiry and a workspace (the API itself cannot create keys).
 */
export const startAnthropicEmulator: (
  options?: EmulatorOptions,
) => Promise<Emulator<AnthropicEmulatorControl, 'anthropic'>> = defineEmulator({
  vendor: 'anthropic',
  create: ({ url, limiter, seedKeys }) => createAnthropicEmulator(url, limiter, seedKeys),
})

/**
 * Starts a loopback server that plays OpenAI's Admin API: admin API keys, and one project's
 * API keys and service accounts (`OPENAI_EMULATED_PROJECT`). Its `settings` are
 * `{ baseUrl, adminKey }`, for `createOpenAIKeyStore` (add `project` for the project's keys)
 * or the official SDK (`baseURL`, `adminAPIKey`).
 */
export const startOpenAIEmulator: (
  options?: StartEmulatorOptions,
) => Promise<Emulator<OpenAIEmulatorControl, 'openai'>> = defineEmulator({
  vendor: 'openai',
  create: ({ url, limiter, seedKeys }, options: StartEmulatorOptions) =>
    createOpenAIEmulator(url, limiter, seedKeys, options.seedKind),
})

/** The registry of bundled emulators: one line per vendor, from which `Vendor` is derived. */
export const BUNDLED_EMULATORS = {
  /** OpenRouter's key-management API. */
  openrouter: startOpenRouterEmulator,
  /** Latitude.sh's API tokens. */
  latitudesh: startLatitudeEmulator,
  /** NoteDx's login and API keys. */
  notedx: startNoteDxEmulator,
  /** Voiceable's API keys. */
  voiceable: startVoiceableEmulator,
  /** Anthropic's Admin API keys. */
  anthropic: startAnthropicEmulator,
  /** OpenAI's admin and project keys. */
  openai: startOpenAIEmulator,
} as const

/** The bundled emulators by vendor name: what `startEmulator(vendor)` looks up. */
export const EMULATORS: {
  readonly [V in Vendor]: (options?: StartEmulatorOptions) => Promise<Emulator<EmulatorControl, V>>
} = BUNDLED_EMULATORS

/**
 * Starts a loopback server that plays OpenRouter's key-management API, with workspaces and
 * guardrails that its controls can seed.
 */
export function startEmulator(
  vendor: 'openrouter',
  options?: StartEmulatorOptions,
): Promise<Emulator<OpenRouterEmulatorControl, 'openrouter'>>
/**
 * Starts a loopback server that plays Anthropic's Admin API for API keys, whose controls
 * seed keys with a status, an expiry and a workspace (the API itself cannot create keys).
 */
export function startEmulator(
  vendor: 'anthropic',
  options?: StartEmulatorOptions,
): Promise<Emulator<AnthropicEmulatorControl, 'anthropic'>>
/**
 * Starts a loopback server that plays OpenAI's Admin API for admin keys, project keys and
 * service accounts, with one project whose controls show it whole.
 */
export function startEmulator(
  vendor: 'openai',
  options?: StartEmulatorOptions,
): Promise<Emulator<OpenAIEmulatorControl, 'openai'>>
/**
 * Starts a bundled vendor's emulator by name (a shorthand for its own starter, such as
 * `startOpenRouterEmulator`), seeded with an admin credential and a few keys. Each call has
 * its own state and port; `close()` frees it. Its `settings` fit `vendor`'s factory only.
 */
export function startEmulator<V extends Vendor>(
  vendor: V,
  options?: StartEmulatorOptions,
): Promise<Emulator<EmulatorControl, V>>
export async function startEmulator(
  vendor: Vendor,
  options: StartEmulatorOptions = {},
): Promise<Emulator> {
  const start = Object.hasOwn(EMULATORS, vendor) ? EMULATORS[vendor] : undefined
  if (start === undefined) throw new TypeError(`Unknown vendor: ${String(vendor)}`)
  return start(options)
}
