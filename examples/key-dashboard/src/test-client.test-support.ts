import { type Dashboard, startDashboard } from './dashboard.js'

/** A dashboard for one test, its captured log, and a logged-in client. */
export interface TestDashboard {
  dashboard: Dashboard
  log: string[]
  /** The session cookie, as `name=value`. */
  cookie: string
  /** The CSRF token of the logged-in session. */
  csrf: string
  /** GET a path with the session cookie. */
  get(path: string, headers?: Record<string, string>): Promise<Response>
  /** POST a form to an action as the dashboard's own page would (Origin, cookie, CSRF). */
  act(
    action: string,
    fields: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<Response>
  /** Every vendor request the emulators received so far, as `label METHOD path`. */
  vendorRequests(): string[]
}

/** Starts a dashboard against fresh emulators and logs in with its start token. */
export async function openTestDashboard(): Promise<TestDashboard> {
  const log: string[] = []
  const dashboard = await startDashboard({ log: (line) => log.push(line) })
  const login = await fetch(dashboard.loginUrl, { redirect: 'manual' })
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${dashboard.origin}${path}`, { headers: { cookie, ...headers } })
  const page = await (await get('/')).text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
  return {
    dashboard,
    log,
    cookie,
    csrf,
    get,
    act: (action, fields, headers = {}) =>
      fetch(`${dashboard.origin}/actions/${action}`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie,
          origin: dashboard.origin,
          'sec-fetch-site': 'same-origin',
          'content-type': 'application/x-www-form-urlencoded',
          ...headers,
        },
        body: new URLSearchParams({ csrf, ...fields }),
      }),
    vendorRequests: () =>
      dashboard.stores.flatMap((entry) =>
        (entry.emulator?.requests ?? []).map(
          (request) => `${entry.label} ${request.method} ${request.path}`,
        ),
      ),
  }
}

/** The secret a create or rotate response shows, if any. */
export function shownSecret(page: string): string | undefined {
  return /id="new-secret"[^>]*value="([^"]+)"/.exec(page)?.[1]
}

/** The part of the page that shows the store labelled `label`. */
export function storeSection(page: string, label: string): string {
  return (
    page
      .split(`data-store="${label}"`)[1]
      ?.split('<div class="store"')[0]
      ?.split('</section>')[0] ?? ''
  )
}

/** Ids of the keys listed in the section of the store labelled `label`. */
export function listedIds(page: string, label: string): string[] {
  return [...storeSection(page, label).matchAll(/data-key-id="([^"]+)"/g)].map(
    (match) => match[1] as string,
  )
}

/** The target names listed under one key of a store's section. */
export function listedTargets(page: string, label: string, keyId: string): string[] {
  const row = storeSection(page, label).split(`data-targets-of="${keyId}"`)[1]?.split('</tr>')[0]
  return [...(row ?? '').matchAll(/data-target="([^"]+)"/g)].map((match) => match[1] as string)
}
