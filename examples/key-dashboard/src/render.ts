import type { ApiKey, Capabilities, PlannedTarget, RotationPlan, TargetProbe } from '@keyway/core'
import type { KeyColumn } from '@keyway/core/adapter'
import type { Minted } from './actions.js'

/** One key as the page shows it: what a rotation would do, and where its new secret would go. */
export interface KeyView {
  key: ApiKey
  /** The key may be the dashboard's own credential: shown, never offered for change. */
  own: boolean
  /** The rotation's dry-run plan (`undefined`: it could not be planned). */
  plan: Pick<RotationPlan, 'action' | 'reason' | 'warnings'> | undefined
  /** Each delivery target of the key and what a rotation does there. */
  targets: PlannedTarget[]
}

/** One store's section of the page. */
export interface StoreView {
  label: string
  /** The vendor's id, from its descriptor. */
  vendor: string
  /** The vendor's own spelling, from its descriptor. */
  title: string
  source: 'config' | 'emulators'
  capabilities: Capabilities
  /** The vendor's own key attributes, from its descriptor. */
  columns: readonly KeyColumn[]
  /** The keys, or why they could not be listed. */
  keys: KeyView[] | { error: string }
  /** Each delivery target entry of the store, probed without writing a secret. */
  probes: Array<TargetProbe & { where: string }>
}

/** Everything one page shows. */
export interface PageView {
  csrf: string
  stores: StoreView[]
  /** The config file the fleet comes from, as messages name it (the demo's: `null`). */
  configFile: string | null
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
<header><h1>keyway key dashboard</h1><p>Every store's keys and where their secrets go, on this machine only.</p></header>
<main>
${body}
</main>
</body>
</html>
`
}

/** The dashboard: the stores grouped by vendor, and the new secret when this response minted one. */
export function renderPage(view: PageView): string {
  const parts: string[] = []
  if (view.error) parts.push(`<p class="flash error" role="alert">${escapeHtml(view.error)}</p>`)
  if (view.notice)
    parts.push(`<p class="flash notice" role="status">${escapeHtml(view.notice)}</p>`)
  if (view.minted) parts.push(renderSecret(view.minted))
  parts.push(
    `<p class="source">${
      view.configFile === null
        ? 'A demo fleet on emulators in this process: nothing leaves this machine.'
        : `The stores and targets of <code>${escapeHtml(view.configFile)}</code>, as <code>keyway plan</code> reads it.`
    }</p>`,
  )
  const vendors = new Map<string, StoreView[]>()
  for (const store of view.stores)
    vendors.set(store.vendor, [...(vendors.get(store.vendor) ?? []), store])
  for (const [vendor, stores] of vendors) {
    const title = stores[0]?.title ?? vendor
    parts.push(`<section class="vendor" data-vendor="${escapeHtml(vendor)}">
<h2>${escapeHtml(title)} <span class="count">${stores.length} ${stores.length === 1 ? 'store' : 'stores'}</span></h2>
${stores.map((store) => renderStore(store, view.csrf)).join('\n')}
</section>`)
  }
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
<h2>New secret for ${escapeHtml(minted.label)} key <code>${escapeHtml(minted.keyId)}</code></h2>
<p>Shown this once: copy it into your secret store now. Reloading the page removes it.</p>
<div class="secret-row">
<input id="new-secret" readonly spellcheck="false" autocomplete="off" value="${escapeHtml(minted.secret)}" aria-label="new secret">
<button type="button" class="copy" data-copy="new-secret">Copy</button>
</div>
</section>`
}

/** What the store cannot do through the vendor's API, in one line; `''` when it can do it all. */
export function capabilityNote(title: string, capabilities: Capabilities): string {
  const cannot = [
    ...(capabilities.create === false ? ['create', 'rotate'] : []),
    ...(capabilities.deleted === false ? ['delete'] : []),
    ...(capabilities.disable ? [] : ['disable']),
  ]
  if (cannot.length === 0) return ''
  const listed =
    cannot.length === 1 ? cannot[0] : `${cannot.slice(0, -1).join(', ')} or ${cannot.at(-1)}`
  return `${title}'s API cannot ${listed} keys: those buttons are left out here.`
}

