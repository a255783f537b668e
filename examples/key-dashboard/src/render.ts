import type { ApiKey, Capabilities } from '@keyway/core'
import type { Minted } from './actions.js'

/** One vendor's section of the page. */
export interface VendorView {
  vendor: string
  title: string
  source: 'account' | 'emulator'
  capabilities: Capabilities
  /** The keys, or why they could not be listed. */
  keys: ApiKey[] | { error: string }
  /** Keys that may be the dashboard's own credential: shown, but not offered for change. */
  ownIds: readonly string[] | undefined
}

/** Everything one page shows. */
export interface PageView {
  csrf: string
  vendors: VendorView[]
  notice?: string
  error?: string
  /** A secret just minted: only the response of the action that minted it passes this. */
  minted?: Minted
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

function layout(title: string, body: string, script = true): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/dashboard.css">
${script ? '<script src="/assets/dashboard.js" defer></script>\n' : ''}</head>
<body>
<header><h1>keyway key dashboard</h1><p>Every vendor's keys in one place, on this machine only.</p></header>
<main>
${body}
</main>
</body>
</html>
`
}

/** The dashboard: a section per vendor, and the new secret when this response minted one. */
export function renderPage(view: PageView): string {
  const parts: string[] = []
  if (view.error) parts.push(`<p class="flash error" role="alert">${escapeHtml(view.error)}</p>`)
  if (view.notice)
    parts.push(`<p class="flash notice" role="status">${escapeHtml(view.notice)}</p>`)
  if (view.minted) parts.push(renderSecret(view.minted))
  for (const vendor of view.vendors) parts.push(renderVendor(vendor, view.csrf))
  return layout('keyway key dashboard', parts.join('\n'))
}

/** A page that only explains why the request was refused. */
export function renderRefusal(status: number, reason: string, hint: string): string {
  return layout(
    `${status}: refused`,
    `<section class="refused"><h2>${status}: ${escapeHtml(reason)}</h2><p>${escapeHtml(hint)}</p></section>`,
    false,
  )
}

function renderSecret(minted: Minted): string {
  return `<section class="secret" id="secret-panel">
<h2>New secret for ${escapeHtml(minted.vendor)} key <code>${escapeHtml(minted.keyId)}</code></h2>
<p>Shown this once: copy it into your secret store now. Reloading the page removes it.</p>
<div class="secret-row">
<input id="new-secret" readonly spellcheck="false" autocomplete="off" value="${escapeHtml(minted.secret)}" aria-label="new secret">
<button type="button" class="copy" data-copy="new-secret">Copy</button>
</div>
</section>`
}

function renderVendor(view: VendorView, csrf: string): string {
  const badge = view.source === 'emulator' ? 'emulator' : 'real account'
  const head = `<h2>${escapeHtml(view.title)} <span class="badge ${view.source}">${badge}</span></h2>`
  const create = form(csrf, 'create', view.vendor, undefined, [
    view.capabilities.names
      ? '<input name="name" placeholder="name of the new key" maxlength="100" aria-label="name">'
      : '',
    '<button type="submit">Create key</button>',
  ])
  const body =
    'error' in view.keys
      ? `<p class="flash error">Could not list keys: ${escapeHtml(view.keys.error)}</p>`
      : renderTable(view, view.keys, csrf)
  return `<section class="vendor" id="vendor-${escapeHtml(view.vendor)}" data-vendor="${escapeHtml(view.vendor)}">
${head}
<div class="create">${create}</div>
${body}
</section>`
}

function renderTable(view: VendorView, keys: ApiKey[], csrf: string): string {
  if (keys.length === 0) return '<p class="empty">No keys.</p>'
  const rows = keys.map((key) => {
    const own = view.ownIds === undefined || view.ownIds.includes(key.id)
    return `<tr data-key-id="${escapeHtml(key.id)}" class="${key.status}">
<td>${escapeHtml(key.name ?? '(no name)')}</td>
<td><code title="${escapeHtml(key.id)}">${escapeHtml(shortId(key.id))}</code></td>
<td><span class="status ${key.status}">${key.status}</span></td>
<td><code>${escapeHtml(key.hint ?? '')}</code></td>
<td>${key.createdAt ? escapeHtml(key.createdAt.toISOString().slice(0, 16).replace('T', ' ')) : ''}</td>
<td class="actions">${own ? '<span class="own">may be this dashboard\'s credential</span>' : actions(view, key, csrf)}</td>
</tr>`
  })
  return `<table>
<thead><tr><th>Name</th><th>Id</th><th>Status</th><th>Hint</th><th>Created (UTC)</th><th>Actions</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
}

function actions(view: VendorView, key: ApiKey, csrf: string): string {
  const buttons: string[] = []
  if (view.capabilities.disable) {
    buttons.push(
      key.status === 'active'
        ? form(csrf, 'disable', view.vendor, key.id, ['<button type="submit">Disable</button>'])
        : form(csrf, 'enable', view.vendor, key.id, ['<button type="submit">Enable</button>']),
    )
  }
  if (key.status === 'active') {
    buttons.push(
      form(csrf, 'rotate', view.vendor, key.id, ['<button type="submit">Rotate</button>']),
    )
  }
  if (!(view.capabilities.deleted === 'disabled' && key.status === 'disabled')) {
    buttons.push(
      form(
        csrf,
        'delete',
        view.vendor,
        key.id,
        ['<button type="submit" class="danger">Delete</button>'],
        `Delete ${view.title} key ${key.id}?`,
      ),
    )
  }
  return buttons.join('')
}

function form(
  csrf: string,
  action: string,
  vendor: string,
  id: string | undefined,
  fields: string[],
  confirm?: string,
): string {
  const hidden = [
    `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`,
    `<input type="hidden" name="vendor" value="${escapeHtml(vendor)}">`,
    id === undefined ? '' : `<input type="hidden" name="id" value="${escapeHtml(id)}">`,
  ]
  const confirmAttribute = confirm ? ` data-confirm="${escapeHtml(confirm)}"` : ''
  return `<form method="post" action="/actions/${action}" class="${action}"${confirmAttribute}>${[...hidden, ...fields].join('')}</form>`
}

/** Long ids (OpenRouter's 64-hex hashes) shortened for the table; the full id is its title. */
function shortId(id: string): string {
  return id.length > 24 ? `${id.slice(0, 12)}…${id.slice(-6)}` : id
}
