import { LIFETIME } from './config/config-schema.js'
import { printable } from './output.js'
import { UsageError } from './usage-error.js'

/** Days in a lifetime written as `90d`; a usage error naming `where` otherwise. */
export function lifetimeDays(text: string, where = 'rotation.expiresIn'): number {
  const trimmed = text.trim()
  if (!LIFETIME.test(trimmed))
    throw new UsageError(
      `${where} takes a number of days such as 90d, not "${printable(text.slice(0, 40))}"`,
    )
  return Number(trimmed.slice(0, -1))
}
