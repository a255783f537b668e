import { randomInt } from 'node:crypto'
import { ValidationError } from './errors.js'
import type { InputContext } from './validate.js'

/**
 * What a marker may look like: 8 to 40 letters, digits and dashes. That is safe in a key
 * name and a metadata value at every vendor, and leaves room for the name beside it.
 */
const MARKER_PATTERN = /^[A-Za-z0-9-]{8,40}$/

/**
 * A fresh tag for one create call: `kw` and 22 random digits (about 73 bits). Digits only,
 * so it never spells a word a vendor refuses in metadata (key, token, secret…). Pass it as
 * `CreateOptions.marker` to journal it before the create is sent.
 */
export function createMarker(): string {
  let digits = ''
  for (let index = 0; index < 22; index++) digits += randomInt(10)
  return `kw${digits}`
}

/** Throws a `ValidationError` unless `marker` is a marker `createMarker` could have made. */
export function checkMarker(marker: unknown, context: InputContext): asserts marker is string {
  if (typeof marker === 'string' && MARKER_PATTERN.test(marker)) return
  const problem = 'expected 8 to 40 letters, digits or dashes (see createMarker())'
  throw new ValidationError({
    ...context,
    message: `${context.provider} ${context.operation}: invalid marker (${problem})`,
    issues: [{ path: 'marker', message: problem }],
  })
}

/** Markers of the creates in progress in this process: two creates never share one. */
const inFlight = new Set<string>()

/**
 * Claims `marker` for one create until the returned release is called. A marker already
 * claimed is a `ValidationError`: two creates carrying one marker could not tell their keys apart.
 */
export function claimMarker(marker: string, context: InputContext): () => void {
  if (inFlight.has(marker)) {
    const problem = 'already carried by a create in progress'
    throw new ValidationError({
      ...context,
      message: `${context.provider} ${context.operation}: marker ${marker} is ${problem}`,
      issues: [{ path: 'marker', message: problem }],
    })
  }
  inFlight.add(marker)
  return () => {
    inFlight.delete(marker)
  }
}
