import { describe, expect, it } from 'vitest'
import { checkMarker, claimMarker, createMarker } from './create-marker.js'
import { ValidationError } from './errors.js'

const context = { provider: 'vendor', operation: 'create' }

describe('createMarker', () => {
  it('makes short tokens of digits, safe in a name and in metadata, each one new', () => {
    const markers = Array.from({ length: 1000 }, () => createMarker())
    for (const marker of markers) {
      expect(marker).toMatch(/^kw\d{22}$/)
      expect(() => checkMarker(marker, context)).not.toThrow()
    }
    expect(new Set(markers).size).toBe(markers.length)
  })
})

describe('checkMarker', () => {
  it.each([
    ['', 'empty'],
    ['has space', 'a space'],
    ['a~b-c-d-e', 'the separator'],
    ['x'.repeat(41), '41 characters'],
    [42, 'a number'],
    [undefined, 'nothing'],
  ] as Array<[unknown, string]>)('refuses %o (%s) naming the marker', (marker) => {
    expect.assertions(2)
    try {
      checkMarker(marker, context)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues).toEqual([
        { path: 'marker', message: expect.stringContaining('createMarker') },
      ])
    }
  })

  it('accepts a caller journal id made of letters, digits and dashes', () => {
    expect(() => checkMarker('rotation-2026-11-ci', context)).not.toThrow()
  })
})

describe('claimMarker', () => {
  it('lets one create at a time carry a marker in this process', () => {
    const marker = createMarker()
    const release = claimMarker(marker, context)
    expect(() => claimMarker(marker, context)).toThrow(ValidationError)
    release()
    const again = claimMarker(marker, context)
    again()
  })
})
