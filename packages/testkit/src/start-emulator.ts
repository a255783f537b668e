import { type AnthropicEmulatorControl, createAnthropicEmulator } from './anthropic-emulator.js'
import {
  defineEmulator,
  type EmulatorDefinition,
  type VendorEmulator,
} from './emulator-framework.js'
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

/** A bundled vendor's emulator, as `EMULATOR_REGISTRY` holds it: its name is its key there. */
export interface BundledEmulator<Control extends EmulatorControl, Options extends EmulatorOptions>
  extends Omit<EmulatorDefinition<Control, string, Options>, 'vendor'> {
  /**
   * An id in the shape the vendor gives, unlike any the emulator gives on its own: what
   * `seedKey({ id })` takes to make two accounts whose ids collide.
   */
  idExample: string
}

/** An entry of the registry, with its control and options types kept. */
const bundled = <
  Control extends EmulatorControl,
  Options extends EmulatorOptions = EmulatorOptions,
>(
  emulator: BundledEmulator<Control, Options>,
) => emulator

/**
 * The bundled vendors' emulators: one entry per vendor, from which `BUNDLED_EMULATORS`,
 * `Vendor`, `startEmulator` and the testkit's own tests over every vendor follow. A vendor is
 * added here, and nowhere else in the testkit: its entry, the import of its emulator, and
 * `export type * from './<vendor>-emulator.js'` for its control's types (this module is the
 * package's).
 */
export const EMULATOR_REGISTRY = {
  /** OpenRouter's key-management API, with workspaces and guardrails its controls can seed. */
  openrouter: bundled({
    idExample: 'ab'.repeat(32),
    create: ({ url, limiter, seedKeys, clock }): VendorEmulator<OpenRouterEmulatorControl> =>
      createOpenRouterEmulator(url, limiter, seedKeys, clock),
  }),
  /** Latitude.sh's API tokens, with its rate limits. */
  latitudesh: bundled({
    idExample: 'tok_chosen000001',
    rateLimit: LATITUDE_RATE_LIMITS,
    create: ({ url, limiter, seedKeys, clock }): VendorEmulator<EmulatorControl> =>
      createLatitudeEmulator(url, limiter, seedKeys, clock),
  }),
  /** NoteDx's login and API keys. */
  notedx: bundled({
    idExample: `lk-${'c0ffee'.repeat(4)}`,
    create: (
      { url, limiter, seedKeys, timeScale },
      options: StartEmulatorOptions,
    ): VendorEmulator<EmulatorControl> =>
      createNoteDxEmulator(url, limiter, seedKeys, {
        timeScale,
        rotateRefreshTokens: options.rotateRefreshTokens ?? false,
      }),
  }),
  /** Voiceable's API keys. */
  voiceable: bundled({
    idExample: '9001',
    create: ({ url, limiter, seedKeys }): VendorEmulator<EmulatorControl> =>
      createVoiceableEmulator(url, limiter, seedKeys),
  }),
  /**
   * Anthropic's Admin API for API keys, whose controls seed keys with a status, an expiry and
   * a workspace (the API itself cannot create keys).
   */
  anthropic: bundled({
    idExample: 'apikey_01chosen0000000000000001',
    create: ({ url, limiter, seedKeys }): VendorEmulator<AnthropicEmulatorControl> =>
      createAnthropicEmulator(url, limiter, seedKeys),
  }),
  /**
   * OpenAI's Admin API: admin API keys, and one project's API keys and service accounts
   * (`OPENAI_EMULATED_PROJECT`). Its `settings` are `{ baseUrl, adminKey }`, for
   * `createOpenAIKeyStore` (add `project` for the project's keys) or the official SDK
   * (`baseURL`, `adminAPIKey`).
   */
  openai: bundled({
    idExample: 'key_chosen000000000000000001',
    create: (
      { url, limiter, seedKeys },
      options: StartEmulatorOptions,
    ): VendorEmulator<OpenAIEmulatorControl> =>
      createOpenAIEmulator(url, limiter, seedKeys, options.seedKind),
  }),
} as const

