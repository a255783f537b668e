import { describe, expect, it } from 'vitest'
import { recoverFirst, removeEach, removeLeftovers } from './marked-keys.js'
import type { ApiKey } from './types.js'

const key = (id: string) => ({ id }) as ApiKey

describe('settling the keys a marked create made', () => {
  it('recovers the first key that can be, trying them in order', async () => {
    const tried: string[] = []
    const recovered = await recoverFirst([key('a'), key('b'), key('c')], async (found) => {
      tried.push(found.id)
      return found.id === 'b' ? `secret-of-${found.id}` : undefined
    })
    expect(recovered).toEqual({ key: key('b'), recovered: 'secret-of-b' })
    expect(tried).toEqual(['a', 'b'])
    expect(await recoverFirst([key('a')], async () => undefined)).toBeUndefined()
  })

  it('removes each key, and names those left when one removal fails', async () => {
    expect.assertions(2)
    const removed: string[] = []
    const refusal = new Error('refused')
    await removeEach(
      [key('a'), key('b'), key('c')],
      async (id) => {
        if (id === 'b') throw refusal
        removed.push(id)
      },
      (error, left) => new Error(`${(error as Error).message}: ${left.map((k) => k.id).join(',')}`),
    ).catch((error: Error) => expect(error.message).toBe('refused: b,c'))
    expect(removed).toEqual(['a'])
  })

  it('removes leftovers but the kept key, and stops quietly at a failure', async () => {
    const removed: string[] = []
    const remove = async (id: string) => {
      if (id === 'c') throw new Error('refused')
      removed.push(id)
    }
    const found = async () => [key('a'), key('kept'), key('b'), key('c'), key('d')]
    expect(await removeLeftovers(found, remove, 'kept')).toEqual(['a', 'b'])
    expect(removed).toEqual(['a', 'b'])
    const unreadable = async (): Promise<ApiKey[]> => {
      throw new Error('list failed')
    }
    expect(await removeLeftovers(unreadable, remove)).toEqual([])
  })
})
