import { describe, expect, it } from 'vitest'
import { parseDate, shownDate } from './dates.js'

describe('parseDate', () => {
  it.each([
    ['2027-02-28', '2027-02-28T00:00:00.000Z'],
    ['2028-02-29', '2028-02-29T00:00:00.000Z'],
    ['2027-06-01T12:30', '2027-06-01T12:30:00.000Z'],
    ['2027-06-01 12:30:15', '2027-06-01T12:30:15.000Z'],
    ['2027-06-01T12:30:15.5Z', '2027-06-01T12:30:15.500Z'],
    ['2027-06-01T12:30:00+02:00', '2027-06-01T10:30:00.000Z'],
    ['2027-06-01T12:30:00-0130', '2027-06-01T14:00:00.000Z'],
  ])('reads %s as %s (UTC without an offset)', (text, iso) => {
    expect(parseDate(text, '--expires-at').toISOString()).toBe(iso)
  })

  it.each([
    ['2027-02-30', 'February 2027 has 28 days'],
    ['2027-02-29', 'February 2027 has 28 days'],
    ['2027-13-01', 'has no month 13'],
    ['2027-04-31', 'April 2027 has 30 days'],
    ['2027-06-01T24:00', 'is not a time of day'],
    ['2027-06-01T12:60', 'is not a time of day'],
    ['2027-06-01T12:00+24:00', 'offset beyond'],
    ['next tuesday', 'is not in that form'],
    ['1767225600', 'is not in that form'],
    ['2027-6-1', 'is not in that form'],
  ])('refuses %s: %s', (text, why) => {
    expect(() => parseDate(text, '--expires-at')).toThrow(why)
    expect(() => parseDate(text, '--expires-at')).toThrow(
      '--expires-at takes YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM], UTC unless an offset is given',
    )
  })
})

describe('shownDate', () => {
  it('prints UTC with a Z, and - for none', () => {
    expect(shownDate(new Date('2027-06-01T10:30:00+02:00'))).toBe('2027-06-01 08:30:00Z')
    expect(shownDate(null)).toBe('-')
  })
})
