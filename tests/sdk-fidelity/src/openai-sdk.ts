// The official OpenAI SDK pointed at keyway's OpenAI emulator: one way to start both, and to
// read what the emulator received.
import {
  type Emulator,
  OPENAI_EMULATED_PROJECT,
  type StartEmulatorOptions,
  startOpenAIEmulator,
} from '@keyway/testkit'
import OpenAI from 'openai'

/** The OpenAI emulator, as `startOpenAIEmulator()` gives it. */
export type OpenAIEmulator = Awaited<ReturnType<typeof startOpenAIEmulator>>

/** Starts an OpenAI emulator; `close()` it when done. */
export function startEmulator(options: StartEmulatorOptions = {}): Promise<OpenAIEmulator> {
  return startOpenAIEmulator(options)
}

/**
 * The official SDK aimed at `emulator`, its admin endpoints authenticated with `adminAPIKey`
 * (the emulator's admin key unless given). Its retries are off, so every answer the emulator
 * gives reaches the test as it is.
 */
export function openAISdkFor(emulator: Emulator, adminAPIKey = adminKeyOf(emulator)) {
  return new OpenAI({
    baseURL: emulator.settings.baseUrl,
    adminAPIKey,
    apiKey: null,
    maxRetries: 0,
  })
}

export function adminKeyOf(emulator: Emulator): string {
  return emulator.settings.adminKey as string
}

/** Method, path and query, and body of each request the emulator received since `from`. */
export function openAIWire(emulator: Emulator, from = 0) {
  return emulator.requests.slice(from).map((request) => ({
    method: request.method,
    path: request.path,
    body: request.body,
  }))
}

/** The emulator's paths, as the SDK calls them. */
export const ADMIN_KEYS_PATH = '/v1/organization/admin_api_keys'
export const PROJECT = OPENAI_EMULATED_PROJECT
export const PROJECT_PATH = `/v1/organization/projects/${PROJECT}`
