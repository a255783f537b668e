import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { errorReader } from './error-reader.js'
import { readErrorDetails } from './http-errors.js'
import { requireMembers } from './require-members.js'
import { isoDate, lenient } from './vendor-schemas.js'

const reader = errorReader(
  v.looseObject({
    message: lenient(v.string()),
    code: lenient(v.string()),
    hint: lenient(v.string()),
  }),
  (body) => ({ message: body.message ?? body.hint, code: body.code }),
)

describe('errorReader', () => {
  it('reads the fields it needs and ignores nulls and other shapes in the rest', () => {
    expect(reader({ message: 'bad name', code: null, hint: { nested: 1 } })).toEqual({
      message: 'bad name',
    })
    expect(reader({ message: 7, hint: 'try again' })).toEqual({ message: 'try again' })
  })

  it('gives undefined for a body with nothing in it, so core reads the body generically', () => {
    expect(reader({ other: true })).toBeUndefined()
    expect(reader('Bad Gateway')).toBeUndefined()
    expect(readErrorDetails(reader, 'Bad Gateway')).toEqual({ message: 'Bad Gateway' })
  })
})

describe('isoDate', () => {
  it('accepts what Date.parse reads and refuses the rest', () => {
    expect(v.is(isoDate, '2026-11-24T10:00:00Z')).toBe(true)
    expect(v.is(isoDate, 'yesterday')).toBe(false)
  })
})

describe('requireMembers', () => {
  it('types present optional members as present, and throws for a missing one', () => {
    const store: { reveal?: () => string } = { reveal: () => 'fake' }
    expect(requireMembers(store, ['reveal']).reveal()).toBe('fake')
    expect(() => requireMembers({} as { reveal?: () => string }, ['reveal'])).toThrow(TypeError)
  })
})
