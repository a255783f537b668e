import { ValidationError } from './errors.js'
import { readEnv } from './validate.js'

/** One credential setting of a store factory, as the adapter declares it. */
export interface CredentialSetting {
  provider: string
  /** The value given in settings; the env var is read when it is `undefined`. */
  value: unknown
  /** The setting's name, e.g. `'managementKey'`. */
  setting: string
  /** The env var it defaults to, e.g. `'OPENROUTER_MANAGEMENT_KEY'`. */
  envVar: string
  /**
   * `'header'` (default): sent in an HTTP header, so only Latin-1 text is allowed and
   * surrounding spaces are trimmed. `'body'`: sent in a JSON body (a password), kept as given.
   */
  sentIn?: 'header' | 'body'
}

/**
 * A credential from settings or its env var, checked before any request: `undefined` when
 * neither gives one; a `ValidationError` naming the setting and the env var when the value
 * is not a string, is blank, or holds control characters (a line break would split the
 * header it is sent in). The value itself is never quoted.
 */
export function readCredential(credential: CredentialSetting): string | undefined {
  const fromSettings = credential.value !== undefined
  const value = fromSettings ? credential.value : readEnv(credential.envVar)
  if (value === undefined) return undefined
  const problem = credentialProblem(value, credential.sentIn ?? 'header')
  if (problem === undefined) {
    return credential.sentIn === 'body' ? (value as string) : (value as string).trim()
  }
  const source = fromSettings
    ? `\`${credential.setting}\``
    : `${credential.envVar} (for \`${credential.setting}\`)`
  throw new ValidationError({
    provider: credential.provider,
    operation: 'configure',
    message: `${credential.provider}: the credential in ${source} ${problem}; set \`${credential.setting}\` or ${credential.envVar}`,
    issues: [{ path: credential.setting, message: `${problem} (setting or ${credential.envVar})` }],
  })
}

/** What makes `value` unusable as a credential, or `undefined`. Never quotes it. */
export function credentialProblem(value: unknown, sentIn: 'header' | 'body'): string | undefined {
  if (typeof value !== 'string') return 'is not a string'
  if (value.trim() === '') return 'is blank'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    return 'contains control characters (such as a line break)'
  }
  if (sentIn === 'header' && /[\u0100-\uffff]/.test(value)) {
    return 'contains characters an HTTP header cannot carry'
  }
  return undefined
}

/**
 * Reads a required credential from `settings[setting]` or, only where that setting is absent,
 * its env var, at factory time. A setting given as `undefined` is refused (see
 * `settingOrEnv`).
 */
export function resolveCredential(options: {
  provider: string
  settings: object
  setting: string
  envVar: string
}): string {
  const { provider, settings, setting, envVar } = options
  const resolved = resolveCredentialAlternatives(provider, settings, [[{ setting, envVar }]])
  return resolved[setting] as string
}

/**
 * A setting's value, or its env var's value where the setting is absent. A setting present
 * with the value `undefined` (`managementKey: process.env.X` with X unset) is a
 * `ValidationError` naming it: falling back to the vendor's default env var would silently
 * reach whatever account that variable holds.
 */
export function settingOrEnv(
  provider: string,
  settings: object,
  setting: string,
  envVar: string,
): unknown {
  const record = settings as Record<string, unknown>
  if (!Object.hasOwn(record, setting)) return readEnv(envVar)
  const value = record[setting]
  if (value !== undefined) return value
  throw givenAsUndefined(provider, setting, envVar)
}

function givenAsUndefined(provider: string, setting: string, envVar: string): ValidationError {
  const message = `was given as undefined; pass a value, or leave \`${setting}\` out to read ${envVar}`
  return new ValidationError({
    provider,
    operation: 'configure',
    message: `${provider}: ${setting} ${message} (an env var that is not set?)`,
    issues: [{ path: setting, message }],
  })
}

/** One setting of a way to give a store its credential (see `resolveCredentialAlternatives`). */
export interface CredentialOption {
  /** The setting's name, e.g. `'apiKey'`. */
  readonly setting: string
  /** The env var it defaults to, e.g. `'VOICEABLE_API_KEY'`. */
  readonly envVar: string
  /** Where it is sent; see `CredentialSetting.sentIn`. Default `'header'`. */
  readonly sentIn?: 'header' | 'body'
}

/** The settings of the first complete alternative, by name. */
export type ResolvedCredential<A extends readonly (readonly CredentialOption[])[]> = {
  [I in keyof A]: { [O in A[I][number] as O['setting']]: string }
}[number]

/**
 * Reads a credential a store takes in one of several ways (email and password, or a token),
 * at factory time: the first alternative whose settings are all given (in settings or their
 * env vars) wins, each value checked as `readCredential` checks it. None complete is a
 * `ValidationError` naming every way.
 */
export function resolveCredentialAlternatives<
  const A extends readonly (readonly CredentialOption[])[],
>(provider: string, settings: object, alternatives: A): ResolvedCredential<A> {
  // A setting given as undefined is refused whichever alternative would have won.
  for (const option of alternatives.flat()) {
    settingOrEnv(provider, settings, option.setting, option.envVar)
  }
  for (const alternative of alternatives) {
    const resolved: Record<string, string> = {}
    for (const option of alternative) {
      // Every setting of the alternative is checked, even when another is missing.
      const given = (settings as Record<string, unknown>)[option.setting]
      const value = readCredential({ provider, value: given, ...option })
      if (value !== undefined) resolved[option.setting] = value
    }
    if (Object.keys(resolved).length === alternative.length) {
      return resolved as ResolvedCredential<A>
    }
  }
  const ways = alternatives.map((alternative) => {
    const names = alternative.map((option) => `\`${option.setting}\``).join(' and ')
    return `${names} (or set ${alternative.map((option) => option.envVar).join(' and ')})`
  })
  throw missingCredential(provider, ways, alternatives[0]?.[0]?.setting ?? 'credential')
}

/**
 * The error a store factory throws when no credential is given: it names each way to give
 * one, such as `` `apiKey` (or set VENDOR_API_KEY) ``.
 */
export function missingCredential(
  provider: string,
  ways: readonly string[],
  setting: string,
): ValidationError {
  return new ValidationError({
    provider,
    operation: 'configure',
    message: `${provider}: no credential; pass ${ways.join(', or ')}`,
    issues: [{ path: setting, message: `required: ${ways.join(', or ')}` }],
  })
}

/**
 * A `ValidationError` for a setting of a store factory that holds something it cannot use:
 * `provider: setting (or ENV_VAR): problem`, naming the env var it may have come from.
 */
export function invalidSetting(
  provider: string,
  setting: string,
  envVar: string,
  problem: string,
): ValidationError {
  return new ValidationError({
    provider,
    operation: 'configure',
    message: `${provider}: ${setting} (or ${envVar}): ${problem}`,
    issues: [{ path: setting, message: problem }],
  })
}
