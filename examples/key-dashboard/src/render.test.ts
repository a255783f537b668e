import type { ApiKey, Capabilities, PlannedTarget } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import { PAGE_TARGET } from './actions.js'
import { capabilityNote, type KeyView, renderPage, type StoreView } from './render.js'
import { listedIds, listedTargets, storeSection } from './test-client.test-support.js'

const FULL: Capabilities = {
  get: 'native',
  pagination: 'offset',
  names: true,
  metadata: false,
  disable: true,
  expiry: true,
  spendLimit: true,
  regenerate: false,
  verify: true,
  revealAfterCreate: false,
  deleted: 'gone',
  update: ['name', 'status'],
  create: ['name', 'limit'],
}
/** Anthropic's Admin API: list, get, rename, disable; no create, no delete. */
const NO_MINT: Capabilities = { ...FULL, create: false, deleted: false, archive: true }

function key(id: string, fields: Partial<ApiKey> = {}): ApiKey {
  return {
    provider: 'acme',
    id,
    name: id,
    status: 'active',
    hint: '…abcd',
    createdAt: new Date('2026-01-02T03:04:05Z'),
    updatedAt: null,
    lastUsedAt: null,
    expiresAt: null,
    metadata: {},
    raw: { tier: `tier-of-${id}` },
    ...fields,
  }
}

const GITHUB: PlannedTarget = {
  name: 'github:acme/app',
  kind: 'github-actions',
  location: 'repository acme/app, Actions secret ACME_APP',
  propagate: 'nothing: the next workflow run reads the secret',
  confirm: "the secret's updated_at moved",
  cannotConfirm: 'the value itself',
}
const VAULT: PlannedTarget = {
  name: 'vault-kv:secret/web#KEY',
  kind: 'vault-kv',
  location: 'KV v2 secret secret/web, field KEY',
  propagate: 'nothing: readers fetch the secret',
  confirm: 'reads the written version back',
  cannotConfirm: null,
}
const PAGE: PlannedTarget = { name: PAGE_TARGET.name, ...PAGE_TARGET.description }

function item(id: string, fields: Partial<KeyView> = {}): KeyView {
  return {
    key: key(id),
    own: false,
    plan: { action: 'rotate', warnings: [] },
    targets: [GITHUB, VAULT],
    ...fields,
  }
}

function store(fields: Partial<StoreView> = {}): StoreView {
  return {
    label: 'acme-prod',
    vendor: 'acme',
    title: 'Acme',
    source: 'emulators',
    capabilities: FULL,
    columns: [{ header: 'TIER', cell: (one) => (one.raw as { tier: string }).tier }],
    keys: [item('key-1')],
    probes: [
      {
        target: GITHUB.name,
        kind: 'github-actions',
        status: 'reachable',
        error: null,
        where: 'acme/app',
      },
      {
        target: VAULT.name,
        kind: 'vault-kv',
        status: 'failed',
        error: { code: 'permission_denied', message: 'vault probe: the token lacks update' },
        where: 'secret/web#KEY',
      },
    ],
    ...fields,
  }
}

const page = (stores: StoreView[], extra: Partial<Parameters<typeof renderPage>[0]> = {}) =>
  renderPage({ csrf: 'csrf-token', stores, configFile: null, ...extra })

/** The form actions offered in a key's row. */
function actionsOf(html: string, label: string, id: string): string[] {
  const row = storeSection(html, label).split(`<tr data-key-id="${id}"`)[1]?.split('</tr>')[0]
  return [...(row ?? '').matchAll(/action="\/actions\/(\w+)"/g)].map((match) => match[1] as string)
}

