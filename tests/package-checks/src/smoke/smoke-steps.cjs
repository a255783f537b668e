// The smoke test's steps, given the packages as one entry point loaded them: create, list
// and rotate against an emulator, for two vendors. Prints one JSON line with what it saw.
async function smoke(
  entry,
  { rotateKey, Secret, createLatitudeKeyStore, createOpenRouterKeyStore, startEmulator },
) {
  const seen = { entry, node: process.version }
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

module.exports = { smoke }
