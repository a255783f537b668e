/** Edits (insert, delete, replace, swap two neighbours) between two short words. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, index) => index)]
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const above = rows[i - 1] as number[]
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] ?? 0) + 1)
      row[j] = best
    }
    rows.push(row)
  }
  return (rows[a.length] as number[])[b.length] ?? 0
}

/**
 * The candidate the input most likely meant: one it starts, or that starts it, or the
 * nearest within a third of its length (at least 1, at most 3 edits). `undefined` if none is close.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase()
  const prefixed = candidates.filter(
    (candidate) => candidate.startsWith(lower) || lower.startsWith(candidate),
  )
  if (lower.length >= 3 && prefixed.length === 1) return prefixed[0]
  const limit = Math.min(3, Math.max(1, Math.floor(lower.length / 3)))
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate)
    if (distance <= limit && (best === undefined || distance < best.distance))
      best = { candidate, distance }
  }
  return best?.candidate
}

/** `did you mean "x"?`, or the fallback when nothing is close. */
export function didYouMean(
  input: string,
  candidates: readonly string[],
  fallback: string,
  format: (candidate: string) => string = (candidate) => candidate,
): string {
  const match = closest(input, candidates)
  return match === undefined ? fallback : `did you mean ${format(match)}?`
}
