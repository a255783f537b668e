import * as v from 'valibot'
import { ValidationError } from './errors.js'
import { isPlainObject } from './plain-object.js'
import { reconcileOptionsSchema } from './reconcile-options.js'
import { retryOptionsSchema } from './retry-policy.js'
import { Scheduler, schedulerOptionsSchema } from './scheduler.js'
import { headerText, limitMs } from './setting-schemas.js'
import { parseOrThrow, summarizeIssues } from './valibot-issues.js'

const hooksSchema = v.strictObject({
  request: v.optional(v.function()),
  response: v.optional(v.function()),
  retry: v.optional(v.function()),
})

/**
 * Checks the settings every adapter factory shares (`BaseStoreSettings`, `baseUrl`) before
 * the store is built: a bad one is a `ValidationError` naming it, never a `RangeError` at the
 * first request or a timeout that aborts every attempt. Adapter settings are left to the adapter.
 */
export function validateStoreSettings(settings: unknown, provider: string): void {
  const context = { provider, operation: 'configure' }
  if (!isPlainObject(settings)) {
    throw new ValidationError({
      ...context,
      message: `${provider}: settings must be a plain object`,
      issues: [{ path: '', message: 'expected a plain object' }],
    })
  }
  const schema = v.looseObject({
    baseUrl: v.optional(v.string()),
    fetch: v.optional(v.function()),
    timeoutMs: v.optional(limitMs),
    // `false` turns retries off; a Scheduler instance may be shared between stores.
    retry: settings.retry === false ? v.literal(false) : v.optional(retryOptionsSchema),
    scheduler:
      settings.scheduler instanceof Scheduler
        ? v.instance(Scheduler)
        : v.optional(schedulerOptionsSchema),
    hooks: v.optional(hooksSchema),
    userAgent: v.optional(headerText),
    reconcile: v.optional(reconcileOptionsSchema),
  })
  parseOrThrow(
    schema,
    settings,
    (issues) =>
      new ValidationError({
        ...context,
        message: `${provider}: invalid setting (${summarizeIssues(issues, 'settings')})`,
        issues,
      }),
  )
}
