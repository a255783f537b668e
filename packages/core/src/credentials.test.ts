import { afterEach, describe, expect, it, vi } from 'vitest'
import { readCredential, resolveCredential, resolveCredentialAlternatives } from './credentials.js'
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
    expect(resolveCredential({ ...setting, value: 'from-setting' })).toBe('from-setting')
    expect(resolveCredential({ ...setting, value: undefined })).toBe('from-env')
  })

  it('names the setting and the env var when neither is there', () => {
    vi.stubEnv('VENDOR_KEY', '')
    const error = refusal(() => resolveCredential({ ...setting, value: undefined }))
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
