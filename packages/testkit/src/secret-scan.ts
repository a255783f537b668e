import { inspect } from 'node:util'

/** Every string reachable from a value: own properties, enumerable or not, causes, arrays. */
export function reachableStrings(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value]
  if (value === null || typeof value !== 'object' || seen.has(value)) return []
  seen.add(value)
  const strings: string[] = []
  for (const key of Reflect.ownKeys(value)) {
    strings.push(String(key))
    const descriptor = Object.getOwnPropertyDescriptor(value, key)
    if (descriptor && 'value' in descriptor)
      strings.push(...reachableStrings(descriptor.value, seen))
  }
  return strings
}

/**
 * Every printable form of a value in which a leaked secret could show: its reachable
 * strings, `JSON.stringify`, `util.inspect` with hidden fields, and an error's text and stack.
 */
export function printableForms(value: unknown): string[] {
  let json = ''
  try {
    json = JSON.stringify(value) ?? ''
  } catch {
    json = ''
  }
  return [
    ...reachableStrings(value),
    json,
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    value instanceof Error ? `${String(value)}\n${String(value.stack)}` : '',
  ]
}

/** The secrets (of `secrets`) found in any printable form of `value`. */
export function findSecrets(value: unknown, secrets: Iterable<string>): string[] {
  const forms = printableForms(value)
  const found = new Set<string>()
  for (const secret of secrets) {
    if (secret.length < 6) continue
    if (forms.some((form) => form.includes(secret) || form.includes(encodeURIComponent(secret))))
      found.add(secret)
  }
  return [...found]
}

/** Emulator settings that are not secrets: where to call, and which listed key the credential is. */
const NOT_SECRET_SETTINGS = ['baseUrl', 'credentialKeyId']

/** Whether a setting of an emulator holds (part of) the credential. */
export function isSecretSetting(name: string): boolean {
  return !NOT_SECRET_SETTINGS.includes(name)
}

/** The secret values among an emulator's settings: the credential, in every part. */
export function settingSecrets(settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings)
    .filter(([name]) => isSecretSetting(name))
    .map(([, value]) => value)
}
