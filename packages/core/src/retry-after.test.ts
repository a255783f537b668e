import { describe, expect, it } from 'vitest'
import { parseRetryAfter, secondsToMs } from './retry-after.js'

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T10:00:00Z')

  it.each([
    ['120', 120_000],
    ['0', 0],
    ['1.5', 1500],
    [' 7 ', 7000],
    ['Sun, 22 Nov 2026 10:00:30 GMT', 30_000],
    ['Sun, 22 Nov 2026 09:59:00 GMT', 0],
  ])('reads %j as %i ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected)
  })

  it.each([null, undefined, '', 'soon', '-5'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})

describe('secondsToMs', () => {
  it('converts vendor seconds fields', () => {
    expect(secondsToMs(60)).toBe(60_000)
    expect(secondsToMs('2')).toBe(2000)
    expect(secondsToMs(-1)).toBeUndefined()
    expect(secondsToMs('x')).toBeUndefined()
    expect(secondsToMs(undefined)).toBeUndefined()
  })
})