function renderStore(view: StoreView, csrf: string): string {
  const badge = view.source === 'emulators' ? 'emulator' : 'from config'
  const head = `<h3><span class="label">${escapeHtml(view.label)}</span> <span class="badge ${view.source}">${badge}</span></h3>`
  const note = capabilityNote(view.title, view.capabilities)
  const create =
    view.capabilities.create === false
      ? ''
      : `<div class="create">${form(csrf, 'create', view.label, undefined, [
          view.capabilities.names
            ? '<input name="name" placeholder="name of the new key" maxlength="100" aria-label="name">'
            : '',
          '<button type="submit">Create key</button>',
        ])}</div>`
  const body =
    'error' in view.keys
      ? `<p class="flash error">Could not list keys: ${escapeHtml(view.keys.error)}</p>`
      : renderTable(view, view.keys, csrf)
  return `<div class="store" id="store-${escapeHtml(view.label)}" data-store="${escapeHtml(view.label)}" data-vendor="${escapeHtml(view.vendor)}">
${head}
${note === '' ? '' : `<p class="note">${escapeHtml(note)}</p>\n`}${create}
${body}
${renderProbes(view.probes)}
</div>`
}

function renderProbes(probes: StoreView['probes']): string {
  if (probes.length === 0)
    return '<p class="probes none">No delivery targets in the config for this store.</p>'
  const items = probes.map((probe) => {
    const status =
      probe.status === 'reachable'
        ? 'reachable and writable (probed, nothing written)'
        : probe.status === 'failed'
          ? `failed: ${probe.error?.message ?? ''}`
          : 'unchecked (nothing to probe without writing)'
    return `<li data-probe="${escapeHtml(probe.target)}" class="${probe.status}"><code>${escapeHtml(probe.kind)}</code> ${escapeHtml(probe.where)}: <span class="probe ${probe.status}">${escapeHtml(status)}</span></li>`
  })
  return `<div class="probes"><span>Targets of this store:</span><ul>${items.join('')}</ul></div>`
}

