// Every command that changes something takes --dry-run, and with it changes nothing: the
// emulator's keys are the same before and after, and no request but a read reached it.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Emulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { envFor, keyway, latitudeFleet, useSandbox } from './cli.test-support.js'
import { PROVIDERS } from './providers.js'

const { start, folder } = useSandbox()
const DAY = 86_400_000

/** Every key the emulator holds, as the adapter lists it (vendor record included), and its ids. */
async function keyState(emulator: Emulator) {
  const store = PROVIDERS[emulator.vendor].create(emulator.settings)
  const keys = await store.list()
  // Every request, reads included, marks the admin key used: that is not a change.
  const settled = JSON.parse(
    JSON.stringify(keys, (field, value) =>
      field === 'lastUsedAt' || field === 'last_used_at' ? undefined : value,
    ),
  )
  return { ids: emulator.control.keyIds().sort(), keys: settled }
}

/** Runs the CLI and returns the requests it sent. */
async function sent(
  emulator: Emulator,
  run: () => Promise<{ code: number; stdout: string; stderr: string }>,
) {
  const before = emulator.requests.length
  const result = await run()
  await emulator.idle()
  return { result, requests: emulator.requests.slice(before) }
}

describe('--dry-run changes nothing', () => {
  it.each([
    ['create', ['create', '--name', 'dry', '--limit', '5']],
    ['update', ['update', 'victim', '--name', 'renamed', '--limit', '7']],
    ['disable', ['disable', 'victim']],
    ['enable', ['enable', 'victim']],
    ['delete', ['delete', 'victim', '--yes']],
    ['rotate', ['rotate', 'victim', '--yes']],
  ])('%s --dry-run sends no write and leaves every key as it was', async (_command, args) => {
    const emulator = await start('openrouter')
    emulator.control.seedKey({ name: 'victim' })
    const before = await keyState(emulator)
    const { result, requests } = await sent(emulator, () =>
      keyway([...args, '--provider', 'openrouter', '--dry-run'], envFor(emulator), folder()),
    )
    expect(result.stderr).not.toContain('error')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/would|rotate/)
    expect(requests.filter((request) => request.method !== 'GET')).toEqual([])
    expect(await keyState(emulator)).toEqual(before)
  })

  it('says what it would do, without empty values', async () => {
    const emulator = await start('openrouter')
    const { id } = emulator.control.seedKey({ name: 'victim' })
    const deleted = await keyway(
      ['delete', 'victim', '-p', 'openrouter', '--dry-run'],
      envFor(emulator),
    )
    expect(deleted.stdout).toBe(
      `would delete OpenRouter key "victim" (${id}); dry run, nothing sent\n`,
    )
    const created = await keyway(
      ['create', '-p', 'openrouter', '--name', 'ci', '--limit', '5', '--dry-run', '--json'],
      envFor(emulator),
    )
    expect(JSON.parse(created.stdout)).toEqual({
      dryRun: true,
      action: 'create',
      provider: 'openrouter',
      input: { name: 'ci', limit: 5 },
    })
  })

  it('apply --dry-run shows the plan and sends no write, writing no journal', async () => {
    const emulator = await start('latitudesh')
    emulator.control.seedKey({ name: 'old', createdAt: new Date(Date.now() - 200 * DAY) })
    const config = latitudeFleet()
    await writeFile(join(folder(), 'keyway.config.json'), JSON.stringify(config))
    const before = await keyState(emulator)
    const { result, requests } = await sent(emulator, () =>
      keyway(['apply', '--dry-run'], envFor(emulator), folder()),
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('old')
    expect(result.stderr).toContain('dry run: nothing rotated, nothing written')
    expect(requests.filter((request) => request.method !== 'GET')).toEqual([])
    expect(await keyState(emulator)).toEqual(before)
    const { readdir } = await import('node:fs/promises')
    expect(await readdir(folder())).toEqual(['keyway.config.json'])
  })
})

describe('each command takes exactly its own flags', () => {
  it('delete --dry-runn is refused naming the command and the flag meant', async () => {
    const emulator = await start('openrouter')
    emulator.control.seedKey({ name: 'victim' })
    const before = await keyState(emulator)
    const { result, requests } = await sent(emulator, () =>
      keyway(['delete', 'victim', '-p', 'openrouter', '--dry-runn', '--yes'], envFor(emulator)),
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'error UsageError: unknown flag: --dry-runn (keyway delete does not take it) (hint: did you mean --dry-run?)\n',
    )
    expect(requests).toEqual([])
    expect(await keyState(emulator)).toEqual(before)
  })

  it('list refuses the flags of other commands, sending nothing', async () => {
    const emulator = await start('latitudesh')
    const { result, requests } = await sent(emulator, () =>
      keyway(
        [
          'list',
          '-p',
          'latitudesh',
          '--config',
          'x.json',
          '--fail-on',
          'any',
          '--background',
          '--all',
          '--batch-id',
          'x',
        ],
        envFor(emulator),
      ),
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('unknown flag: --config (keyway list does not take it)')
    expect(requests).toEqual([])
  })
})
