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
  return refusedWord(text, words) !== undefined
}

/** The first refused word `text` holds as a word of its own. */
function refusedWord(text: string, words: readonly string[]): string | undefined {
  const parts = text.toLowerCase().split(/[^a-z]+/)
  return words.find((word) => parts.includes(word))
}

/** Metadata as NoteDx accepts it, checked before sending. */
export function metadataSchema(sensitiveWords: readonly string[]) {
  return v.pipe(
    v.record(
      v.pipe(
        v.string(),
        v.maxLength(NOTEDX_METADATA_LIMITS.keyLength),
        v.check(
          (name) => !containsWord(name, sensitiveWords),
          (issue) =>
            `the name holds "${refusedWord(String(issue.input), sensitiveWords)}", a word NoteDx refuses in metadata`,
        ),
      ),
      v.pipe(
        v.string(),
        v.maxLength(NOTEDX_METADATA_LIMITS.valueLength),
        // The value is not quoted back: a value with such a word may be a secret.
        v.check(
          (value) => !containsWord(value, sensitiveWords),
          (issue) =>
            `the value holds "${refusedWord(String(issue.input), sensitiveWords)}", a word NoteDx refuses in metadata`,
        ),
      ),
    ),
  )
}