function renderTable(view: StoreView, keys: KeyView[], csrf: string): string {
  if (keys.length === 0) return '<p class="empty">No keys.</p>'
  const headers = [
    'Name',
    'Id',
    'Status',
    'Hint',
    'Created (UTC)',
    ...view.columns.map((column) => column.header),
    'Actions',
  ]
  const width = headers.length
  const rows = keys.map((item) => {
    const { key } = item
    const delivery = renderDelivery(view, item)
    const cells = [
      `<td>${escapeHtml(key.name ?? '(no name)')}</td>`,
      `<td><code title="${escapeHtml(key.id)}">${escapeHtml(shortId(key.id))}</code></td>`,
      `<td><span class="status ${escapeHtml(key.status)}">${escapeHtml(key.status)}</span></td>`,
      `<td><code>${escapeHtml(key.hint ?? '')}</code></td>`,
      `<td>${key.createdAt ? escapeHtml(key.createdAt.toISOString().slice(0, 16).replace('T', ' ')) : ''}</td>`,
      ...view.columns.map((column) => `<td class="column">${escapeHtml(column.cell(key))}</td>`),
      `<td class="actions">${item.own ? '<span class="own">may be this dashboard\'s credential</span>' : actions(view, item, csrf)}</td>`,
    ]
    return `<tr data-key-id="${escapeHtml(key.id)}" class="key ${escapeHtml(key.status)}">
${cells.join('\n')}
</tr>
${delivery === '' ? '' : `<tr class="delivery" data-targets-of="${escapeHtml(key.id)}"><td colspan="${width}">${delivery}</td></tr>`}`
  })
  return `<table>
<thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
}

/**
 * Under each key: why it cannot be rotated, what a rotation cannot carry over, and each
 * delivery target with what happens there. `''` when there is nothing to say.
 */
function renderDelivery(view: StoreView, item: KeyView): string {
  const { plan } = item
  const rotates = plan?.action === 'rotate'
  // A store that cannot mint says so once, above its table; a key that may be the dashboard's
  // own credential says so in its row.
  const skip =
    plan?.action === 'skip' && view.capabilities.create !== false && !item.own
      ? `<p class="plan skip">Not rotatable: ${escapeHtml(plan.reason ?? '')}</p>`
      : ''
  const warnings =
    rotates && plan.warnings.length > 0
      ? `<details class="plan warning"><summary>${plan.warnings.length} ${
          plan.warnings.length === 1 ? 'thing' : 'things'
        } a rotation cannot carry over</summary>${plan.warnings
          .map((warning) => `<p>${escapeHtml(warning)}</p>`)
          .join('')}</details>`
      : ''
  // The page stands in as the target only of a key a rotation would deliver.
  const targets = item.targets.filter((target) => rotates || target.kind !== 'page')
  const probe = (name: string) => view.probes.find((one) => one.target === name)?.status
  const listed = targets.map((target) => {
    const status = probe(target.name)
    return `<li data-target="${escapeHtml(target.name)}"><span class="where">${escapeHtml(target.location)}</span> <code class="kind">${escapeHtml(target.kind)}</code>${
      status === undefined
        ? ''
        : ` <span class="probe ${status}">${status === 'reachable' ? 'reachable' : status}</span>`
    }
<div class="steps">then: ${escapeHtml(target.propagate)} · confirm: ${escapeHtml(target.confirm)}${
      target.cannotConfirm === null
        ? ''
        : ` · <span class="cannot">cannot confirm: ${escapeHtml(target.cannotConfirm)}</span>`
    }</div></li>`
  })
  const heading = rotates
    ? 'A rotation delivers the new secret to:'
    : 'Delivery targets of this key:'
  const list =
    listed.length === 0
      ? ''
      : `<div class="targets"><span>${heading}</span><ul>${listed.join('')}</ul></div>`
  return `${skip}${warnings}${list}`
}

function actions(view: StoreView, item: KeyView, csrf: string): string {
  const { key } = item
  const buttons: string[] = []
  if (view.capabilities.disable && (key.status === 'active' || key.status === 'disabled')) {
    buttons.push(
      key.status === 'active'
        ? form(csrf, 'disable', view.label, key.id, ['<button type="submit">Disable</button>'])
        : form(csrf, 'enable', view.label, key.id, ['<button type="submit">Enable</button>']),
    )
  }
  if (item.plan?.action === 'rotate') {
    buttons.push(
      form(csrf, 'rotate', view.label, key.id, ['<button type="submit">Rotate</button>']),
    )
  }
  const deletable =
    view.capabilities.deleted !== false &&
    key.status !== 'archived' &&
    !(view.capabilities.deleted === 'disabled' && key.status === 'disabled')
  if (deletable) {
    buttons.push(
      form(
        csrf,
        'delete',
        view.label,
        key.id,
        ['<button type="submit" class="danger">Delete</button>'],
        `Delete ${view.label} key ${key.id}?`,
      ),
    )
  }
  return buttons.join('')
}

function form(
  csrf: string,
  action: string,
  label: string,
  id: string | undefined,
  fields: string[],
  confirm?: string,
): string {
  const hidden = [
    `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`,
    `<input type="hidden" name="store" value="${escapeHtml(label)}">`,
    id === undefined ? '' : `<input type="hidden" name="id" value="${escapeHtml(id)}">`,
  ]
  const confirmAttribute = confirm ? ` data-confirm="${escapeHtml(confirm)}"` : ''
  return `<form method="post" action="/actions/${action}" class="${action}"${confirmAttribute}>${[...hidden, ...fields].join('')}</form>`
}

/** Long ids (OpenRouter's 64-hex hashes) shortened for the table; the full id is its title. */
function shortId(id: string): string {
  return id.length > 24 ? `${id.slice(0, 12)}…${id.slice(-6)}` : id
}
