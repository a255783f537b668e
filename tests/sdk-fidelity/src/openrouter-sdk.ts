// The official OpenRouter SDK pointed at keyway's OpenRouter emulator: one way to start both,
// and to read what the emulator received.
import { type Emulator, type StartEmulatorOptions, startEmulator } from '@keyway/testkit'
import { OpenRouter } from '@openrouter/sdk'

/** The OpenRouter emulator, as `startEmulator('openrouter')` gives it. */
export type OpenRouterEmulator = Awaited<ReturnType<typeof startEmulatorForSdk>>

/** Starts an OpenRouter emulator; `close()` it when done. */
export function startEmulatorForSdk(options: StartEmulatorOptions = {}) {
  return startEmulator('openrouter', options)
}

/**
 * The official SDK aimed at `emulator`, authenticated with `apiKey` (the emulator's management
 * key unless given; `null` sends no credential). Its retries are off, so every answer the
 * emulator gives reaches the test as it is: the SDK would otherwise retry a 5xx for an hour.
 */
export function sdkFor(emulator: Emulator, apiKey: string | null = managementKeyOf(emulator)) {
  return new OpenRouter({
    serverURL: emulator.settings.baseUrl,
    retryConfig: { strategy: 'none' },
    ...(apiKey === null ? {} : { apiKey }),
  })
}

export function managementKeyOf(emulator: Emulator): string {
  return emulator.settings.managementKey as string
}

/** Method, path and query, and body of each request the emulator received since `from`. */
export function wire(emulator: Emulator, from = 0) {
  return emulator.requests.slice(from).map((request) => ({
    method: request.method,
    path: request.path,
    body: request.body,
  }))
}

/** The emulator's path for an API path such as `/keys`. */
export const apiPath = (path: string) => `/api/v1${path}`
