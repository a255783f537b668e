import { anthropicDescriptor } from '@keyway/anthropic'
import { descriptorEnv, type KeyStoreDescriptor } from '@keyway/core/adapter'
import { latitudeDescriptor } from '@keyway/latitudesh'
import { noteDxDescriptor } from '@keyway/notedx'
import { openAIDescriptor } from '@keyway/openai'
import { openRouterDescriptor } from '@keyway/openrouter'
import type { Vendor } from '@keyway/testkit'
import { voiceableDescriptor } from '@keyway/voiceable'
import { didYouMean } from './suggest.js'
import { UsageError } from './usage-error.js'

/** One vendor as the CLI knows it: its adapter's own descriptor. */
export type Provider = KeyStoreDescriptor

/** Every vendor the CLI can manage, from the adapters' descriptors. */
export const PROVIDERS: Readonly<Record<Vendor, Provider>> = {
  openrouter: openRouterDescriptor,
  latitudesh: latitudeDescriptor,
  notedx: noteDxDescriptor,
  voiceable: voiceableDescriptor,
  anthropic: anthropicDescriptor,
  openai: openAIDescriptor,
}

/** The vendor ids, in the order help lists them. */
export const VENDOR_IDS = Object.values(PROVIDERS).map((provider) => provider.id)

/** Setting → env var, for every env var the vendor's factory reads (base URL included). */
export function providerEnv(provider: Provider): Record<string, string> {
  return descriptorEnv(provider)
}

/**
 * The credential env vars as an operator sets them: `NOTEDX_EMAIL and NOTEDX_PASSWORD, or
 * NOTEDX_ID_TOKEN`.
 */
export function credentialText(provider: Provider): string {
  return provider.credentials.map((way) => Object.values(way).join(' and ')).join(', or ')
}

/** Every env var that can hold (part of) the vendor's credential. */
export function credentialEnvVars(provider: Provider): string[] {
  return provider.credentials.flatMap((way) => Object.values(way))
}

/** The vendor for `--provider`, or a usage error that suggests the nearest name. */
export function vendorFor(name: string | undefined): Vendor {
  const all = `one of: ${VENDOR_IDS.join(', ')}`
  if (name === undefined) throw new UsageError('--provider is required', all)
  if (isVendor(name)) return name
  throw new UsageError(
    `unknown provider "${name}"`,
    didYouMean(name, VENDOR_IDS, all, (match) => `--provider ${match}`),
  )
}

/**
 * What each vendor's secrets look like, from its descriptor, so a secret pasted where an id
 * belongs is refused without being echoed.
 */
export const SECRET_PATTERNS: readonly RegExp[] = Object.values(PROVIDERS).flatMap(
  (provider) => provider.secretPatterns ?? [],
)

/** Whether a value has the shape of a vendor secret. */
export function looksLikeSecret(value: string): boolean {
  return SECRET_PATTERNS.some((pattern) => pattern.test(value.trim()))
}

export function isVendor(value: string): value is Vendor {
  return Object.hasOwn(PROVIDERS, value)
}
