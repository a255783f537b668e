// `keyway disable --name <glob>` and `keyway delete --name <glob>`: exactly the keys whose
// names match are listed, asked about once and changed; a dry run and a refusal send no write.
import type { Emulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { envFor, keyway, useSandbox } from './cli.test-support.js'

const { start } = useSandbox()

/** Every request that could change something at the vendor. */
const writes = (emulator: Emulator) =>
  emulator.requests
    .filter((request) => request.method !== 'GET')
    .map((request) => `${request.method} ${request.path}`)

async function seeded() {
  const emulator = await start('openrouter')
  const matching = ['ci-a', 'ci-b'].map((name) => emulator.control.seedKey({ name }))
  // Names a careless glob would also take: a prefix before "ci-", and "ci" alone.
  const others = ['xci-c', 'ci', 'prod'].map((name) => emulator.control.seedKey({ name }))
  return { emulator, matching, others, env: envFor(emulator) }
}

describe('disable and delete by name glob', () => {
  it('--dry-run lists every matching key and sends no write', async () => {
    const { emulator, matching, others, env } = await seeded()
    for (const command of ['disable', 'delete']) {
      const run = await keyway([command, '--name', 'ci-*', '-p', 'openrouter', '--dry-run'], env)
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(`would ${command} 2 OpenRouter keys:`)
      for (const key of matching) expect(run.stdout).toContain(key.id)
      for (const key of others) expect(run.stdout).not.toContain(key.id)
    }
    expect(writes(emulator)).toEqual([])
  })

  it('disables exactly the matching keys with --yes, and a second run has nothing to do', async () => {
    const { emulator, matching, others, env } = await seeded()
    const run = await keyway(
      ['disable', '--name', 'ci-*', '-p', 'openrouter', '--yes', '--json'],
      env,
    )
    expect(run.code).toBe(0)
    const shown = JSON.parse(run.stdout)
    expect({ ...shown, done: [...shown.done].sort() }).toEqual({
      action: 'disable',
      provider: 'openrouter',
      done: matching.map((key) => key.id).sort(),
      failed: [],
    })
    for (const key of matching) expect(emulator.control.works(key.secret)).toBe(false)
    for (const key of others) expect(emulator.control.works(key.secret)).toBe(true)
    const again = await keyway(['disable', '--name', 'ci-*', '-p', 'openrouter', '--yes'], env)
    expect(again.stdout).toContain(
      'no OpenRouter key to disable has a name matching "ci-*"; nothing sent',
    )
    expect(writes(emulator)).toHaveLength(2)
  })

  it('deletes exactly the matching keys with --yes; without a terminal it asks for --yes and sends nothing', async () => {
    const { emulator, matching, others, env } = await seeded()
    const refused = await keyway(['delete', '--name', 'ci-?', '-p', 'openrouter'], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('refusing without a terminal')
    expect(writes(emulator)).toEqual([])
    const run = await keyway(['delete', '--name', 'ci-?', '-p', 'openrouter', '--yes'], env)
    expect(run.code).toBe(0)
    expect(writes(emulator).sort()).toEqual(
      matching.map((key) => `DELETE /api/v1/keys/${key.id}`).sort(),
    )
    const left = emulator.control.keyIds()
    for (const key of others) expect(left).toContain(key.id)
    for (const key of matching) expect(left).not.toContain(key.id)
  })

  it('refuses a key and --name together, and a store that cannot disable, before any request', async () => {
    const { emulator, env } = await seeded()
    const both = await keyway(
      ['delete', 'ci-a', '--name', 'ci-*', '-p', 'openrouter', '--yes'],
      env,
    )
    expect(both.code).toBe(1)
    expect(both.stderr).toContain('delete takes a key or --name <glob>, not both')
    expect(emulator.requests).toEqual([])
    const latitude = await start('latitudesh')
    const cannot = await keyway(
      ['disable', '--name', '*', '-p', 'latitudesh', '--yes'],
      envFor(latitude),
    )
    expect(cannot.code).toBe(1)
    expect(cannot.stderr).toContain('disable is not supported by latitudesh')
    expect(latitude.requests).toEqual([])
  })

  it('leaves alone a key renamed between the listing and its delete', async () => {
    const { emulator, matching, env } = await seeded()
    const [first, renamed] = matching as unknown as [{ id: string }, { id: string }]
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    // Hold the first delete; while it waits, the second key is renamed out of the glob.
    emulator.inject({ match: { method: 'DELETE', path: /\/keys\// }, until: gate, times: 1 })
    const running = keyway(['delete', '--name', 'ci-?', '-p', 'openrouter', '--yes'], env)
    while (!emulator.requests.some((request) => request.method === 'DELETE'))
      await new Promise((resolve) => setTimeout(resolve, 10))
    const held = emulator.requests.find((request) => request.method === 'DELETE')?.path ?? ''
    const other = held.endsWith(first.id) ? renamed : first
    const answer = await fetch(`${String(emulator.settings.baseUrl)}/keys/${other.id}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${String(emulator.settings.managementKey)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'prod-renamed' }),
    })
    expect(answer.status).toBe(200)
    release()
    const run = await running
    expect(emulator.control.keyIds()).toContain(other.id)
    expect(writes(emulator)).not.toContain(`DELETE /api/v1/keys/${other.id}`)
    expect(run.stderr).toContain(`${other.id}: its name no longer matches`)
  })

  it('leaves alone the store’s own credential when a glob takes every key', async () => {
    const voiceable = await start('voiceable')
    const env = envFor(voiceable)
    const own = String(voiceable.settings.credentialKeyId)
    const run = await keyway(['delete', '--name', '*', '-p', 'voiceable', '--yes'], env)
    expect(run.code).toBe(0)
    expect(voiceable.control.keyIds().map(String)).toEqual([own])
    expect(writes(voiceable)).not.toContain(`DELETE /keys/${own}`)
    expect(run.stderr).toContain(`${own}: the credential this store authenticates with; left alone`)
  })
})
