import { describe, expect, it } from 'vitest'
import {
  type CreateMarking,
  carriesMarker,
  chooseWay,
  defaultMarking,
  markedFields,
  markInput,
  settlingPatch,
} from './create-marking.js'
import { ValidationError } from './errors.js'
import { createContext as context, MARKER, vendorKey } from './fleet/api-key.test-support.js'
import type { ApiKey, Capabilities, CreateKeyInput } from './types.js'

const key = (name: string | null, metadata: Record<string, string> = {}) =>
  vendorKey({ id: 'id', name, metadata })

describe('markInput', () => {
  const byName: CreateMarking = { name: {} }
  const byMetadata: CreateMarking = { metadata: { entry: 'kw-create-marker' } }

  it('sends a temporary name, the requested one and the marker', () => {
    expect(markInput({ name: 'ci' }, byName, 'name', MARKER, 'ci', context)).toEqual({
      name: `ci~${MARKER}`,
    })
  })

  it('shortens the requested name so the temporary one fits the vendor limit', () => {
    const marked = markInput<CreateKeyInput>(
      {},
      { name: { maxLength: 40 } },
      'name',
      MARKER,
      'n'.repeat(64),
      context,
    )
    expect(marked.name).toBe(`${'n'.repeat(15)}~${MARKER}`)
    expect(marked.name?.length).toBe(40)
  })

  it('adds a metadata entry beside the caller metadata, which it never changes', () => {
    const input = { metadata: { team: 'a' } }
    expect(markInput(input, byMetadata, 'metadata', MARKER, undefined, context)).toEqual({
      metadata: { team: 'a', 'kw-create-marker': MARKER },
    })
    expect(input).toEqual({ metadata: { team: 'a' } })
  })

  it('refuses caller metadata that uses the marker entry', () => {
    expect(() =>
      markInput(
        { metadata: { 'kw-create-marker': 'x' } },
        byMetadata,
        'metadata',
        MARKER,
        undefined,
        context,
      ),
    ).toThrow(ValidationError)
  })

  it('leaves an unmarked create as it is', () => {
    const input = { name: 'ci' }
    expect(markInput(input, {}, { unmarked: 'none' }, MARKER, 'ci', context)).toBe(input)
  })
})

describe('carriesMarker', () => {
  const marking: CreateMarking = { name: {}, metadata: { entry: 'kw-create-marker' } }

  it('finds the marker at the end of a name or in the entry, never a sibling by name', () => {
    expect(carriesMarker(key(`ci~${MARKER}`), marking, MARKER)).toBe(true)
    expect(carriesMarker(key(null, { 'kw-create-marker': MARKER }), marking, MARKER)).toBe(true)
    expect(carriesMarker(key('ci'), marking, MARKER)).toBe(false)
    expect(carriesMarker(key(`ci~${MARKER}~x`), marking, MARKER)).toBe(false)
    expect(carriesMarker(key(`ci~kw3333333333333333333333`), marking, MARKER)).toBe(false)
    expect(carriesMarker(key(null, { other: MARKER }), marking, MARKER)).toBe(false)
  })

  it('looks only where the store marks', () => {
    expect(carriesMarker(key(`ci~${MARKER}`), { metadata: { entry: 'm' } }, MARKER)).toBe(false)
  })
})

describe('chooseWay and settlingPatch', () => {
  it('takes the declared way, or what the adapter chooses for the input', () => {
    expect(chooseWay({ name: {} }, {})).toBe('name')
    expect(chooseWay({ metadata: { entry: 'm' } }, {})).toBe('metadata')
    const noteDxLike: CreateMarking<CreateKeyInput & { type?: string }> = {
      metadata: { entry: 'm' },
      choose: (input) => (input.type === 'sandbox' ? { unmarked: 'no metadata' } : 'metadata'),
    }
    expect(chooseWay(noteDxLike, { type: 'sandbox' })).toEqual({ unmarked: 'no metadata' })
    expect(chooseWay(noteDxLike, { type: 'live' })).toBe('metadata')
    expect(chooseWay({}, {})).toEqual({ unmarked: expect.any(String) })
  })

  it('marks by name by default where the vendor can rename keys', () => {
    const capabilities = { names: true, update: ['name'] } as unknown as Capabilities
    expect(defaultMarking(capabilities)).toEqual({ name: {} })
    expect(defaultMarking({ ...capabilities, update: [] })).toEqual({})
  })

  it('settles to the final name, or to the caller metadata without the entry', () => {
    expect(settlingPatch({ name: 'keyway-x' }, markedFields('name'))).toEqual({ name: 'keyway-x' })
    expect(settlingPatch({ metadata: { team: 'a' } }, markedFields('metadata'))).toEqual({
      metadata: { team: 'a' },
    })
    expect(settlingPatch({}, markedFields('metadata'))).toEqual({ metadata: {} })
    expect(settlingPatch({}, markedFields({ unmarked: 'x' }))).toBeUndefined()
  })

  it('leaves out what a found key already has as asked', () => {
    const found = { name: 'ci', metadata: { team: 'a' } } as unknown as ApiKey
    const both = ['name', 'metadata'] as const
    expect(settlingPatch({ name: 'ci', metadata: { team: 'a' } }, both, found)).toBeUndefined()
    expect(settlingPatch({ name: 'cd', metadata: { team: 'a' } }, both, found)).toEqual({
      name: 'cd',
    })
    expect(settlingPatch({ name: 'ci' }, both, found)).toEqual({ metadata: {} })
    expect(settlingPatch({ metadata: { team: 'b' } }, ['name'], found)).toBeUndefined()
  })
})
