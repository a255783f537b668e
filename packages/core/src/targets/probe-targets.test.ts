import { describe, expect, it } from 'vitest'
import { PermissionError } from '../errors.js'
import type { DeliveryTarget } from './delivery-target.js'
import { Place } from './place-target.test-support.js'
import { probeTargets } from './probe-targets.js'

describe('probeTargets', () => {
  it('reports each target as reachable, failed (with the keyway error) or unchecked, writing nothing', async () => {
    const place = new Place('github')
    const plain = place.target('A')
    const reachable: DeliveryTarget = { ...place.target('B'), probe: async () => {} }
    const forbidden: DeliveryTarget = {
      ...place.target('C'),
      probe: async () => {
        throw new PermissionError({
          provider: 'github',
          operation: 'probe',
          status: 403,
          message: 'github probe: Resource not accessible',
        })
      },
    }
    const strange: DeliveryTarget = {
      ...place.target('D'),
      probe: async () => {
        throw new Error('token ghp_secret123456 rejected')
      },
    }
    const probes = await probeTargets([plain, reachable, forbidden, strange])
    expect(probes).toEqual([
      { target: 'github:A', kind: 'place', status: 'unchecked', error: null },
      { target: 'github:B', kind: 'place', status: 'reachable', error: null },
      {
        target: 'github:C',
        kind: 'place',
        status: 'failed',
        error: { code: 'permission_denied', message: 'github probe: Resource not accessible' },
      },
      {
        target: 'github:D',
        kind: 'place',
        status: 'failed',
        error: {
          code: 'unknown',
          message: 'the probe failed with an error that is not a keyway error',
        },
      },
    ])
    expect(place.writes).toEqual([])
  })
})
