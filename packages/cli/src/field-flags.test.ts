import type { Capabilities } from '@keyway/core'
import { startEmulator } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { completion } from './commands/completion.js'
import {
  checkFieldValues,
  FIELD_FLAGS,
  fieldFlags,
  fieldInput,
  OPTIONS,
  settingInput,
} from './flags.js'
import { commandFlagNames, commandHelp } from './help.js'
import { PROVIDERS } from './providers.js'

const capabilities = (create: Capabilities['create'], update: Capabilities['update']) =>
  ({ create, update }) as Capabilities

describe('key field flags, from the descriptors', () => {
  it.each(Object.values(PROVIDERS))(
    'every field $id creates or updates with has a flag on that command',
    async (provider) => {
      const emulator = await startEmulator(provider.id as never)
      try {
        const store = provider.create(emulator.settings as never)
        for (const operation of ['create', 'update'] as const) {
          const offered = fieldFlags(operation, provider.id).map(({ field }) => field.field)
          const taken = (store.capabilities[operation] || []).filter((field) => field !== 'status')
          expect(offered, operation).toEqual(expect.arrayContaining(taken))
          const names = commandFlagNames(operation) ?? []
          for (const field of taken) {
            const flag = fieldFlags(operation, provider.id).find(
              (candidate) => candidate.field.field === field,
            )?.field.flag
            expect(names, `${operation} ${field}`).toContain(flag)
          }
        }
      } finally {
        await emulator.close()
      }
    },
  )

  it('each vendor field is on the help of each command that takes it, with its vendor, and nowhere else', () => {
    for (const { field, vendor } of FIELD_FLAGS.filter((flag) => flag.vendor !== undefined)) {
      for (const operation of ['create', 'update', 'rotate'] as const) {
        const takes = field.operations?.includes(operation) ?? true
        const page = commandHelp(operation) ?? ''
        expect(
          commandFlagNames(operation)?.includes(field.flag),
          `${operation} --${field.flag}`,
        ).toBe(takes)
        if (takes) expect(page).toContain(`${vendor}: ${field.help}`)
      }
    }
  })

  it('each vendor flag is known to the parser with its kind, and completed', async () => {
    let script = ''
    await completion({ positionals: ['bash'], out: (text: string) => (script += text) } as never)
    for (const { field } of FIELD_FLAGS) {
      expect(OPTIONS[field.flag]?.type, field.flag).toBe(
        field.kind === 'switch' ? 'boolean' : 'string',
      )
      expect(Boolean(OPTIONS[field.flag]?.multiple), field.flag).toBe(
        field.kind === 'list' || field.field === 'metadata',
      )
      expect(script).toContain(`--${field.flag}`)
    }
  })

  it('reads each kind as the store takes it', () => {
    const openrouter = capabilities(['limit', 'limitReset', 'guardrailId'], false)
    expect(
      fieldInput(
        { limit: '0', 'limit-reset': 'none', guardrail: 'g-1' },
        openrouter,
        'create',
        'openrouter',
      ),
    ).toEqual({ limit: 0, limitReset: null, guardrailId: 'g-1' })
    expect(fieldInput({ limit: 'none' }, openrouter, 'create', 'openrouter')).toEqual({
      limit: null,
    })
    const latitude = capabilities(['readOnly', 'allowedIps'], false)
    expect(
      fieldInput(
        { 'read-only': true, 'allowed-ip': ['198.51.100.1', '198.51.100.0/24'] },
        latitude,
        'create',
        'latitudesh',
      ),
    ).toEqual({ readOnly: true, allowedIps: ['198.51.100.1', '198.51.100.0/24'] })
  })

  it('refuses bad values with the flag and what it takes, before any store', () => {
    expect(() => checkFieldValues({ limit: '-1' }, 'openrouter')).toThrow(
      '--limit takes a number of USD (0 or more) or "none", not "-1"',
    )
    expect(() => checkFieldValues({ 'key-type': 'secret' }, 'voiceable')).toThrow(
      '--key-type takes private, public, not "secret"',
    )
    expect(() => checkFieldValues({ guardrail: ' ' }, 'openrouter')).toThrow(
      '--guardrail needs a value',
    )
    expect(() => checkFieldValues({ role: 'admin' }, 'openai')).toThrow(
      '--role takes member, owner, not "admin"',
    )
  })

  it("refuses another vendor's field flag, naming what this vendor takes", () => {
    expect.assertions(2)
    try {
      fieldInput(
        { 'key-type': 'public' },
        capabilities(['name', 'readOnly'], false),
        'create',
        'latitudesh',
      )
    } catch (error) {
      expect((error as Error).message).toBe('--key-type is not supported by latitudesh create')
      expect((error as { hint?: string }).hint).toBe('latitudesh create takes --name, --read-only')
    }
  })

  it("gives a vendor's setting flag to its store only", () => {
    expect(settingInput({ 'credential-key-id': 'k-1' }, 'voiceable')).toEqual({
      credentialKeyId: 'k-1',
    })
    expect(settingInput({}, 'voiceable')).toEqual({})
    expect(() => settingInput({ 'credential-key-id': 'k-1' }, 'openrouter')).toThrow(
      '--credential-key-id is for --provider voiceable only',
    )
  })
})