describe('renderPage', () => {
  it('groups stores under their vendor and names every store by label, with its own columns', () => {
    const html = page([
      store(),
      store({ label: 'acme-staging', keys: [item('key-2')] }),
      store({ label: 'other', vendor: 'other', title: 'Other', columns: [], keys: [] }),
    ])
    expect(
      [...html.matchAll(/<section class="vendor" data-vendor="(\w+)">/g)].map((m) => m[1]),
    ).toEqual(['acme', 'other'])
    expect(html).toContain('Acme <span class="count">2 stores</span>')
    expect(html).toContain('Other <span class="count">1 store</span>')
    expect(listedIds(html, 'acme-prod')).toEqual(['key-1'])
    expect(listedIds(html, 'acme-staging')).toEqual(['key-2'])
    expect(storeSection(html, 'acme-prod')).toContain('<th>TIER</th>')
    expect(storeSection(html, 'acme-prod')).toContain('<td class="column">tier-of-key-1</td>')
    expect(storeSection(html, 'other')).not.toContain('<th>TIER</th>')
    expect(storeSection(html, 'other')).toContain('No keys.')
  })

  it('lists each target of a key with what a rotation does there and its probe', () => {
    const html = page([store()])
    expect(listedTargets(html, 'acme-prod', 'key-1')).toEqual([GITHUB.name, VAULT.name])
    const row = storeSection(html, 'acme-prod').split('data-targets-of="key-1"')[1] ?? ''
    expect(row).toContain('A rotation delivers the new secret to:')
    expect(row).toContain(
      'repository acme/app, Actions secret ACME_APP</span> <code class="kind">github-actions</code> <span class="probe reachable">reachable</span>',
    )
    expect(row).toContain(
      'then: nothing: the next workflow run reads the secret · confirm: the secret&#39;s updated_at moved · <span class="cannot">cannot confirm: the value itself</span>',
    )
    // Vault reads the value back: nothing it cannot confirm.
    expect(row).toContain('confirm: reads the written version back</div>')
    expect(row).toContain('<span class="probe failed">failed</span>')
    const probes = storeSection(html, 'acme-prod').split('<div class="probes">')[1] ?? ''
    expect(probes).toContain('acme/app: <span class="probe reachable">reachable and writable')
    expect(probes).toContain('failed: vault probe: the token lacks update')
  })

  it('offers create, disable, rotate and delete where the store can, by label', () => {
    const html = page([store()])
    expect(actionsOf(html, 'acme-prod', 'key-1')).toEqual(['disable', 'rotate', 'delete'])
    expect(storeSection(html, 'acme-prod')).toContain('action="/actions/create"')
    expect(html).toContain('<input type="hidden" name="store" value="acme-prod">')
    expect(html).toContain('<input type="hidden" name="csrf" value="csrf-token">')
    expect(html).toContain('data-confirm="Delete acme-prod key key-1?"')
    expect(capabilityNote('Acme', FULL)).toBe('')
    expect(storeSection(html, 'acme-prod')).not.toContain('class="note"')
  })

  it('leaves out create, rotate and delete where the vendor cannot mint or delete, and says so once', () => {
    const skipped = { action: 'skip' as const, reason: 'acme cannot create keys', warnings: [] }
    const html = page([
      store({
        capabilities: NO_MINT,
        keys: [
          item('key-1', { plan: skipped, targets: [] }),
          item('key-2', { key: key('key-2', { status: 'disabled' }), plan: skipped, targets: [] }),
          item('key-3', { key: key('key-3', { status: 'archived' }), plan: skipped, targets: [] }),
        ],
        probes: [],
      }),
    ])
    const section = storeSection(html, 'acme-prod')
    expect(section).toContain(
      '<p class="note">Acme&#39;s API cannot create, rotate or delete keys: those buttons are left out here.</p>',
    )
    expect(section).not.toContain('action="/actions/create"')
    expect(actionsOf(html, 'acme-prod', 'key-1')).toEqual(['disable'])
    expect(actionsOf(html, 'acme-prod', 'key-2')).toEqual(['enable'])
    expect(actionsOf(html, 'acme-prod', 'key-3')).toEqual([])
    // The reason is the store's note, not repeated under every key; nothing to deliver.
    expect(section).not.toContain('Not rotatable')
    expect(section).not.toContain('data-targets-of=')
    expect(section).toContain('No delivery targets in the config for this store.')
    expect(capabilityNote('Acme', { ...FULL, disable: false })).toBe(
      "Acme's API cannot disable keys: those buttons are left out here.",
    )
  })

  it('says why a key cannot be rotated, offers no rotate, and lists only its configured targets', () => {
    const html = page([
      store({
        keys: [
          item('user-key', {
            plan: { action: 'skip', reason: 'the key belongs to a user', warnings: [] },
            targets: [PAGE],
          }),
          item('sandbox', {
            plan: { action: 'skip', reason: 'one sandbox key per account', warnings: [] },
          }),
        ],
      }),
    ])
    expect(actionsOf(html, 'acme-prod', 'user-key')).toEqual(['disable', 'delete'])
    expect(html).toContain('<p class="plan skip">Not rotatable: the key belongs to a user</p>')
    // The page stands in only for a key a rotation would deliver.
    expect(listedTargets(html, 'acme-prod', 'user-key')).toEqual([])
    expect(listedTargets(html, 'acme-prod', 'sandbox')).toEqual([GITHUB.name, VAULT.name])
    expect(html).toContain('Delivery targets of this key:')
  })

  it('shows a key with no configured target going to this page, and the plan warnings folded', () => {
    const html = page([
      store({
        keys: [
          item('key-1', {
            targets: [PAGE],
            plan: { action: 'rotate', warnings: ['the spend alert is not carried over'] },
          }),
        ],
      }),
    ])
    expect(listedTargets(html, 'acme-prod', 'key-1')).toEqual(['this-page'])
    expect(html).toContain('this page, shown once (no target of the config takes this key)')
    expect(html).toContain(
      '<details class="plan warning"><summary>1 thing a rotation cannot carry over</summary><p>the spend alert is not carried over</p></details>',
    )
  })

  it('never offers to change a key that may be its own credential', () => {
    const html = page([store({ keys: [item('admin', { own: true })] })])
    expect(actionsOf(html, 'acme-prod', 'admin')).toEqual([])
    expect(html).toContain('<td class="actions"><span class="own">may be this dashboard')
  })

  it('escapes everything a vendor or a config controls', () => {
    const evil = '<img src=x onerror=alert(1)>"'
    const html = page(
      [
        store({
          label: 'acme-prod',
          keys: [item('key-1', { key: key('key-1', { name: evil, hint: evil }) })],
          probes: [
            {
              target: GITHUB.name,
              kind: 'github-actions',
              status: 'failed',
              error: { code: 'x', message: evil },
              where: evil,
            },
          ],
        }),
      ],
      { notice: evil, error: evil, configFile: evil },
    )
    expect(html).not.toContain('<img')
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;&#34;')
  })

  it('shows a listing error instead of the table', () => {
    const html = page([store({ keys: { error: 'AuthenticationError: the key was refused' } })])
    expect(storeSection(html, 'acme-prod')).toContain(
      'Could not list keys: AuthenticationError: the key was refused',
    )
    expect(storeSection(html, 'acme-prod')).not.toContain('<table>')
  })

  it('shows a minted secret only when the view carries one, and where the fleet comes from', () => {
    const plain = page([store()], { configFile: 'ops/keyway.config.json' })
    expect(plain).not.toContain('id="new-secret"')
    expect(plain).toContain(
      'The stores and targets of <code>ops/keyway.config.json</code>, as <code>keyway plan</code> reads it.',
    )
    const minted = page([store()], {
      minted: { label: 'acme-prod', keyId: 'key-9', secret: 'fake-secret-value' },
    })
    expect(minted).toContain('New secret for acme-prod key <code>key-9</code>')
    expect(minted).toContain('value="fake-secret-value"')
    expect(page([store()])).toContain('A demo fleet on emulators in this process')
  })
})
