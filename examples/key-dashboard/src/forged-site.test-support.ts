import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Another site's page that, once opened, posts a form to the dashboard at once: the
 * classic cross-site request forgery. It runs on another port of 127.0.0.1, which browsers
 * count as the same site, so the dashboard's SameSite cookie is sent along with it.
 */
export async function startForgedSite(
  target: string,
  fields: Record<string, string>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('')
  const page = `<!doctype html><title>Win a prize</title>
<form method="post" action="${target}">${inputs}</form>
<script>document.forms[0].submit()</script>`
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end(page)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
