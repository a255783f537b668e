import { NotFoundError, ValidationError } from '../errors.js'
import { eachStore } from '../fleet/fleet-audit.js'
import type { Fleet, FleetStore, FleetStoreError } from '../fleet/fleet-types.js'
import type { KeyStoreDescriptor, LeakRules } from '../key-store-descriptor.js'
import type { ApiKey } from '../types.js'
import { type Leak, type ParsedLeak, parseLeak } from './leak-input.js'

/** What the leak matcher reads of a vendor's descriptor. */
export type LeakVendor = Pick<KeyStoreDescriptor, 'id' | 'title' | 'secretPatterns' | 'leak'>

/** How a key was found: its id from the secret, its hint, or the SHA-256 in its id. */
export type LeakMatchKind = 'key-id' | 'hint' | 'sha256'

/** A key that may be the leaked one. Never a secret. */
export interface LeakMatch {
  label: string
  provider: string
  key: ApiKey
  by: LeakMatchKind
  /** How sure the way it was found is, where the vendor does not document it. */
  note?: string
}

/** How one store was searched, or why it was not. */
export interface LeakStoreSearch {
  label: string
  provider: string
  /** `'skipped'`: not asked at all (the reason says why); nothing was sent to it. */
  by: LeakMatchKind | 'skipped'
  reason?: string
}

/** What a leak search found, store by store. */
export interface LeakSearch {
  form: ParsedLeak['form']
  /** The vendors whose secrets look like the leaked one (a whole secret only; else `[]`). */
  shapes: string[]
  matches: LeakMatch[]
  stores: LeakStoreSearch[]
  /** Stores that could not be read: a match there is unknown. */
  errors: FleetStoreError[]
}

/** Options of `findLeakedKeys`. */
export interface FindLeakedKeysOptions {
  /** The vendors' descriptors: their secret shapes and leak rules (`openRouterDescriptor`, …). */
  vendors: readonly LeakVendor[]
  signal?: AbortSignal
}

/**
 * Finds the keys a leaked secret, hint or SHA-256 prefix may be, in every store of the fleet,
 * by what each vendor offers (its descriptor's `leak` rules): the key id where the vendor's id
 * derives from the secret, else the vendor's hint field (the start and end of the secret it
 * shows), or the SHA-256 a key id holds. A whole secret is compared here and never sent to
 * any vendor: only stores of the vendors whose secret shape it has are searched (all stores,
 * by hint, where no shape fits), and they are sent an id derived from it or a plain listing.
 * Writes nothing.
 */
export async function findLeakedKeys(
  fleet: Pick<Fleet, 'stores'>,
  leak: Leak,
  options: FindLeakedKeysOptions,
): Promise<LeakSearch> {
  const parsed = parseLeak(leak)
  checkVendors(options.vendors)
  const shapes =
    parsed.form === 'secret'
      ? options.vendors
          .filter((vendor) =>
            (vendor.secretPatterns ?? []).some((pattern) => pattern.test(parsed.secret.reveal())),
          )
          .map((vendor) => vendor.id)
      : []
  const stores: LeakStoreSearch[] = []
  const searched: FleetStore[] = []
  for (const fleetStore of fleet.stores) {
    const provider = fleetStore.store.provider
    const vendor = options.vendors.find((candidate) => candidate.id === provider)
    const skip = whySkip(parsed, vendor, shapes)
    if (skip !== undefined) {
      stores.push({ label: fleetStore.label, provider, by: 'skipped', reason: skip })
      continue
    }
    searched.push(fleetStore)
  }
  const { results, errors } = await eachStore(searched, options.signal, (fleetStore, signal) =>
    searchStore(fleetStore, rulesOf(options.vendors, fleetStore), parsed, signal),
  )
  for (const { fleetStore, value } of results)
    stores.push({ label: fleetStore.label, provider: fleetStore.store.provider, by: value.by })
  return {
    form: parsed.form,
    shapes,
    matches: results.flatMap((result) => result.value.matches),
    stores,
    errors,
  }
}

function checkVendors(vendors: unknown): void {
  if (Array.isArray(vendors)) return
  throw new ValidationError({
    provider: 'keyway',
    operation: 'findLeakedKeys',
    message: 'findLeakedKeys: invalid option (vendors: expected the vendors’ descriptors)',
    issues: [{ path: 'vendors', message: 'expected the vendors’ descriptors' }],
  })
}

function rulesOf(vendors: readonly LeakVendor[], fleetStore: FleetStore): LeakRules {
  return vendors.find((vendor) => vendor.id === fleetStore.store.provider)?.leak as LeakRules
}

