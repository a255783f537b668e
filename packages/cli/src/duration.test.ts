import { defaultRetryOptions } from '@keyway/core/adapter'
import { describe, expect, it } from 'vitest'
import { parseDuration, timeoutSettings } from './duration.js'
import { UsageError } from './usage-error.js'

describe('parseDuration', () => {
  it.each([
    ['1500ms', 1500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1.5s', 1500],
    ['0.5m', 30_000],
    [' 10S ', 10_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text, '--timeout')).toBe(ms)
  })

  it.each([
    ['30', 'did you mean --timeout 30s?'],
    ['30sec', 'did you mean --timeout 30s?'],
    ['5 seconds', 'did you mean --timeout 5s?'],
    ['250msec', 'did you mean --timeout 250ms?'],
    ['2min', 'did you mean --timeout 2m?'],
    ['1h', 'did you mean --timeout 60m?'],
    ['0s', 'a time limit must be above 0'],
    ['0.0001ms', 'a time limit must be above 0'],
    ['40000m', 'at most 24 days'],
    ['-5s', undefined],
    ['soon', undefined],
    ['1.5x', undefined],
  ])('refuses %j (hint: %s)', (text, hint) => {
    expect.assertions(3)
    try {
      parseDuration(text, '--timeout')
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError)
      expect((error as UsageError).message).toBe(
        `--timeout takes a duration such as 1500ms, 30s or 2m, not "${text}"`,
      )
      expect((error as UsageError).hint).toBe(hint)
    }
  })
})

describe('timeoutSettings', () => {
  it('takes the flag over KEYWAY_TIMEOUT, and the env var when the flag is absent', () => {
    expect(timeoutSettings({ timeout: '2s' }, { KEYWAY_TIMEOUT: '5s' }).timeoutMs).toBe(2000)
    expect(timeoutSettings({}, { KEYWAY_TIMEOUT: '5s' }).timeoutMs).toBe(5000)
    expect(timeoutSettings({}, { KEYWAY_TIMEOUT: '' })).toEqual({})
    expect(timeoutSettings({}, {})).toEqual({})
  })

  it('names KEYWAY_TIMEOUT as an operator would set it', () => {
    expect(() => timeoutSettings({}, { KEYWAY_TIMEOUT: '10' })).toThrow(
      expect.objectContaining({
        message: 'KEYWAY_TIMEOUT takes a duration such as 1500ms, 30s or 2m, not "10"',
        hint: 'did you mean KEYWAY_TIMEOUT=10s?',
      }),
    )
  })

  it('keeps the default deadline for short limits and lengthens it for long ones', () => {
    expect(timeoutSettings({ timeout: '1s' }, {}).retry).toEqual({
      deadlineMs: defaultRetryOptions.deadlineMs,
    })
    // Three attempts of 5 minutes and two backoff waits of at most 20 s fit.
    expect(timeoutSettings({ timeout: '5m' }, {}).retry).toEqual({
      deadlineMs: 3 * 300_000 + 2 * defaultRetryOptions.maxDelayMs,
    })
  })
})
