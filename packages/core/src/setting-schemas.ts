import * as v from 'valibot'

/** The longest wait a timer can hold (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647

/** A length of time in milliseconds that a timer can wait: finite, `0` allowed. */
export const waitMs = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(MAX_TIMER_MS))

/** A time limit in milliseconds: finite and above `0` (a limit of `0` would abort everything). */
export const limitMs = v.pipe(v.number(), v.finite(), v.gtValue(0), v.maxValue(MAX_TIMER_MS))

/** A rate per second: finite and above `0`. */
export const perSecond = v.pipe(v.number(), v.finite(), v.gtValue(0))

/** A whole number of at least 1. */
export const atLeastOne = v.pipe(v.number(), v.integer(), v.minValue(1))

/** Text sent in an HTTP header: not blank, no control characters, nothing beyond Latin-1. */
export const headerText = v.pipe(
  v.string(),
  v.check((text) => text.trim() !== '', 'must not be blank'),
  v.check(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    (text) => !/[\u0000-\u001f\u007f-\u009f]/.test(text),
    'must not contain control characters such as line breaks',
  ),
  v.check((text) => !/[\u0100-\uffff]/.test(text), 'must be Latin-1 text, as HTTP headers are'),
)
