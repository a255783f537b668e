import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createFleet, KeyStoreError, memoryJournal, probeTargets } from '@keyway/core'
import { Access, type Refusal, SESSION_COOKIE } from './access.js'
import {
  ActionError,
  type ActionOutcome,
  isAction,
  newRotations,
  rotationTargets,
  runAction,
} from './actions.js'
import { send } from './http-response.js'
import { type DashboardStore, type OpenStoresOptions, openStores } from './open-stores.js'
import { readForm } from './read-form.js'
import { type KeyView, type PageView, renderPage, renderRefusal, type StoreView } from './render.js'

/** Options of `startDashboard`. */
export interface DashboardOptions {
  /** Port on 127.0.0.1. Default `0`: any free port. */
  port?: number
  /** Where request and vendor log lines go. Default `console.error`. Never given a secret. */
  log?: (line: string) => void
  /**
   * A fleet config to show (`keyway.config.json`), opened as `keyway plan` opens it.
   * Default: `KEYWAY_CONFIG`; without either, a demo fleet on emulators in this process.
   */
  config?: string
  /** Where the config's env vars are read. Default: `process.env`. */
  env?: OpenStoresOptions['env']
  /** Where a config's changes are recorded (see `OpenStoresOptions.history`). Default: the CLI's history file. */
  history?: OpenStoresOptions['history']
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://127.0.0.1:<port>`. */
  origin: string
  /** The origin with this start's token: open it once to get a session. */
  loginUrl: string
  /** The fleet's stores, with their emulators when the dashboard runs its demo fleet. */
  stores: DashboardStore[]
  /** `'config'`: an operator's config file; `'emulators'`: the demo fleet. */
  source: 'config' | 'emulators'
  /** The demo fleet's emulators (vendors and targets), when `source` is `'emulators'`. */
  demo?: Awaited<ReturnType<typeof openStores>>['demo']
  close(): Promise<void>
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
}

/** What a refused browser can do about it. */
const HINTS: Record<number, string> = {
  400: 'Open the dashboard at the address it printed (127.0.0.1) and use its own forms.',
  401: 'Open the URL the dashboard printed when it started.',
  403: "Changes are accepted only from the dashboard's own page.",
}

/**
 * Starts the dashboard on 127.0.0.1 with a store for every vendor (see `openStores`). Only
 * a browser that opened `loginUrl` gets in; every change must come from the dashboard's own
 * page, with its session's CSRF token.
 */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const log = options.log ?? ((line: string) => console.error(line))
  const assets = Object.fromEntries(
    await Promise.all(
      Object.entries(ASSETS).map(async ([path, asset]) => [
        path,
        {
          type: asset.type,
          body: await readFile(new URL(`./assets/${asset.file}`, import.meta.url), 'utf8'),
        },
      ]),
    ),
  ) as Record<string, { type: string; body: string }>
  const opened = await openStores({
    log,
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.history === undefined ? {} : { history: options.history }),
  })
  let access: Access | undefined
  const rotations = newRotations()
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // Only the error's name: an unknown error might carry anything.
      log(`internal error: ${error instanceof Error ? error.name : typeof error}`)
      if (!response.headersSent) send(response, 500, renderRefusal(500, 'internal error', ''))
      else response.destroy()
    })
  })

  const pageView = async (csrf: string, extra: Partial<PageView> = {}): Promise<PageView> => ({
    csrf,
    stores: await Promise.all(opened.stores.map((entry) => storeView(entry, opened.source))),
    configFile: opened.source === 'config' ? opened.file : null,
    ...extra,
  })

  const refuse = (request: IncomingMessage, response: ServerResponse, refusal: Refusal) => {
    log(`${request.method} ${pathOf(request)} ${refusal.status} refused: ${refusal.reason}`)
    send(
      response,
      refusal.status,
      renderRefusal(refusal.status, refusal.reason, HINTS[refusal.status] ?? ''),
    )
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const gate = access as Access
    const path = pathOf(request)
    const hostRefusal = gate.checkHost(request)
    if (hostRefusal) return refuse(request, response, hostRefusal)
    const asset = request.method === 'GET' ? assets[path] : undefined
    if (asset) return send(response, 200, asset.body, { 'content-type': asset.type })

    if (request.method === 'GET' && path === '/login') {
      const token = new URL(request.url ?? '/', 'http://x').searchParams.get('token')
      const session = gate.login(token)
      if (session === undefined)
        return refuse(request, response, { status: 401, reason: 'wrong or missing token' })
      log(`GET /login 303 new session`)
      // The token leaves the address bar at once; the cookie is for this origin's pages only.
      return send(response, 303, '', {
        location: '/',
        'set-cookie': `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Strict`,
      })
    }

    const action = /^\/actions\/([a-z]+)$/.exec(path)?.[1]
    if (request.method === 'POST' && action !== undefined) {
      const originRefusal = gate.checkOrigin(request)
      if (originRefusal) return refuse(request, response, originRefusal)
      const session = gate.session(request)
      if (!session) return refuse(request, response, { status: 401, reason: 'no session' })
      const form = await readForm(request)
      if (!form) return refuse(request, response, { status: 400, reason: 'expected a small form' })
      const csrfRefusal = gate.checkCsrf(session, form.get('csrf') ?? undefined)
      if (csrfRefusal) return refuse(request, response, csrfRefusal)
      const entry = opened.stores.find((store) => store.label === form.get('store'))
      if (!entry || !isAction(action))
        return refuse(request, response, { status: 400, reason: 'unknown store or action' })
      let outcome: ActionOutcome
      try {
        outcome = await runAction(
          entry,
          action,
          { id: form.get('id') ?? undefined, name: form.get('name') ?? undefined },
          rotations,
        )
      } catch (error) {
        const message = describe(error)
        log(`POST ${path} 422 ${message}`)
        return send(response, 422, renderPage(await pageView(session.csrf, { error: message })))
      }
      log(`POST ${path} 200 ${outcome.notice}`)
      return send(response, 200, renderPage(await pageView(session.csrf, outcome)))
    }

    if (request.method === 'GET' && path === '/') {
      const session = gate.session(request)
      if (!session) return refuse(request, response, { status: 401, reason: 'no session' })
      const page = renderPage(await pageView(session.csrf))
      log('GET / 200')
      return send(response, 200, page)
    }
    log(`${request.method} ${path} 404`)
    send(response, 404, renderRefusal(404, 'not found', ''))
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  }).catch(async (error: unknown) => {
    await opened.close()
    throw error
  })
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  access = new Access(origin)
  return {
    origin,
    loginUrl: `${origin}/login?token=${access.startToken}`,
    stores: opened.stores,
    source: opened.source,
    ...(opened.demo === undefined ? {} : { demo: opened.demo }),
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await opened.close()
    },
  }
}

