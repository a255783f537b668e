// Type-level only: no settings object carries this key at run time, so nothing reads it.
declare const settingsVendor: unique symbol

/**
 * Marks a settings type as meant for one vendor's factory. Every adapter's settings extend it
 * with their vendor id, and so do the emulators' `settings`, so handing one vendor's settings
 * to another vendor's factory is a type error: without it the shared optional `baseUrl` alone
 * would let them through. A plain settings object carries no mark and fits every factory whose
 * settings it matches.
 *
 * @typeParam Vendor - the vendor id, as in `ApiKey.provider`: `'openrouter'`.
 */
export interface VendorSettings<Vendor extends string> {
  /** The vendor the settings are for; only ever seen by the type checker. */
  readonly [settingsVendor]?: Vendor
}
