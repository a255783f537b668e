import type { VendorSettings } from '@keyway/core/adapter'

import type { BUNDLED_EMULATORS } from './start-emulator.js'

/** The vendors keyway ships emulators for: the keys of `EMULATORS`. */
export type Vendor = keyof typeof BUNDLED_EMULATORS

/** Every vendor with an emulator, in the order the demo visits them. */
export const VENDORS: readonly Vendor[] = ['openrouter', 'latitudesh', 'notedx', 'voiceable']

/** A failure the emulator plays instead of (or after) handling matching requests. */
export interface Fault {
  /** Which requests it applies to. Default: every request. */
  match?: { method?: string; path?: string | RegExp }
  /** Answer with this status (and `body`, or the vendor's own error body for it). */
  status?: number
  body?: unknown
  headers?: Record<string, string>
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number
  /** How many matching requests it applies to. Default `1`. */
  times?: number
  /**
   * Hold the request until this promise settles, then play the rest of the fault: a gate a
   * test opens when it wants the vendor to go on, so nothing depends on timing.
   */
  until?: Promise<unknown>
  /** Wait this long (real milliseconds) before doing anything else. */
  delayMs?: number
  /**
   * `'before'`: destroy the socket without processing the request.
   * `'after'`: process the request, then destroy the socket instead of answering: the
   * caller cannot know whether it took effect.
   */
  drop?: 'before' | 'after'
  /** Process the request, then answer 200 with a body that is not valid JSON. */
  malformed?: boolean
}

/** Which requests something applies to: a method, a path (exact or a pattern), or both. */
export type RequestMatch = NonNullable<Fault['match']>

/** A request as the emulator received it. The credential is redacted. */
export interface RecordedRequest {
  method: string
  /** Path and query, as sent. */
  path: string
  headers: Record<string, string>
  /** Parsed JSON, the raw text when it was not JSON, or `undefined` when empty. */
  body: unknown
  /**
   * SHA-256 (hex) of the credential the request carried (without a `Bearer ` scheme), so a
   * test can tell which key a request used while the log holds no secret. At OpenRouter it
   * is the key's `hash`, its id. Absent when the request carried no credential.
   */
  credentialDigest?: string
}

/** A request limit over a time window. */
export interface RateLimit {
  requests: number
  /** Window length in (unscaled) milliseconds. */
  windowMs: number
}

/** Options of `startEmulator`. */
export interface EmulatorOptions {
  /** Port to listen on, on 127.0.0.1. Default `0`: any free port. */
  port?: number
  /**
   * Multiplies every time span the vendor has (rate-limit windows, token lifetimes), so
   * tests need not wait real minutes. `0.001` turns a minute into 60 ms. Default `1`.
   */
  timeScale?: number
  /**
   * The clock rate-limit windows are counted on. Default `Date.now`. A test that checks
   * limits passes a clock it moves by hand, so no window can run out while it is busy.
   */
  now?: () => number
  /**
   * The clock the vendor's own times are read from: when a key was made, updated or last
   * used, and whether an expiry has passed. Default `Date.now`. A test of schedules moves it
   * by hand. The OpenRouter and Latitude.sh emulators follow it.
   */
  clock?: () => number
  /** Rate limits. Latitude's default to the vendor's own; the others default to none. */
  rateLimit?: { read?: RateLimit; write?: RateLimit } | false
  /** Number of ordinary keys seeded besides the admin credential. Default `3`. */
  seedKeys?: number
}

/**
 * What an emulator's `settings` hold: `{ baseUrl, <credential> }` as strings, marked as meant
 * for `V`'s factory when `V` is one vendor, so they are a type error at any other vendor's
 * factory. Settings of an emulator whose vendor is only known as `Vendor` carry no mark.
 */
export type EmulatorSettings<V extends string = Vendor> = Vendor extends V
  ? Record<string, string>
  : Record<string, string> & VendorSettings<V>

/** What every running emulator offers, vendor's or delivery target's: a loopback server. */
export interface RunningEmulator<Control> {
  /** `http://127.0.0.1:<port>`, already listening. */
  url: string
  /** Stops the server and frees its port. */
  close(): Promise<void>
  /** Plays a fault on the next matching request(s): a status, a delay, a dropped answer. */
  inject(fault: Fault): void
  /** Drops every injected fault not yet played. */
  clearFaults(): void
  /**
   * Resolves once every request received so far has been handled: answered, dropped, or
   * processed after its caller gave up. Lets a test see what a slow vendor did late.
   */
  idle(): Promise<void>
  /** Every request received so far, oldest first; credentials are redacted. */
  readonly requests: readonly RecordedRequest[]
  /** The emulator's controls, such as minting a key directly or expiring tokens. */
  readonly control: Control
}

/**
 * A running emulator of one vendor; `Control` is its vendor's controls, `V` its vendor
 * (`startEmulator('notedx')` gives `Emulator<EmulatorControl, 'notedx'>`).
 */
export interface Emulator<
  Control extends EmulatorControl = EmulatorControl,
  V extends string = Vendor,
> extends RunningEmulator<Control> {
  vendor: V
  /**
   * Pass straight to the vendor's adapter factory: `{ baseUrl, <credential> }`, and at
   * Voiceable `credentialKeyId`, the id of the key the credential is. Every setting but
   * `baseUrl` and `credentialKeyId` is a secret. Typed as meant for this vendor only: another
   * vendor's factory refuses them at compile time.
   */
  settings: EmulatorSettings<V>
}

/** What `seedKey` takes; each vendor uses the fields it has. */
export interface SeedKeyInput {
  /**
   * The key's id, for tests of two accounts whose ids collide (each account is its own
   * emulator, and the vendor's ids are only unique within one). OpenRouter: 64 hex digits;
   * Latitude: any `tok_…` id; Voiceable: a whole number; NoteDx: the key itself, which is also
   * its secret. An id the emulator already holds is a `RangeError`. Default: a fresh id.
   */
  id?: string
  name?: string
  disabled?: boolean
  type?: string
  /** When the key was made. Default: now (seeded keys a second apart). */
  createdAt?: Date
  /** When the key was last used, where the vendor reports it. Default: never. */
  lastUsedAt?: Date
  /** Labels the key carries, where the vendor keeps them (NoteDx live keys). Default: none. */
  metadata?: Record<string, string>
}

/** Direct access to the emulator's state, for tests and demos. */
export interface EmulatorControl {
  /**
   * Adds a key as if made in the vendor's dashboard; returns its id and secret. `createdAt`
   * backdates it; `lastUsedAt` sets its last use where the vendor reports one (Latitude, NoteDx).
   */
  seedKey(input?: SeedKeyInput): {
    id: string
    secret: string
  }
  /** Ids of the keys the vendor holds now (including its own admin key where it is listed). */
  keyIds(): string[]
  /** Whether a secret authenticates at the vendor right now. */
  works(secret: string): boolean
  /**
   * Every attribute a client can set on the key whose secret is `secret`, as the vendor
   * stores it, in the vendor's own field names (OpenRouter also `guardrail_id`); `undefined`
   * when no key has that secret. Two keys made alike compare equal.
   */
  keyAttributes(secret: string): Record<string, unknown> | undefined
  /** Makes every session token expire now (NoteDx); a no-op elsewhere. */
  expireTokens(): void
}
