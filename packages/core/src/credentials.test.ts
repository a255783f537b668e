import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  readCredential,
  resolveCredential,
  resolveCredentialAlternatives,
  settingOrEnv,
} from './credentials.js'
import { ValidationError } from './errors.js'

const setting = { provider: 'vendor', setting: 'apiKey', envVar: 'VENDOR_KEY' }

function refusal(action: () => unknown): ValidationError {
  let thrown: unknown
  try {
    action()
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(ValidationError)
  return thrown as ValidationError
}

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('readCredential', () => {
  it.each([
    ['blank', ''],
    ['whitespace only', ' \t '],
    ['a CR/LF', 'fake-value\r\nX-Injected: 1'],
    ['a trailing newline', 'fake-value\n'],
    ['a NUL', 'fake\u0000value'],
    ['a DEL', 'fake\u007fvalue'],
    ['a character a header cannot carry', 'fake-välue-✓'],
    ['not a string', 42],
  ])('refuses a setting that is %s, naming it and its env var, quoting nothing', (_what, value) => {
    const error = refusal(() => readCredential({ ...setting, value }))
    expect(error.issues.map((issue) => issue.path)).toEqual(['apiKey'])
    expect(error.message).toContain('`apiKey`')
    expect(error.message).toContain('VENDOR_KEY')
    expect(error.operation).toBe('configure')
    if (typeof value === 'string' && value.trim() !== '') {
      expect(error.message).not.toContain('fake')
      expect(JSON.stringify(error)).not.toContain('fake')
    }
  })

  it('refuses a bad env var, naming it', () => {
    vi.stubEnv('VENDOR_KEY', 'fake-value\r\n')
    const error = refusal(() => readCredential({ ...setting, value: undefined }))
    expect(error.message).toMatch(/VENDOR_KEY \(for `apiKey`\)/)
  })

  it('gives undefined when neither the setting nor the env var is there', () => {
    vi.stubEnv('VENDOR_KEY', '')
    expect(readCredential({ ...setting, value: undefined })).toBeUndefined()
  })

  it('trims a header credential, and keeps a body credential (a password) exactly', () => {
    expect(readCredential({ ...setting, value: '  fake-key  ' })).toBe('fake-key')
    expect(readCredential({ ...setting, value: ' pässwörd ✓ ', sentIn: 'body' })).toBe(
      ' pässwörd ✓ ',
    )
    expect(() => readCredential({ ...setting, value: 'pass\nword', sentIn: 'body' })).toThrow(
      ValidationError,
    )
  })
})

describe('resolveCredential', () => {
  it('prefers the setting, then the env var', () => {
    vi.stubEnv('VENDOR_KEY', 'from-env')
    expect(resolveCredential({ ...setting, settings: { apiKey: 'from-setting' } })).toBe(
      'from-setting',
    )
    expect(resolveCredential({ ...setting, settings: {} })).toBe('from-env')
  })

  it('refuses a setting given as undefined instead of falling back to the env var', () => {
    vi.stubEnv('VENDOR_KEY', 'fake-env-key-of-another-account')
    const error = refusal(() => resolveCredential({ ...setting, settings: { apiKey: undefined } }))
    expect(error.message).toBe(
      'vendor: apiKey was given as undefined; pass a value, or leave `apiKey` out to read VENDOR_KEY (an env var that is not set?)',
    )
    expect(error.issues).toEqual([
      {
        path: 'apiKey',
        message: 'was given as undefined; pass a value, or leave `apiKey` out to read VENDOR_KEY',
      },
    ])
    expect(JSON.stringify(error)).not.toContain('fake-env-key-of-another-account')
  })

  it('names the setting and the env var when neither is there', () => {
    vi.stubEnv('VENDOR_KEY', '')
    const error = refusal(() => resolveCredential({ ...setting, settings: {} }))
    expect(error.message).toContain('apiKey')
    expect(error.message).toContain('VENDOR_KEY')
  })
})

describe('resolveCredentialAlternatives', () => {
  const alternatives = [
    [
      { setting: 'email', envVar: 'VENDOR_EMAIL', sentIn: 'body' },
      { setting: 'password', envVar: 'VENDOR_PASSWORD', sentIn: 'body' },
    ],
    [{ setting: 'token', envVar: 'VENDOR_TOKEN' }],
  ] as const

  it('takes the first alternative whose settings are all given, from settings or env vars', () => {
    vi.stubEnv('VENDOR_PASSWORD', ' fake pass ')
    vi.stubEnv('VENDOR_TOKEN', 'fake-env-token')
    expect(
      resolveCredentialAlternatives('vendor', { email: 'a@example.test' }, alternatives),
    ).toEqual({ email: 'a@example.test', password: ' fake pass ' })
    vi.stubEnv('VENDOR_PASSWORD', '')
    expect(
      resolveCredentialAlternatives('vendor', { email: 'a@example.test' }, alternatives),
    ).toEqual({ token: 'fake-env-token' })
  })

  it('checks every setting of an alternative, even an incomplete one', () => {
    vi.stubEnv('VENDOR_TOKEN', 'fake-env-token')
    const error = refusal(() =>
      resolveCredentialAlternatives('vendor', { password: 'bad\npassword' }, alternatives),
    )
    expect(error.issues[0]?.path).toBe('password')
  })

  it('refuses a setting of any alternative given as undefined, even when another is complete', () => {
    vi.stubEnv('VENDOR_TOKEN', 'fake-env-token')
    const error = refusal(() =>
      resolveCredentialAlternatives(
        'vendor',
        { email: 'a@example.test', password: undefined },
        alternatives,
      ),
    )
    expect(error.issues[0]?.path).toBe('password')
    expect(error.message).toContain('password was given as undefined')
    expect(() =>
      resolveCredentialAlternatives(
        'vendor',
        { token: 'fake-token', email: undefined },
        alternatives,
      ),
    ).toThrow(/email was given as undefined/)
  })

  it('names every way when none is complete', () => {
    vi.stubEnv('VENDOR_EMAIL', '')
    vi.stubEnv('VENDOR_PASSWORD', '')
    vi.stubEnv('VENDOR_TOKEN', '')
    const error = refusal(() => resolveCredentialAlternatives('vendor', {}, alternatives))
    expect(error.message).toBe(
      'vendor: no credential; pass `email` and `password` (or set VENDOR_EMAIL and VENDOR_PASSWORD), or `token` (or set VENDOR_TOKEN)',
    )
    expect(error.issues[0]?.path).toBe('email')
  })
})

describe('settingOrEnv', () => {
  it('reads the env var only where the setting is absent', () => {
    vi.stubEnv('VENDOR_BASE_URL', 'https://env.example.test')
    expect(settingOrEnv('vendor', {}, 'baseUrl', 'VENDOR_BASE_URL')).toBe(
      'https://env.example.test',
    )
    expect(
      settingOrEnv(
        'vendor',
        { baseUrl: 'https://given.example.test' },
        'baseUrl',
        'VENDOR_BASE_URL',
      ),
    ).toBe('https://given.example.test')
    expect(() =>
      settingOrEnv('vendor', { baseUrl: undefined }, 'baseUrl', 'VENDOR_BASE_URL'),
    ).toThrow(
      'vendor: baseUrl was given as undefined; pass a value, or leave `baseUrl` out to read VENDOR_BASE_URL (an env var that is not set?)',
    )
  })
})
