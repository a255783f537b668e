// Runs in a fresh process with --expose-gc: walks 10,000 emulated OpenRouter keys with
// iterate() or list() and prints the peak heap growth over the seeded baseline, in bytes.
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { startEmulator } from '@keyway/testkit'

const mode = process.argv[2] === 'list' ? 'list' : 'iterate'
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')
const emulator = await startEmulator('openrouter', { seedKeys: 10_000 })
const store = createOpenRouterKeyStore({ ...emulator.settings })
gc()
const baseline = process.memoryUsage().heapUsed
let peak = 0
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().heapUsed - baseline)
}
let count = 0
if (mode === 'iterate') {
  for await (const _key of store.iterate()) {
    count++
    if (count % 100 === 0) {
      gc()
      sample()
    }
  }
} else {
  const keys = await store.list()
  count = keys.length
  gc()
  sample()
}
await emulator.close()
console.log(JSON.stringify({ mode, count, peakGrowthBytes: peak }))