/** The controls of a bundled vendor's emulator (`OpenRouterEmulatorControl` for `'openrouter'`). */
export type BundledControl<V extends keyof typeof EMULATOR_REGISTRY> =
  (typeof EMULATOR_REGISTRY)[V] extends BundledEmulator<infer Control, never> ? Control : never

/** The options a bundled vendor's starter takes (`StartEmulatorOptions` where it has its own). */
export type BundledOptions<V extends keyof typeof EMULATOR_REGISTRY> =
  (typeof EMULATOR_REGISTRY)[V] extends BundledEmulator<EmulatorControl, infer Options>
    ? Options
    : never

/** The bundled emulators by vendor name: each one's starter. `Vendor` is its keys. */
export const BUNDLED_EMULATORS = Object.fromEntries(
  Object.entries(EMULATOR_REGISTRY).map(([vendor, emulator]) => [
    vendor,
    defineEmulator({ ...(emulator as BundledEmulator<EmulatorControl, EmulatorOptions>), vendor }),
  ]),
) as {
  readonly [V in keyof typeof EMULATOR_REGISTRY]: (
    options?: BundledOptions<V>,
  ) => Promise<Emulator<BundledControl<V>, V>>
}

/**
 * Starts a loopback server that plays OpenRouter's key-management API, with workspaces and
 * guardrails that its controls can seed.
 */
export const startOpenRouterEmulator = BUNDLED_EMULATORS.openrouter
/** Starts a loopback server that plays Latitude.sh's API tokens, with its rate limits. */
export const startLatitudeEmulator = BUNDLED_EMULATORS.latitudesh
/** Starts a loopback server that plays NoteDx's login and API keys. */
export const startNoteDxEmulator = BUNDLED_EMULATORS.notedx
/** Starts a loopback server that plays Voiceable's API keys. */
export const startVoiceableEmulator = BUNDLED_EMULATORS.voiceable
/**
 * Starts a loopback server that plays Anthropic's Admin API for API keys, whose controls
 * seed keys with a status, an expiry and a workspace (the API itself cannot create keys).
 */
export const startAnthropicEmulator = BUNDLED_EMULATORS.anthropic
/**
 * Starts a loopback server that plays OpenAI's Admin API: admin API keys, and one project's
 * API keys and service accounts (`OPENAI_EMULATED_PROJECT`). Its `settings` are
 * `{ baseUrl, adminKey }`, for `createOpenAIKeyStore` (add `project` for the project's keys)
 * or the official SDK (`baseURL`, `adminAPIKey`).
 */
export const startOpenAIEmulator = BUNDLED_EMULATORS.openai

/** The bundled emulators by vendor name: what `startEmulator(vendor)` looks up. */
export const EMULATORS: {
  readonly [V in Vendor]: (options?: StartEmulatorOptions) => Promise<Emulator<EmulatorControl, V>>
} = BUNDLED_EMULATORS

/**
 * Starts a bundled vendor's emulator by name (a shorthand for its own starter, such as
 * `startOpenRouterEmulator`), seeded with an admin credential and a few keys. Each call has
 * its own state and port; `close()` frees it. Its `settings` fit `vendor`'s factory only; its
 * `control` is the vendor's own (`BundledControl`).
 */
export function startEmulator<V extends Vendor>(
  vendor: V,
  options?: StartEmulatorOptions,
): Promise<Emulator<BundledControl<V>, V>>
export async function startEmulator(
  vendor: Vendor,
  options: StartEmulatorOptions = {},
): Promise<Emulator> {
  const start = Object.hasOwn(EMULATORS, vendor) ? EMULATORS[vendor] : undefined
  if (start === undefined) throw new TypeError(`Unknown vendor: ${String(vendor)}`)
  return start(options)
}
