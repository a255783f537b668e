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

/** The first refused word `text` holds as a word of its own. */
function refusedWord(text: string, words: readonly string[]): string | undefined {
  const parts = text.toLowerCase().split(/[^a-z]+/)
  return words.find((word) => parts.includes(word))
}

/**
 * A metadata name or value: at most `maxLength` characters, no refused word. The issue names
 * the word, never the text: a value with such a word may be a secret.
 */
function metadataText(what: 'name' | 'value', maxLength: number, words: readonly string[]) {
  return v.pipe(
    v.string(),
    v.maxLength(maxLength),
    v.check(
      (text) => refusedWord(text, words) === undefined,
      (issue) =>
        `the ${what} holds "${refusedWord(String(issue.input), words)}", a word NoteDx refuses in metadata`,
    ),
  )
}

/** Metadata as NoteDx accepts it, checked before sending. */
export function metadataSchema(sensitiveWords: readonly string[]) {
  return v.record(
    metadataText('name', NOTEDX_METADATA_LIMITS.keyLength, sensitiveWords),
    metadataText('value', NOTEDX_METADATA_LIMITS.valueLength, sensitiveWords),
  )
}
