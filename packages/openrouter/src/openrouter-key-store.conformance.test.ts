import { type OpenRouterEmulatorControl, startOpenRouterEmulator } from '@keyway/testkit'
import { describeKeyStoreConformance } from '@keyway/testkit/conformance'
import { createOpenRouterKeyStore, openRouterCapabilities } from './openrouter-key-store.js'

describeKeyStoreConformance({
  vendor: 'openrouter',
  startEmulator: startOpenRouterEmulator,
  createRequest: { method: 'POST', path: /\/keys$/ },
  settleRequest: { method: 'PATCH', path: /\/keys\/[^/]+$/ },
  createStore: (settings) => createOpenRouterKeyStore(settings),
  capabilities: openRouterCapabilities,
  unknownId: 'f'.repeat(64),
  // One request for the account's workspaces before the pages of keys.
  listOverhead: 1,
  successorSeed: (emulator) => {
    const control = emulator.control as OpenRouterEmulatorControl
    return {
      limit: 5,
      limitReset: 'daily',
      includeByokInLimit: true,
      expiresAt: new Date(Date.now() + 30 * 86_400_000),
      workspaceId: control.seedWorkspace({ name: 'Research' }).id,
      guardrailId: control.seedGuardrail({ name: 'EU only' }).id,
    }
  },
})
