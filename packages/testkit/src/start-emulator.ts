import { type AnthropicEmulatorControl, createAnthropicEmulator } from './anthropic-emulator.js'
import { EmulatorServer, type VendorHandler } from './http-server.js'
import { createLatitudeEmulator, LATITUDE_RATE_LIMITS } from './latitudesh-emulator.js'
import { createNoteDxEmulator } from './notedx-emulator.js'
import {
  createOpenAIEmulator,
  type OpenAIEmulatorControl,
  type OpenAISeedKind,
} from './openai-emulator.js'
import { createOpenRouterEmulator, type OpenRouterEmulatorControl } from './openrouter-emulator.js'
import { RateLimiter } from './rate-limiter.js'
import type {
  Emulator,
  EmulatorControl,
  EmulatorOptions,
  RecordedRequest,
  Vendor,
} from './types.js'
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
 * Starts a loopback server that plays `vendor`'s key-management API, seeded with an admin
 * credential and a few keys. Each call has its own state and port; `close()` frees it. Its
 * `settings` fit `vendor`'s factory only.
 */
export function startEmulator<V extends Vendor>(
  vendor: V,
  options?: StartEmulatorOptions,
): Promise<Emulator<EmulatorControl, V>>
export async function startEmulator(
  vendor: Vendor,
  options: StartEmulatorOptions = {},
): Promise<Emulator> {
  const timeScale = options.timeScale ?? 1
  if (!(timeScale > 0)) throw new RangeError('timeScale must be a positive number')
  const seedKeys = options.seedKeys ?? 3
  const limits =
    options.rateLimit === false
      ? {}
      : (options.rateLimit ?? (vendor === 'latitudesh' ? LATITUDE_RATE_LIMITS : {}))
  const limiter = new RateLimiter(limits, timeScale, options.now)

  // The URL is only known once listening; the handler is bound to it through this holder.
  let vendorState:
    | { handler: VendorHandler; control: EmulatorControl; settings: Record<string, string> }
    | undefined
  const server = new EmulatorServer({
    handle: (request) => (vendorState as NonNullable<typeof vendorState>).handler.handle(request),
    errorResponse: (status, message) =>
      (vendorState as NonNullable<typeof vendorState>).handler.errorResponse(status, message),
    get credentialHeaders() {
      return vendorState?.handler.credentialHeaders ?? ['authorization']
    },
    get contentType() {
      return vendorState?.handler.contentType ?? 'application/json'
    },
  })
  const url = await server.listen(options.port ?? 0)
  switch (vendor) {
    case 'openrouter':
      vendorState = createOpenRouterEmulator(url, limiter, seedKeys)
      break
    case 'latitudesh':
      vendorState = createLatitudeEmulator(url, limiter, seedKeys)
      break
    case 'notedx':
      vendorState = createNoteDxEmulator(url, limiter, seedKeys, {
        timeScale,
        rotateRefreshTokens: options.rotateRefreshTokens ?? false,
      })
      break
    case 'voiceable':
      vendorState = createVoiceableEmulator(url, limiter, seedKeys)
      break
    case 'anthropic':
      vendorState = createAnthropicEmulator(url, limiter, seedKeys)
      break
    case 'openai':
      vendorState = createOpenAIEmulator(url, limiter, seedKeys, options.seedKind)
      break
    default:
      await server.close()
      throw new TypeError(`Unknown vendor: ${String(vendor)}`)
  }
  const state = vendorState
  return {
    vendor,
    url,
    settings: state.settings,
    close: () => server.close(),
    inject: (fault) => server.inject(fault),
    clearFaults: () => server.clearFaults(),
    idle: () => server.idle(),
    get requests(): readonly RecordedRequest[] {
      return server.requests
    },
    control: state.control,
  }
}
