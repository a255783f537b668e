import { runScript, startEmulatorProcess } from './child-process.js'
import { median, range, round2 } from './stats.js'

/** Each fresh process's median µs per call, by operation and contender. */
export type ProbeResult = Record<'get' | 'list', Record<string, number>>

/**
 * Times `get` and `list` per call for every contender: the emulator runs in its own child
 * process, and each repeat is a fresh probe process that interleaves the contenders in rounds.
 */
export async function perCallRepeats(
  repeats: number,
  probe: { calls: number; rounds: number },
): Promise<ProbeResult[]> {
  const emulator = await startEmulatorProcess({ seedKeys: 3 })
  try {
    const results: ProbeResult[] = []
    for (let repeat = 0; repeat < repeats; repeat++) {
      results.push(
        await runScript<ProbeResult>('./per-call-probe.ts', [
          JSON.stringify({ ...emulator.settings, ...probe }),
        ]),
      )
    }
    return results
  } finally {
    await emulator.stop()
  }
}

/** The median over processes and its min–max spread, for a value read from each process. */
export function summarize(values: readonly number[]): { median: number; spread: [number, number] } {
  return { median: round2(median(values)), spread: range(values) }
}
