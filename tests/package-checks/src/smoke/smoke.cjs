// The built packages through their CommonJS entry points.
const core = require('@keyway/core')
const { createLatitudeKeyStore } = require('@keyway/latitudesh')
const { createOpenRouterKeyStore } = require('@keyway/openrouter')
const { startEmulator } = require('@keyway/testkit')
const { smoke } = require('./smoke-steps.cjs')

smoke('cjs', { ...core, createLatitudeKeyStore, createOpenRouterKeyStore, startEmulator }).catch(
  (error) => {
    console.error(error)
    process.exitCode = 1
  },
)
