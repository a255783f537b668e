// The built packages through their ESM entry points.
import * as core from '@keyway/core'
import { createLatitudeKeyStore } from '@keyway/latitudesh'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { startEmulator } from '@keyway/testkit'
import steps from './smoke-steps.cjs'

await steps.smoke('esm', {
  ...core,
  createLatitudeKeyStore,
  createOpenRouterKeyStore,
  startEmulator,
})
