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

/** Freezes a capabilities object, so no caller can change what a store claims. */
export function defineCapabilities(capabilities: Capabilities): Readonly<Capabilities> {
  return Object.freeze({
    ...capabilities,
    update: capabilities.update === false ? false : Object.freeze([...capabilities.update]),
    create: capabilities.create === false ? false : Object.freeze([...capabilities.create]),
  })
}
