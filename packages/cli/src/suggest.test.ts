import { describe, expect, it } from 'vitest'
import { closest, editDistance } from './suggest.js'

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['lst', 'list', 1],
    ['provder', 'provider', 1],
    ['rotaet', 'rotate', 1],
    ['nmae', 'name', 1],
    ['kitten', 'sitting', 3],
  ])('%s → %s is %i edits', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance)
  })
})

describe('closest', () => {
  const commands = ['list', 'get', 'create', 'update', 'delete', 'rotate']
  it.each([
    ['lst', commands, 'list'],
    ['rotaet', commands, 'rotate'],
    ['nmae', ['id', 'name', 'status'], 'name'],
    ['DELETE', commands, 'delete'],
    ['latitude', ['openrouter', 'latitudesh', 'notedx', 'voiceable'], 'latitudesh'],
    ['open', ['openrouter', 'latitudesh', 'notedx', 'voiceable'], 'openrouter'],
    ['frobnicate', commands, undefined],
    ['x', commands, undefined],
  ])('%s → %s', (input, candidates, expected) => {
    expect(closest(input, candidates)).toBe(expected)
  })
})
