// A key due because it expires soon is rotated only when its successor gets a lifetime of its
// own; otherwise the successor would be due at once and every nightly run would rotate again.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import type { OpenRouterEmulatorControl } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { envFor, keyway, useSandbox } from './cli.test-support.js'

const { start, folder } = useSandbox()
const DAY = 86_400_000

/** A config that rotates OpenRouter's `nightly` keys once they expire within 7 days. */
async function writeExpiringConfig(): Promise<void> {
  const config = {
    journal: 'journal.json',
    policy: { expiringWithinDays: 7 },
    stores: [
      {
        label: 'openrouter',
        vendor: 'openrouter',
        select: { name: 'nightly' },
        deliver: { to: 'secrets.env', variable: 'OPENROUTER_{NAME}' },
      },
    ],
  }
  await writeFile(join(folder(), 'c.json'), JSON.stringify(config))
}

describe('expiring keys', () => {
  it('are skipped (and counted) without a lifetime, rotated once with --expires-in, then left alone', async () => {
    const emulator = await start('openrouter')
    const store = createOpenRouterKeyStore(emulator.settings)
    const expiresAt = new Date(Date.now() + 3 * DAY)
    const made = await store.create({ name: 'nightly', expiresAt })
    await writeExpiringConfig()
    const env = envFor(emulator)
    const writes = () => emulator.requests.filter((request) => request.method !== 'GET').length
    const before = writes()

    const skipped = await keyway(['apply', '--config', 'c.json', '--yes', '--json'], env, folder())
    expect(skipped.code).toBe(0)
    expect(JSON.parse(skipped.stdout)).toMatchObject({ rotated: 0, skipped: 1 })
    const told = await keyway(['plan', '--config', 'c.json'], env, folder())
    expect(told.stdout).toContain('its successor would expire at the same moment')
    expect(told.stdout).toContain('give new keys a lifetime with --expires-in')
    expect(told.stdout).not.toContain('expiresInDays')
    expect(writes()).toBe(before)

    const rotated = await keyway(
      ['apply', '--config', 'c.json', '--yes', '--expires-in', '90d', '--json'],
      env,
      folder(),
    )
    expect(rotated.stderr).not.toContain('error')
    expect(JSON.parse(rotated.stdout)).toMatchObject({ rotated: 1, failed: 0 })
    const keys = (await store.list()).filter((key) => key.name === 'nightly')
    expect(keys.map((key) => key.id)).not.toContain(made.key.id)
    expect(keys).toHaveLength(1)
    const lifetime = (keys[0]?.expiresAt?.getTime() ?? 0) - Date.now()
    expect(lifetime).toBeGreaterThan(89 * DAY)
    expect(lifetime).toBeLessThanOrEqual(90 * DAY)

    // The nightly run again: nothing is due, nothing is written.
    const afterRotation = writes()
    const again = await keyway(['apply', '--config', 'c.json', '--yes', '--json'], env, folder())
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ rotated: 0, skipped: 0 })
    expect(writes()).toBe(afterRotation)
  })

  it('an OpenRouter key past its expiry: listed and audited as expired, rotated only with a new lifetime', async () => {
    const emulator = await start('openrouter')
    const expiresAt = new Date(Date.now() - 2 * DAY)
    const control = emulator.control as OpenRouterEmulatorControl
    const old = control.seedKey({ name: 'nightly', expiresAt })
    await writeExpiringConfig()
    const env = envFor(emulator)
    const writes = () => emulator.requests.filter((request) => request.method !== 'GET').length

    const listed = await keyway(['list', '-p', 'openrouter', '--json=id,status,expiresAt'], env)
    const statuses = JSON.parse(listed.stdout) as Array<{ id: string; status: string }>
    expect(statuses.find((key) => key.id === old.id)).toEqual({
      id: old.id,
      status: 'expired',
      expiresAt: expiresAt.toISOString(),
    })
    expect(statuses.filter((key) => key.status === 'expired')).toHaveLength(1)
    const shown = await keyway(['get', 'nightly', '-p', 'openrouter'], env)
    expect(shown.stdout).toMatch(/^status +expired$/m)
    const audited = await keyway(['audit', '--config', 'c.json', '--json'], env, folder())
    expect(audited.code).toBe(8)
    const entries = JSON.parse(audited.stdout).entries as Array<{ key: { id: string } }>
    expect(entries.find((entry) => entry.key.id === old.id)).toMatchObject({
      key: { id: old.id, status: 'expired' },
      managed: true,
      findings: [{ kind: 'expiring-soon', message: 'expired 2 days ago' }],
    })
    const skipped = await keyway(['apply', '--config', 'c.json', '--yes', '--json'], env, folder())
    expect(JSON.parse(skipped.stdout)).toMatchObject({ rotated: 0, skipped: 1 })
    const told = await keyway(['plan', '--config', 'c.json'], env, folder())
    expect(told.stdout).toContain(`expired at ${expiresAt.toISOString()}`)
    expect(told.stdout).toContain('give the new key a lifetime with --expires-in')
    expect(writes()).toBe(0)

    const rotated = await keyway(
      ['apply', '--config', 'c.json', '--yes', '--expires-in', '30d', '--json'],
      env,
      folder(),
    )
    expect(JSON.parse(rotated.stdout)).toMatchObject({ rotated: 1, failed: 0 })
    expect(emulator.control.keyIds()).not.toContain(old.id)
    const after = JSON.parse(
      (await keyway(['list', '-p', 'openrouter', '--json=name,status'], env)).stdout,
    ) as Array<{ name: string }>
    expect(after.filter((key) => key.name === 'nightly')).toEqual([
      { name: 'nightly', status: 'active' },
    ])
    const secret = /^OPENROUTER_NIGHTLY=(.*)$/m.exec(
      await readFile(join(folder(), 'secrets.env'), 'utf8'),
    )?.[1]
    expect(emulator.control.works(String(secret).replace(/^"|"$/g, ''))).toBe(true)
  })

  it('refuses a lifetime that is not whole days, and a limit where the vendor has none', async () => {
    const emulator = await start('latitudesh')
    const config = {
      stores: [{ label: 'latitude', vendor: 'latitudesh', rotation: { limit: 5 } }],
    }
    await writeFile(join(folder(), 'c.json'), JSON.stringify(config))
    const badLifetime = await keyway(
      ['plan', '--config', 'c.json', '--expires-in', '3 months'],
      envFor(emulator),
      folder(),
    )
    expect(badLifetime.code).toBe(1)
    expect(badLifetime.stderr).toContain(
      'unknown flag: --expires-in (keyway plan does not take it)',
    )
    const limit = await keyway(
      ['apply', '--config', 'c.json', '--expires-in', '3 months'],
      envFor(emulator),
      folder(),
    )
    expect(limit.stderr).toContain(
      '--expires-in takes a number of days such as 90d, not "3 months"',
    )
    const noLimit = await keyway(
      ['apply', '--config', 'c.json', '--yes'],
      envFor(emulator),
      folder(),
    )
    expect(noLimit.code).toBe(1)
    expect(noLimit.stderr).toContain(
      'stores[0].rotation.limit: Latitude.sh keys have no spending limit',
    )
    expect(emulator.requests).toEqual([])
  })

  it('rotate --expires-in gives the new key its own lifetime; with --expires-at it is refused', async () => {
    const emulator = await start('openrouter')
    const store = createOpenRouterKeyStore(emulator.settings)
    await store.create({ name: 'ci', expiresAt: new Date(Date.now() + 2 * DAY) })
    const env = envFor(emulator)
    const both = await keyway(
      [
        'rotate',
        'ci',
        '-p',
        'openrouter',
        '--yes',
        '--expires-in',
        '30d',
        '--expires-at',
        '2099-01-01',
      ],
      env,
      folder(),
    )
    expect(both.code).toBe(1)
    expect(both.stderr).toContain('--expires-in and --expires-at both set the new key’s expiry')
    const rotated = await keyway(
      ['rotate', 'ci', '-p', 'openrouter', '--yes', '--expires-in', '30d', '--json'],
      env,
      folder(),
    )
    expect(rotated.code).toBe(0)
    const [key] = (await store.list()).filter((listed) => listed.name === 'ci')
    const lifetime = (key?.expiresAt?.getTime() ?? 0) - Date.now()
    expect(lifetime).toBeGreaterThan(29 * DAY)
    expect(lifetime).toBeLessThanOrEqual(30 * DAY)
  })
})
