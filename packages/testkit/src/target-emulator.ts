import { EmulatorServer, type VendorHandler } from './http-server.js'
import type { Fault, RecordedRequest } from './types.js'

/** Options every target emulator takes. */
export interface TargetEmulatorOptions {
  /** Port to listen on, on 127.0.0.1. Default `0`: any free port. */
  port?: number
}

/**
 * A running emulator of a delivery target's service (GitHub, Vercel): a real loopback HTTP
 * server with the same fault injection and request log as the vendor emulators.
 */
export interface TargetEmulator<Control, Settings extends object = object> {
  /** `'github'`, `'vercel'`. */
  service: string
  /** `http://127.0.0.1:<port>`, already listening. */
  url: string
  /**
   * `{ baseUrl, token }` and what else the service needs (Vercel: `teamId`): pass them to the
   * target's factory (the token is a secret).
   */
  settings: { baseUrl: string; token: string } & Settings
  /** Stops the server and frees its port. */
  close(): Promise<void>
  /** Plays a fault on the next matching request(s): a status, a delay, a dropped answer. */
  inject(fault: Fault): void
  /** Drops every injected fault not yet played. */
  clearFaults(): void
  /** Resolves once every request received so far has been handled. */
  idle(): Promise<void>
  /** Every request received so far, oldest first; the token is redacted. */
  readonly requests: readonly RecordedRequest[]
  /** The service's state, for tests. */
  readonly control: Control
}

/** Starts `handler` on loopback and wraps it as a `TargetEmulator`. */
export async function serveTarget<Control, Settings extends object = object>(
  service: string,
  create: () => { handler: VendorHandler; control: Control; token: string; extra?: Settings },
  options: TargetEmulatorOptions,
): Promise<TargetEmulator<Control, Settings>> {
  const { handler, control, token, extra } = create()
  const server = new EmulatorServer(handler)
  const url = await server.listen(options.port ?? 0)
  return {
    service,
    url,
    settings: { ...(extra as Settings), baseUrl: url, token },
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
