import * as v from 'valibot'

/**
 * Words NoteDx refuses in metadata. Its own list is private; these are the ones it is known
 * or expected to refuse. Override with the store's `sensitiveWords` setting.
 */
export const NOTEDX_SENSITIVE_WORDS: readonly string[] = [
  'password',
  'secret',
  'token',
  'key',
  'ssn',
]

/** NoteDx's metadata limits: key length and value length. */
export const NOTEDX_METADATA_LIMITS = { keyLength: 50, valueLength: 200 } as const

function containsWord(text: string, words: readonly string[]): boolean {
  const parts = text.toLowerCase().split(/[^a-z]+/)
  return words.some((word) => parts.includes(word))
}

/** Metadata as NoteDx accepts it, checked before sending. */
export function metadataSchema(sensitiveWords: readonly string[]) {
  return v.pipe(
    v.record(
      v.pipe(
        v.string(),
        v.maxLength(NOTEDX_METADATA_LIMITS.keyLength),
        v.check((name) => !containsWord(name, sensitiveWords), 'no sensitive word'),
      ),
      v.pipe(
        v.string(),
        v.maxLength(NOTEDX_METADATA_LIMITS.valueLength),
        v.check((value) => !containsWord(value, sensitiveWords), 'no sensitive word'),
      ),
    ),
  )
}
