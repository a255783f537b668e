// Audit tells last use only as far as the vendor does: a date or `never` where it reports use,
// the period OpenRouter's spending shows, else `unknown`; and no gate fails on a guess.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ApiKey } from '@keyway/core'
import { apiKeyFixture, type OpenRouterEmulatorControl } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { envFor, keyway, useSandbox } from './cli.test-support.js'
import { type Paint, shownStatus } from './output.js'

const { start, folder } = useSandbox()

function apiKey(fields: Partial<ApiKey>): ApiKey {
  return apiKeyFixture({ provider: 'openrouter', ...fields })
}
const DAY = 86_400_000
const daysAgo = (days: number) => new Date(Date.now() - days * DAY)

describe('audit and last use', () => {
  it('shows spending as use, unknown where the vendor cannot tell, never only where it can', async () => {
    const openrouter = await start('openrouter')
    const latitude = await start('latitudesh')
    const spending = openrouter.control.seedKey({ name: 'spending', createdAt: daysAgo(200) })
    ;(openrouter.control as OpenRouterEmulatorControl).spend(spending.id, 9.5)
    openrouter.control.seedKey({ name: 'quiet', createdAt: daysAgo(200) })
    latitude.control.seedKey({ name: 'idle', createdAt: daysAgo(60) })
    const config = {
      policy: { unusedDays: 30 },
      failOn: ['unused'],
      stores: [
        { label: 'openrouter', vendor: 'openrouter', select: { name: '*i*' } },
        { label: 'latitude', vendor: 'latitudesh', select: { name: 'idle' } },
      ],
    }
    await writeFile(join(folder(), 'keyway.config.json'), JSON.stringify(config))
    const env = { ...envFor(openrouter), ...envFor(latitude) }

    const orOnly = await keyway(['audit', '--store', 'openrouter', '--json'], env, folder())
    // In daily use, and silent: neither is "unused", so the gate passes.
    expect(orOnly.code).toBe(0)
    const entries = JSON.parse(orOnly.stdout).entries as Array<{
      key: { name: string }
      lastUse: { kind: string; period?: string }
      findings: Array<{ kind: string }>
    }>
    const byName = new Map(entries.map((entry) => [entry.key.name, entry]))
    expect(byName.get('spending')?.lastUse).toMatchObject({ kind: 'within', period: 'today' })
    expect(byName.get('quiet')?.lastUse).toEqual({ kind: 'unknown' })
    for (const entry of entries)
      expect(entry.findings.map((finding) => finding.kind)).not.toContain('unused')

    const table = await keyway(
      ['audit', '--store', 'openrouter'],
      { ...env, KEYWAY_FORCE_TTY: '1', NO_COLOR: '1' },
      folder(),
    )
    expect(table.stdout).toMatch(/spending\s+active\s+200d\s+today/)
    expect(table.stdout).toMatch(/quiet\s+active\s+200d\s+unknown/)
    expect(table.stdout).not.toContain('never')

    // Latitude.sh reports last use: a key it never saw used is unused, and that fails the gate.
    const all = await keyway(['audit', '--json'], env, folder())
    expect(all.code).toBe(8)
    const idle = (JSON.parse(all.stdout).entries as typeof entries).find(
      (entry) => entry.key.name === 'idle',
    )
    expect(idle?.lastUse).toEqual({ kind: 'never' })
    expect(idle?.findings.map((finding) => finding.kind)).toContain('unused')
  })

  it('shows an active key whose expiry has passed as expired', () => {
    const plain: Paint = (_style, text) => text
    const now = new Date('2026-12-01T00:00:00Z')
    expect(shownStatus(apiKey({ expiresAt: new Date('2026-11-30T00:00:00Z') }), plain, now)).toBe(
      'expired',
    )
    expect(shownStatus(apiKey({ expiresAt: new Date('2026-12-02T00:00:00Z') }), plain, now)).toBe(
      'active',
    )
    expect(shownStatus(apiKey({ status: 'disabled', expiresAt: null }), plain, now)).toBe(
      'disabled',
    )
    // The vendor's own word for a key that cannot work, never "disabled" in its place.
    expect(shownStatus(apiKey({ status: 'expired', expiresAt: null }), plain, now)).toBe('expired')
    expect(shownStatus(apiKey({ status: 'archived', expiresAt: null }), plain, now)).toBe(
      'archived',
    )
  })
})
