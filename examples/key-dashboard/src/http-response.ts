import type { ServerResponse } from 'node:http'

/**
 * Sent with every response. The CSP allows only the dashboard's own script and stylesheet
 * (no inline code, no framing, forms post only here); `no-store` keeps pages, and the one
 * that shows a new secret, out of every cache. The referrer goes to this origin only:
 * `no-referrer` would make browsers send `Origin: null` with the page's own forms.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

/** Sends a complete response with the security headers. */
export function send(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    ...headers,
  })
  response.end(body)
}
