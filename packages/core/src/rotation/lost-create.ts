// A create was journalled and its answer lost (the process died, or the vendor was slow):
// the keys carrying its marker are provably this rotation's; keys it may have made that no
// marker proves are only ever named.

import { settlingPatch } from '../create-marking.js'
import { NotFoundError } from '../errors.js'
import { recoverFirst, removeEach, removeLeftovers } from '../marked-keys.js'
import type { Secret } from '../secret.js'
import type { ApiKey, CreateKeyInput } from '../types.js'
import { createdAtOf } from './key-identity.js'
import { type RotationRun, reasonOf } from './rotation-run.js'

/** How far back a key's creation may lie and still be named as possibly an interrupted create's. */
const CLOCK_SLACK_MS = 120_000

/**
 * Deletes any key carrying the marker of an earlier create of this rotation that was not
 * found when it resumed (a slow vendor made it later): provably this rotation's, never
 * delivered. A look that fails is left for a later run. Runs when a rotation resumes and
 * before it is done.
 */
export async function sweepAbandoned(run: RotationRun): Promise<void> {
  for (const marker of run.record.abandonedMarkers) {
    // A look that fails leaves the marker journalled: the next run looks again.
    const late = await removeLeftovers(
      () => findMarked(run, marker),
      (id) => run.discard(id),
    )
    for (const id of late) {
      run.warn(
        `deleted ${id}: made late by an earlier create of this rotation (marker ${marker}), never delivered`,
      )
    }
  }
}

/** The active keys carrying `marker`: provably this rotation's. */
async function findMarked(run: RotationRun, marker: string): Promise<ApiKey[]> {
  return (await run.store.findCreated(marker, run.request)).filter((key) => key.status === 'active')
}

/**
 * A create was journalled and its answer lost with the process. Keys carrying its marker are
 * this rotation's: one is recovered where the vendor shows secrets again, the others are
 * deleted, then the rotation creates again.
 */
export async function settleLostCreate(run: RotationRun): Promise<void> {
  const marker = run.record.marker
  if (marker === null) {
    throw run.fail(
      'resume',
      false,
      `an earlier run sent a create whose marker was not journalled (an older keyway), so the key it may have made cannot be told apart from others${named(run)}; nothing was touched: delete such a key by hand if nothing uses it, then rotate with a new rotation id`,
    )
  }
  let found: ApiKey[]
  try {
    found = await findMarked(run, marker)
  } catch (error) {
    throw run.fail(
      'resume',
      false,
      `could not look for the key the interrupted create may have made (marker ${marker}): ${reasonOf(run, error)}; nothing was touched: run the rotation again`,
      error,
    )
  }
  const recovered = await recoverFirst(found, (key) => revealIfShown(run, key))
  if (recovered !== undefined) {
    await recoverFound(run, recovered.key, recovered.recovered)
    await discardAll(
      run,
      found.filter((key) => key !== recovered.key),
      marker,
    )
    return
  }
  await discardAll(run, found, marker)
  // A slow vendor may still make a key for it: later runs of this rotation look again.
  run.record = {
    ...run.record,
    abandonedMarkers: [...new Set([...run.record.abandonedMarkers, marker])],
  }
  if (found.length > 0) {
    run.warn(
      `deleted ${found.map((key) => key.id).join(', ')}: made by the interrupted create (marker ${marker}) and never delivered`,
    )
  } else {
    const unsure = await unprovenKeys(run)
    if (unsure.length > 0) {
      run.warn(
        `${unsure.join(', ')} may have been made by the interrupted create after it was settled (no marker is left to prove it); left untouched: delete it if nothing uses it`,
      )
    }
  }
  await run.restart()
}

/**
 * The secret of a key the interrupted create made, where the store shows it again. A store
 * whose `reveal` answers `NotFoundError` for it (one that keeps secrets of its own, and lost
 * this one with the process) cannot recover it: `undefined`, and the key is discarded.
 */
export async function revealIfShown(run: RotationRun, key: ApiKey): Promise<Secret | undefined> {
  if (run.store.reveal === undefined) return undefined
  try {
    return await run.store.reveal(key.id, run.request)
  } catch (error) {
    if (error instanceof NotFoundError) return undefined
    throw error
  }
}

/** Takes over a key the interrupted create made: its secret, and its settings without the marker. */
export async function recoverFound(run: RotationRun, key: ApiKey, secret: Secret): Promise<void> {
  const { store } = run
  let settled = key
  const updatable = (run.store.capabilities.update || []) as readonly string[]
  const fields = (['name', 'metadata'] as const).filter((field) => updatable.includes(field))
  const patch = settlingPatch(run.plan.successor as CreateKeyInput, fields, key)
  if (patch !== undefined) settled = await store.update(key.id, patch as never, run.request)
  run.hold({ key: settled, secret })
  run.warn(`recovered ${key.id}, made by the interrupted create`)
  await run.advance('created', { newKeyId: key.id, newKeyCreatedAt: createdAtOf(settled) })
  run.compensations.push(`deleting the new key ${key.id}`, () => run.discard(key.id))
}

function discardAll(run: RotationRun, keys: readonly ApiKey[], marker: string): Promise<void> {
  return removeEach(
    keys,
    (id) => run.discard(id),
    (error, left) =>
      run.fail(
        'resume',
        false,
        `could not delete ${left[0]?.id}, made by the interrupted create (marker ${marker}): ${reasonOf(run, error)}; run the rotation again`,
        error,
      ),
  )
}

/**
 * Keys that may be the interrupted create's although no marker proves it (it was settled
 * just before the process died): active, not the old key, of the name asked for, made since
 * the create was journalled. Only ever named.
 */
async function unprovenKeys(run: RotationRun): Promise<string[]> {
  const since = lastTime(run, 'creating') - CLOCK_SLACK_MS
  const name = run.record.newKeyName
  let listed: ApiKey[]
  try {
    listed = await run.store.list({ ...run.request, includeDisabled: false })
  } catch (error) {
    // Nothing is made again before every key that may be the lost create's is named.
    throw run.fail(
      'resume',
      false,
      `could not list the keys to name any the interrupted create may have made (${reasonOf(run, error)}); nothing was touched: run the rotation again`,
      error,
    )
  }
  return listed
    .filter(
      (key) =>
        key.id !== run.oldKeyId &&
        (name === null || key.name === name) &&
        (key.createdAt === null || new Date(key.createdAt).getTime() >= since),
    )
    .map((key) => key.id)
}

function lastTime(run: RotationRun, state: string): number {
  const entry = [...run.record.history].reverse().find((item) => item.state === state)
  return entry === undefined ? 0 : Date.parse(entry.at)
}

function named(run: RotationRun): string {
  return run.record.newKeyName === null
    ? ''
    : ` (look for a new key named ${run.record.newKeyName})`
}
