// OpenRouter workspaces in the CLI: made in one with a guardrail, shown in lists and audits,
// and a fleet store that manages one workspace only.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Emulator, OpenRouterEmulatorControl } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { envFor, keyway, useSandbox } from './cli.test-support.js'

const { start, folder } = useSandbox()

describe('OpenRouter workspaces', () => {
  it('create takes a workspace and a guardrail; list shows the workspace; a store can select one', async () => {
    const emulator = (await start('openrouter')) as Emulator<OpenRouterEmulatorControl>
    const workspace = emulator.control.seedWorkspace({ name: 'research' }).id
    const guardrail = emulator.control.seedGuardrail({ name: 'cap' }).id
    const env = envFor(emulator)
    const created = await keyway(
      [
        'create',
        '-p',
        'openrouter',
        '--name',
        'team',
        '--workspace',
        workspace,
        '--guardrail',
        guardrail,
        '--json',
      ],
      env,
    )
    expect(created.stderr).toBe('')
    const { key, secret } = JSON.parse(created.stdout)
    expect(key.workspace).toBe(workspace)
    expect(emulator.control.keyAttributes(secret)).toMatchObject({
      workspace_id: workspace,
      guardrail_id: guardrail,
    })
    emulator.control.seedKey({ name: 'elsewhere' })

    const listed = await keyway(['list', '-p', 'openrouter'], {
      ...env,
      KEYWAY_FORCE_TTY: '1',
      NO_COLOR: '1',
    })
    expect(listed.stdout.split('\n')[0]).toMatch(/ WORKSPACE /)
    expect(listed.stdout).toMatch(new RegExp(`team .*${workspace}`))

    // A workspace is chosen at create; update and rotate do not move a key.
    const update = await keyway(
      ['update', 'team', '-p', 'openrouter', '--workspace', workspace],
      env,
    )
    expect(update.stderr).toContain('unknown flag: --workspace (keyway update does not take it)')

    const config = {
      stores: [{ label: 'research', vendor: 'openrouter', select: { workspace } }],
    }
    await writeFile(join(folder(), 'keyway.config.json'), JSON.stringify(config))
    const audited = await keyway(['audit', '--json', '--fail-on', 'none'], env, folder())
    expect(audited.code).toBe(0)
    const entries = JSON.parse(audited.stdout).entries as Array<{
      key: { name: string; workspace: string }
      managed: boolean
    }>
    const managed = entries.filter((entry) => entry.managed).map((entry) => entry.key.name)
    expect(managed).toEqual(['team'])
    expect(entries.find((entry) => entry.key.name === 'elsewhere')?.managed).toBe(false)
  })
})
