export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** The smallest and largest value, rounded. */
export function range(values: readonly number[]): [number, number] {
  return [round2(Math.min(...values)), round2(Math.max(...values))]
}

/**
 * Runs `contenders` for `rounds` rounds, each round in a new order (rotated, and reversed
 * every other round), so warm-up and drift fall on every side; returns each one's timings (ms).
 */
export async function interleave(
  contenders: Record<string, () => Promise<unknown>>,
  rounds: number,
): Promise<Record<string, number[]>> {
  const names = Object.keys(contenders)
  const timings: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    const shift = round % names.length
    const rotated = [...names.slice(shift), ...names.slice(0, shift)]
    const order = round % 2 === 0 ? rotated : rotated.reverse()
    for (const name of order) {
      const started = performance.now()
      await (contenders[name] as () => Promise<unknown>)()
      timings[name]?.push(performance.now() - started)
    }
  }
  return timings
}

export const round2 = (value: number) => Math.round(value * 100) / 100
