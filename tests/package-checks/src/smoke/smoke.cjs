// The same smoke test through the CommonJS entry points.
const { rotateKey, Secret } = require('@keyway/core')
const { createLatitudeKeyStore } = require('@keyway/latitudesh')
const { createOpenRouterKeyStore } = require('@keyway/openrouter')
const { startEmulator } = require('@keyway/testkit')

async function main() {
  const seen = { entry: 'cjs', node: process.version }
  for (const [vendor, create] of [
    ['openrouter', createOpenRouterKeyStore],
    ['latitudesh', createLatitudeKeyStore],
  ]) {
    const emulator = await startEmulator(vendor)
    try {
      const store = create({ ...emulator.settings, retry: { baseDelayMs: 1 } })
      const created = await store.create({ name: 'smoke' })
      const listed = await store.list()
      const rotated = await rotateKey(store, {
        keyId: created.key.id,
        deliver: () => {},
        verifyIntervalMs: 1,
      })
      seen[vendor] = {
        secretIsSecret: created.secret instanceof Secret,
        listed: listed.some((key) => key.id === created.key.id),
        rotated: rotated.retired === 'deleted' && emulator.control.works(rotated.secret.reveal()),
      }
    } finally {
      await emulator.close()
    }
  }
  console.log(JSON.stringify(seen))
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
