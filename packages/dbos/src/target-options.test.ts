import { callbackTarget, type KeyStore, type ValidationError } from '@keyway/core'
import { describe, expect, it } from 'vitest'
import { checkTargetNames } from './input-checks.js'
import type { KeywayRotationsOptions } from './keyway-rotations.js'
import { refusalOf, UNUSED_CONNECTION } from './keyway-rotations.test-support.js'

// Every call here is refused before anything is registered or connected.
const store = { provider: 'memory' } as unknown as KeyStore
const github = callbackTarget(() => {}, 'github')
const vercel = callbackTarget(() => {}, 'vercel')
const base: KeywayRotationsOptions = { stores: {}, ...UNUSED_CONNECTION }

const refusal = (options: Partial<KeywayRotationsOptions>) => refusalOf({ ...base, ...options })

describe('delivery targets in the options', () => {
  it('needs deliver where a store has no targets', () => {
    const error = refusal({ stores: { a: { store, targets: [github] }, b: { store } } })
    expect(error.issues).toEqual([
      { path: 'deliver', message: 'must be a function (required unless every store has targets)' },
    ])
  })

  it("refuses a store's targets that are empty, or share a name", () => {
    expect(refusal({ stores: { a: { store, targets: [] } } }).issues[0]?.path).toBe(
      'stores.a.targets',
    )
    expect(refusal({ stores: { a: { store, targets: [github, github] } } }).issues).toEqual([
      { path: 'stores.a.targets', message: 'must each have a name, and no two the same' },
    ])
  })

  it('checks the target names an enqueue gives against the store', () => {
    expect(checkTargetNames('a', [github, vercel], ['vercel'])).toEqual(['vercel'])
    expect(checkTargetNames('a', [github], undefined)).toBeUndefined()
    // A function's targets are known per key: checked when the rotation opens.
    expect(checkTargetNames('a', () => [github], ['netlify'])).toEqual(['netlify'])
    const refused = (names: unknown, targets: Parameters<typeof checkTargetNames>[1]) => {
      try {
        checkTargetNames('a', targets, names as string[])
      } catch (error) {
        return (error as ValidationError).issues[0]?.message
      }
      return 'accepted'
    }
    expect(refused(['netlify'], [github])).toBe('store "a" has no target named netlify')
    expect(refused(['github', 'github'], [github])).toBe('names a target twice')
    expect(refused([], [github])).toBe('must name at least one target')
    expect(refused([''], [github])).toBe('must be target names')
    expect(refused(['github'], undefined)).toBe('store "a" has no targets')
  })
})