/** The request's path without its query, which may hold the start token. */
function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0] ?? '/'
}

/** keyway's errors and the actions' own refusals are safe to show (they never hold a secret). */
function describe(error: unknown): string {
  if (KeyStoreError.is(error)) return `${error.name}: ${error.message}`
  if (error instanceof ActionError) return error.message
  // The config reader's errors name the file and the path in it, never a value.
  if (error instanceof Error && ['ConfigError', 'UsageError'].includes(error.name))
    return `${error.name}: ${error.message}`
  return `unexpected ${error instanceof Error ? error.name : 'error'}`
}

/**
 * One store as the page shows it: its keys; each key's rotation plan (a dry run that writes
 * nothing) and delivery targets with what a rotation does there; each target entry probed
 * without writing a secret.
 */
async function storeView(entry: DashboardStore, source: StoreView['source']): Promise<StoreView> {
  const { store, descriptor, label } = entry
  const view = {
    label,
    vendor: descriptor.id,
    title: descriptor.title,
    source,
    capabilities: store.capabilities,
    columns: descriptor.columns ?? [],
  }
  const probing = probeTargets(entry.probes.map((probe) => probe.target)).then((probes) =>
    probes.map((probe, index) => ({ ...probe, where: entry.probes[index]?.where ?? '' })),
  )
  try {
    const [keys, ownIds] = await Promise.all([
      store.list(),
      store.credentialKeyIds ? store.credentialKeyIds() : undefined,
    ])
    const plans = await planKeys(
      entry,
      keys.map((key) => key.id),
    )
    const items = keys.map(
      (key): KeyView => ({
        key,
        own: ownIds === undefined || ownIds.includes(key.id),
        plan: plans.get(key.id),
        targets: rotationTargets(entry, key.id, key).map((target) => ({
          name: target.name,
          ...target.description,
        })),
      }),
    )
    return { ...view, keys: items, probes: await probing }
  } catch (error) {
    return { ...view, keys: { error: describe(error) }, probes: await probing }
  }
}

/** Each key's rotation plan, from a dry run of the store's rotation settings: writes nothing. */
async function planKeys(entry: DashboardStore, keyIds: string[]) {
  const plans = new Map<string, NonNullable<KeyView['plan']>>()
  if (keyIds.length === 0) return plans
  const result = await createFleet([entry.fleetStore]).rotate({
    dryRun: true,
    keyIds: { [entry.label]: keyIds },
    journal: memoryJournal(),
    targets: ({ keyId, key }) => rotationTargets(entry, keyId, key),
  })
  for (const plan of result.stores[0]?.result?.plans ?? []) plans.set(plan.keyId, plan)
  return plans
}
