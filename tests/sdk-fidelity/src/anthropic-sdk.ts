// The official Anthropic SDK pointed at keyway's Anthropic emulator: one way to start both,
// and to read what the emulator received.
import Anthropic from '@anthropic-ai/sdk'
import { type Emulator, type StartEmulatorOptions, startEmulator } from '@keyway/testkit'

/** The Anthropic emulator, as `startEmulator('anthropic')` gives it. */
export type AnthropicEmulator = Awaited<ReturnType<typeof startAnthropicEmulator>>

/** Starts an Anthropic emulator; `close()` it when done. */
export function startAnthropicEmulator(options: StartEmulatorOptions = {}) {
  return startEmulator('anthropic', options)
}

/**
 * The official SDK aimed at `emulator`, authenticated with `apiKey` (the emulator's admin key
 * unless given). Its retries are off, so every answer the emulator gives reaches the test as
 * it is.
 */
export function anthropicSdkFor(emulator: Emulator, apiKey = adminKeyOf(emulator)) {
  return new Anthropic({ baseURL: emulator.settings.baseUrl, apiKey, maxRetries: 0 })
}

export function adminKeyOf(emulator: Emulator): string {
  return emulator.settings.adminKey as string
}

/** Method, path and query, and body of each request the emulator received since `from`. */
export function anthropicWire(emulator: Emulator, from = 0) {
  return emulator.requests.slice(from).map((request) => ({
    method: request.method,
    path: request.path,
    body: request.body,
  }))
}

/** The emulator's path of the Admin API's API keys. */
export const API_KEYS_PATH = '/v1/organizations/api_keys'