/** Why a store is not searched at all (nothing is sent to it), or `undefined`. */
function whySkip(
  leak: ParsedLeak,
  vendor: LeakVendor | undefined,
  shapes: readonly string[],
): string | undefined {
  if (vendor?.leak === undefined)
    return `keyway knows no way to match a leaked secret to a ${vendor?.title ?? 'this vendor’s'} key`
  const rules = vendor.leak
  if (leak.form === 'secret') {
    if (shapes.length > 0 && !shapes.includes(vendor.id))
      return `the secret does not look like a ${vendor.title} key, so it is not sent there`
    return undefined
  }
  if (leak.form === 'sha256')
    return rules.sha256InId === undefined
      ? `${vendor.title} key ids do not hold the secret’s SHA-256`
      : undefined
  if (!canStart(rules, leak.start) || !(leak.end === '' || rules.alphabet.test(leak.end)))
    return `the hint cannot be part of a ${vendor.title} key`
  return undefined
}

/** Whether a secret of this vendor can begin with `start`. */
function canStart(rules: LeakRules, start: string): boolean {
  if (start === '') return true
  const prefixes = rules.prefixes.length === 0 ? [''] : rules.prefixes
  return prefixes.some(
    (prefix) =>
      prefix.startsWith(start) ||
      (start.startsWith(prefix) && rules.alphabet.test(start.slice(prefix.length))),
  )
}

async function searchStore(
  fleetStore: FleetStore,
  rules: LeakRules,
  leak: ParsedLeak,
  signal: AbortSignal,
): Promise<{ by: LeakMatchKind; matches: LeakMatch[] }> {
  const { label, store } = fleetStore
  const match = (key: ApiKey, by: LeakMatchKind, note?: string): LeakMatch => ({
    label,
    provider: store.provider,
    key,
    by,
    ...(note === undefined ? {} : { note }),
  })
  if (leak.form === 'secret' && rules.keyIdOf !== undefined) {
    const id = rules.keyIdOf(leak.secret.reveal())
    try {
      return { by: 'key-id', matches: [match(await store.get(id, { signal }), 'key-id')] }
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error
      // A derivation the vendor documents is final; one it does not is checked by the hint too.
      if (rules.keyIdNote === undefined) return { by: 'key-id', matches: [] }
    }
  }
  const keys = await store.list({ includeDisabled: true, signal })
  if (leak.form === 'sha256') {
    const { prefix, length } = rules.sha256InId as NonNullable<LeakRules['sha256InId']>
    const wanted = leak.hex.slice(0, length)
    return {
      by: 'sha256',
      matches: keys
        .filter((key) => key.id.toLowerCase().startsWith(`${prefix}${wanted}`))
        .map((key) => match(key, 'sha256')),
    }
  }
  const { start, end } =
    leak.form === 'secret'
      ? { start: leak.secret.reveal(), end: leak.secret.reveal() }
      : { start: leak.start, end: leak.end }
  const note =
    leak.form === 'secret' && rules.keyIdOf !== undefined
      ? `not found by the key id the secret gives (${rules.keyIdNote}); found by the part of the secret the vendor shows`
      : undefined
  return {
    by: 'hint',
    matches: keys
      .filter((key) => hintMatches(rules.shown(key), start, end, rules.prefixes))
      .map((key) => match(key, 'hint', note)),
  }
}

/**
 * Whether what a vendor shows of a key agrees with the known start and end of a secret:
 * each part shown by both the same as far as both go, and at least one of them telling more
 * than the vendor's fixed prefix (every key shares that).
 */
export function hintMatches(
  shown: { start?: string; end?: string } | undefined,
  start: string,
  end: string,
  prefixes: readonly string[] = [],
): boolean {
  if (shown === undefined) return false
  let told = false
  if (start !== '' && shown.start !== undefined && shown.start !== '') {
    if (!(shown.start.startsWith(start) || start.startsWith(shown.start))) return false
    const shownStart = shown.start
    // How much of the shown start every key of the vendor has.
    const fixed = Math.max(
      0,
      ...prefixes.map((prefix) =>
        shownStart.startsWith(prefix)
          ? prefix.length
          : prefix.startsWith(shownStart)
            ? shownStart.length
            : 0,
      ),
    )
    if (Math.min(shown.start.length, start.length) > fixed) told = true
  }
  if (end !== '' && shown.end !== undefined && shown.end !== '') {
    if (!(shown.end.endsWith(end) || end.endsWith(shown.end))) return false
    told = true
  }
  return told
}
