import type { ApiKey, Capabilities } from '../types.js'
import { timeOf } from './key-selector.js'

/**
 * What is known of a key's last use. Only a vendor that reports last use can say `never`;
 * elsewhere a key without a date is `unknown`, or `within` a period where its spending in
 * that period shows it was used (OpenRouter reports spending per day, week and month).
 */
export type LastUse =
  | { kind: 'at'; at: Date }
  | { kind: 'within'; period: 'today' | 'this week' | 'this month'; since: Date }
  | { kind: 'never' }
  | { kind: 'unknown' }

/** Start of the UTC day, week (from Monday) and month that hold `now`, as OpenRouter counts usage. */
function periodStarts(now: Date): Record<'today' | 'this week' | 'this month', Date> {
  const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
  const sinceMonday = (now.getUTCDay() + 6) % 7
  return {
    today: new Date(day),
    'this week': new Date(day - sinceMonday * 86_400_000),
    'this month': new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
  }
}

/** The key's last use as far as its vendor tells. */
export function lastUse(key: ApiKey, capabilities: Capabilities, now: Date): LastUse {
  const at = timeOf(key.lastUsedAt)
  if (at !== null) return { kind: 'at', at: new Date(at) }
  const spend = key.spend
  if (spend !== undefined) {
    const starts = periodStarts(now)
    const spent: Array<['today' | 'this week' | 'this month', number | null | undefined]> = [
      ['today', spend.usedToday],
      ['this week', spend.usedThisWeek],
      ['this month', spend.usedThisMonth],
    ]
    for (const [period, amount] of spent)
      if (typeof amount === 'number' && amount > 0)
        return { kind: 'within', period, since: starts[period] }
  }
  // Spending nothing is no sign of disuse (free models cost nothing): only a vendor that
  // reports last use can say a key was never used.
  return capabilities.lastUsed === true ? { kind: 'never' } : { kind: 'unknown' }
}
