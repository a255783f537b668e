import { runningEmulator } from './emulator-framework.js'
import { EmulatorServer, type VendorHandler } from './http-server.js'
import type { RunningEmulator } from './types.js'

/** Options every target emulator takes. */
export interface TargetEmulatorOptions {
  /** Port to listen on, on 127.0.0.1. Default `0`: any free port. */
  port?: number
}

/**
 * A running emulator of a delivery target's service (GitHub, Vercel): a real loopback HTTP
 * server with the same fault injection and request log as the vendor emulators; the token is
 * redacted in the log, and `control` is the service's state, for tests.
 */
export interface TargetEmulator<Control, Settings extends object = object>
  extends RunningEmulator<Control> {
  /** `'github'`, `'vercel'`. */
  service: string
  /**
   * `{ baseUrl, token }` and what else the service needs (Vercel: `teamId`): pass them to the
   * target's factory (the token is a secret).
   */
  settings: { baseUrl: string; token: string } & Settings
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
  return runningEmulator(server, url, control, {
    service,
    settings: { ...(extra as Settings), baseUrl: url, token },
  })
}
