import { EmulatorServer, type VendorHandler } from './http-server.js'
import { RateLimiter, type RequestLimiter } from './rate-limiter.js'
import type {
  Emulator,
  EmulatorControl,
  EmulatorOptions,
  EmulatorSettings,
  RateLimit,
  RecordedRequest,
  RunningEmulator,
} from './types.js'

/** What a vendor's emulator is built from, once its server listens. */
export interface EmulatorContext {
  /** `http://127.0.0.1:<port>`, where the server listens. */
  url: string
  /** Number of ordinary keys to seed besides the admin credential. */
  seedKeys: number
  /** Multiplies every time span the vendor has (token lifetimes, rate-limit windows). */
  timeScale: number
  /** The rate limits of this server, to count each request against. */
  limiter: RequestLimiter
  /** The clock the vendor's own times are read from (`EmulatorOptions.clock`). */
  clock: () => number
}

/** A vendor's emulator: how it answers, its controls, and the settings its store takes. */
export interface VendorEmulator<Control extends EmulatorControl = EmulatorControl> {
  handler: VendorHandler
  control: Control
  /** `{ baseUrl, <credential> }` for the vendor's store factory. */
  settings: Record<string, string>
}

/** A vendor's emulator as `defineEmulator` takes it. */
export interface EmulatorDefinition<
  Control extends EmulatorControl = EmulatorControl,
  V extends string = string,
  Options extends EmulatorOptions = EmulatorOptions,
> {
  /** The vendor's name, as its store's `provider`. */
  vendor: V
  /** The rate limits the vendor documents, used unless the caller sets its own. Default none. */
  rateLimit?: { read?: RateLimit; write?: RateLimit }
  /** Builds the vendor's state and handler for one server. */
  create(context: EmulatorContext, options: Options): VendorEmulator<Control>
}

/**
 * Turns a vendor's handler into a starter of loopback emulators: each call listens on its own
 * port with its own state, records every request (credentials redacted) and plays injected
 * faults. The bundled vendors are built with it too.
 */
export function defineEmulator<
  Control extends EmulatorControl,
  V extends string,
  Options extends EmulatorOptions = EmulatorOptions,
>(
  definition: EmulatorDefinition<Control, V, Options>,
): (options?: Options) => Promise<Emulator<Control, V>> {
  return async (options = {} as Options) => {
    const timeScale = options.timeScale ?? 1
    if (!(timeScale > 0)) throw new RangeError('timeScale must be a positive number')
    const limits =
      options.rateLimit === false ? {} : (options.rateLimit ?? definition.rateLimit ?? {})
    const limiter = new RateLimiter(limits, timeScale, options.now)

    // The URL is only known once listening; the handler is bound to it through this holder.
    let vendorState: VendorEmulator<Control> | undefined
    const server = new EmulatorServer({
      handle: (request) => (vendorState as VendorEmulator<Control>).handler.handle(request),
      errorResponse: (status, message) =>
        (vendorState as VendorEmulator<Control>).handler.errorResponse(status, message),
      get credentialHeaders() {
        return vendorState?.handler.credentialHeaders
      },
      get contentType() {
        return vendorState?.handler.contentType
      },
    })
    const url = await server.listen(options.port ?? 0)
    try {
      vendorState = definition.create(
        {
          url,
          seedKeys: options.seedKeys ?? 3,
          timeScale,
          limiter,
          clock: options.clock ?? (() => Date.now()),
        },
        options,
      )
    } catch (error) {
      await server.close()
      throw error
    }
    return runningEmulator(server, url, vendorState.control, {
      vendor: definition.vendor,
      settings: vendorState.settings as EmulatorSettings<V>,
    })
  }
}

/**
 * A listening server as a running emulator: `identity` (its vendor or service and settings),
 * its URL and controls, and the server's fault injection and request log.
 */
export function runningEmulator<Control, Identity extends object>(
  server: EmulatorServer,
  url: string,
  control: Control,
  identity: Identity,
): Identity & RunningEmulator<Control> {
  return {
    ...identity,
    url,
    close: () => server.close(),
    inject: (fault) => server.inject(fault),
    clearFaults: () => server.clearFaults(),
    idle: () => server.idle(),
    get requests(): readonly RecordedRequest[] {
      return server.requests
    },
    control,
  }
}
