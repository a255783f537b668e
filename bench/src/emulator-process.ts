// Runs one OpenRouter emulator in its own process, so the server's work never shares an event
// loop with what is measured. Prints its settings as one JSON line, then serves until SIGTERM.
import { startEmulator } from '@keyway/testkit'

const options = JSON.parse(process.argv[2] ?? '{}') as { seedKeys?: number }
const emulator = await startEmulator('openrouter', { ...options, rateLimit: false })
process.stdout.write(`${JSON.stringify(emulator.settings)}\n`)
process.on('SIGTERM', () => {
  emulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
