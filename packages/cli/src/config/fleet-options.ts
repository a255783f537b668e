/** The flags of `keyway audit`, `plan` and `apply` beyond the shared ones, for parseArgs. */
export const FLEET_OPTIONS = {
  config: { type: 'string', short: 'c' },
  store: { type: 'string', multiple: true },
  'fail-on': { type: 'string' },
  'max-age-days': { type: 'string' },
  'unused-days': { type: 'string' },
  'expiring-within-days': { type: 'string' },
} as const
