import { sleep } from '../sleep.js'
import type { CreatedKey } from '../types.js'
import type { RotationRun } from './rotation-run.js'

/** How a check of the new secret ended. */
export type Verification =
  | { outcome: 'passed' }
  | { outcome: 'failed'; error?: unknown }
  | { outcome: 'unchecked' }

/** Whether the rotation checks new secrets: the caller's `verify`, or the store's where it has one. */
export function hasVerifier(run: RotationRun): boolean {
  const { verify } = run.settings
  return verify !== false && (verify !== undefined || run.store.capabilities.verify)
}

/**
 * Checks the new secret: the caller's `verify`, else the store's where it has one. Polled
 * up to `verifyAttempts` times, `verifyIntervalMs` apart (each pause told to `onWait`),
 * since a new key may take a moment to work everywhere. A try that throws counts as a
 * failed try; the last error is kept as the reason.
 */
export async function verifySecret(run: RotationRun, created: CreatedKey): Promise<Verification> {
  const { settings, store } = run
  if (settings.verify === false) return { outcome: 'unchecked' }
  const custom = settings.verify
  const check =
    custom !== undefined
      ? async () => custom(created, settings.signal)
      : store.capabilities.verify
        ? () => store.verify(created.secret, run.request)
        : undefined
  if (check === undefined) return { outcome: 'unchecked' }
  let lastError: unknown
  for (let attempt = 1; attempt <= settings.verifyAttempts; attempt++) {
    try {
      if ((await check()) === true) return { outcome: 'passed' }
      lastError = undefined
    } catch (error) {
      settings.signal?.throwIfAborted()
      lastError = error
    }
    if (attempt < settings.verifyAttempts && settings.verifyIntervalMs > 0) {
      settings.onWait?.({
        rotationId: run.rotationId,
        provider: run.provider,
        keyId: run.oldKeyId,
        reason: 'verify',
        ms: settings.verifyIntervalMs,
      })
      await sleep(settings.verifyIntervalMs, settings.signal)
    }
  }
  return lastError === undefined ? { outcome: 'failed' } : { outcome: 'failed', error: lastError }
}
