import { UnsupportedOperationError } from './errors.js'
import type { Capabilities } from './types.js'

/** Where a capability check happens, for the error it throws. */
export interface CapabilityContext {
  provider: string
  operation: string
}

/** Throws `UnsupportedOperationError` when the vendor lacks an operation; nothing is sent. */
export function assertCapability(
  supported: boolean,
  feature: string,
  context: CapabilityContext,
): void {
  if (supported) return
  throw new UnsupportedOperationError({
    ...context,
    feature,
    message: `${context.provider} does not support ${feature}`,
  })
}

/**
 * Throws `UnsupportedOperationError` for the first input field, set to anything but
 * `undefined`, that the vendor cannot take: fields are never silently dropped.
 */
export function assertFields(
  input: object,
  allowed: readonly string[],
  context: CapabilityContext,
): void {
  for (const [field, value] of Object.entries(input)) {
    if (value === undefined || allowed.includes(field)) continue
    const feature = `${context.operation}.${field}`
    throw new UnsupportedOperationError({
      ...context,
      feature,
      message: `${context.provider} ${context.operation} does not support the field "${field}"`,
    })
  }
}

/** The features a vendor lacks unless its store claims them. */
const FEATURES = [
  'names',
  'metadata',
  'disable',
  'expiry',
  'spendLimit',
  'regenerate',
  'verify',
  'revealAfterCreate',
] as const satisfies readonly (keyof Capabilities)[]

/**
 * What `defineCapabilities` takes: how the vendor gets and pages keys, what `delete` leaves,
 * the fields `create` and `update` take, and only the features it has (`names: true`,
 * `verify: true`…): a feature left out is one it lacks.
 */
export type CapabilityClaims = Pick<
  Capabilities,
  'get' | 'pagination' | 'deleted' | 'create' | 'update' | 'archive' | 'lastUsed'
> &
  Partial<
    Pick<
      Capabilities,
      | 'names'
      | 'metadata'
      | 'disable'
      | 'expiry'
      | 'spendLimit'
      | 'regenerate'
      | 'verify'
      | 'revealAfterCreate'
    >
  >

/**
 * A store's capabilities, frozen so no caller can change what it claims. Each feature left
 * out of `claims` is `false`; `archive` and `lastUsed` stay absent unless given.
 */
export function defineCapabilities(claims: CapabilityClaims): Readonly<Capabilities> {
  const capabilities = {
    ...Object.fromEntries(FEATURES.map((feature) => [feature, false])),
    ...claims,
  } as Capabilities
  return Object.freeze({
    ...capabilities,
    update: capabilities.update === false ? false : Object.freeze([...capabilities.update]),
    create: capabilities.create === false ? false : Object.freeze([...capabilities.create]),
  })
}
