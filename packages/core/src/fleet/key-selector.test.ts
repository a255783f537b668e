import { describe, expect, it } from 'vitest'
import type { ApiKey } from '../types.js'
import { apiKey, daysAgo, NOW } from './api-key.test-support.js'
import { globPattern, matchesSelector } from './key-selector.js'

const key = apiKey

describe('globPattern', () => {
  it.each([
    ['ci-*', 'ci-deploy', true],
    ['ci-*', 'ci-', true],
    ['ci-*', 'prod-ci-1', false],
    ['ci-?', 'ci-1', true],
    ['ci-?', 'ci-12', false],
    ['*', '', true],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['(x)+[y]', '(x)+[y]', true],
    ['CI-*', 'ci-1', false],
  ])('%s on %s: %s', (glob, name, expected) => {
    expect(globPattern(glob).test(name)).toBe(expected)
  })
})

describe('matchesSelector', () => {
  it('matches every key by default that is active', () => {
    expect(matchesSelector(key(), {}, NOW)).toBe(true)
    expect(matchesSelector(key({ status: 'disabled' }), {}, NOW)).toBe(false)
  })

  it('takes status any or disabled', () => {
    expect(matchesSelector(key({ status: 'disabled' }), { status: 'any' }, NOW)).toBe(true)
    expect(matchesSelector(key({ status: 'disabled' }), { status: 'disabled' }, NOW)).toBe(true)
    expect(matchesSelector(key(), { status: 'disabled' }, NOW)).toBe(false)
  })

  it('never matches a nameless key with a name glob', () => {
    expect(matchesSelector(key({ name: null }), { name: '*' }, NOW)).toBe(false)
    expect(matchesSelector(key({ name: null }), {}, NOW)).toBe(true)
  })

  it('counts olderThanDays from createdAt to the given now; no date never matches', () => {
    expect(matchesSelector(key({ createdAt: daysAgo(30) }), { olderThanDays: 30 }, NOW)).toBe(true)
    expect(matchesSelector(key({ createdAt: daysAgo(29.9) }), { olderThanDays: 30 }, NOW)).toBe(
      false,
    )
    expect(matchesSelector(key({ createdAt: null }), { olderThanDays: 0 }, NOW)).toBe(false)
  })

  it('needs every field to match', () => {
    const selector = { name: 'ci-*', olderThanDays: 5 }
    expect(matchesSelector(key(), selector, NOW)).toBe(true)
    expect(matchesSelector(key({ name: 'prod' }), selector, NOW)).toBe(false)
    expect(matchesSelector(key({ createdAt: daysAgo(1) }), selector, NOW)).toBe(false)
  })

  it('reads dates that went through JSON', () => {
    const parsed = JSON.parse(JSON.stringify(key({ createdAt: daysAgo(40) }))) as ApiKey
    expect(matchesSelector(parsed, { olderThanDays: 30 }, NOW)).toBe(true)
  })
})
