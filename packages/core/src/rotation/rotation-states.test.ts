import { describe, expect, it } from 'vitest'
import {
  FORWARD_STATES,
  hasReached,
  isPastCreate,
  PART_WAY_STATES,
  ROTATION_STATES,
} from './rotation-states.js'

describe('rotation states', () => {
  it('derives the order, part way and past create from the one list', () => {
    expect(FORWARD_STATES).toEqual([
      'started',
      'creating',
      'created',
      'delivered',
      'verified',
      'switched',
      'done',
    ])
    expect(PART_WAY_STATES).toEqual(FORWARD_STATES.slice(0, -1))
    expect(ROTATION_STATES.filter(isPastCreate)).toEqual(['verified', 'switched', 'done'])
  })

  it('counts no end but done as reached on the way', () => {
    expect(hasReached('switched', 'created')).toBe(true)
    expect(hasReached('created', 'switched')).toBe(false)
    expect(hasReached('rolled-back', 'started')).toBe(false)
    expect(hasReached('failed', 'started')).toBe(false)
  })
})
