import { type StartEmulatorOptions, startEmulator } from './start-emulator.js'

/**
 * Starts a loopback server that plays OpenAI's Admin API: admin API keys, and one project's
 * API keys and service accounts (`OPENAI_EMULATED_PROJECT`). Its `settings` are
 * `{ baseUrl, adminKey }`, for `createOpenAIKeyStore` (add `project` for the project's keys)
 * or the official SDK (`baseURL`, `adminAPIKey`).
 */
export function startOpenAIEmulator(options: StartEmulatorOptions = {}) {
  return startEmulator('openai', options)
}
