import { describe, expect, it, vi } from 'vitest'
import { collect, paginateCursor, paginateOffset } from './paginate.js'

describe('paginateOffset', () => {
  it('walks full pages until a short one, asking for each offset once', async () => {
    const items = Array.from({ length: 250 }, (_, index) => index)
    const fetchPage = vi.fn(async (offset: number) => items.slice(offset, offset + 100))
    expect(await collect(paginateOffset({ pageSize: 100, fetchPage }))).toEqual(items)
    expect(fetchPage.mock.calls.map(([offset]) => offset)).toEqual([0, 100, 200])
  })

  it('asks for one more page after an exactly full last page, which comes back empty', async () => {
    const fetchPage = vi.fn(async (offset: number) => (offset < 200 ? Array(100).fill(offset) : []))
    expect(await collect(paginateOffset({ pageSize: 100, fetchPage }))).toHaveLength(200)
    expect(fetchPage).toHaveBeenCalledTimes(3)
  })

  it("stops at the vendor's total, without asking for an empty last page", async () => {
    const items = Array.from({ length: 200 }, (_, index) => index)
    const fetchPage = vi.fn(async (offset: number) => ({
      items: items.slice(offset, offset + 100),
      total: items.length,
    }))
    expect(await collect(paginateOffset({ pageSize: 100, fetchPage }))).toEqual(items)
    expect(fetchPage.mock.calls.map(([offset]) => offset)).toEqual([0, 100])
  })

  it('fetches lazily: stopping early fetches no further page', async () => {
    const fetchPage = vi.fn(async (offset: number) =>
      Array.from({ length: 100 }, (_, index) => offset + index),
    )
    for await (const item of paginateOffset({ pageSize: 100, fetchPage })) {
      if (item === 150) break
    }
    expect(fetchPage).toHaveBeenCalledTimes(2)
  })

  it('stops when the signal aborts', async () => {
    const controller = new AbortController()
    const fetchPage = vi.fn(async () => {
      controller.abort(new Error('stop'))
      return Array(100).fill(0)
    })
    await expect(
      collect(paginateOffset({ pageSize: 100, fetchPage, signal: controller.signal })),
    ).rejects.toThrow('stop')
    expect(fetchPage).toHaveBeenCalledTimes(1)
  })
})

describe('paginateCursor', () => {
  const pages: Record<string, { items: number[]; next: string | undefined }> = {
    start: { items: [1, 2], next: 'b' },
    b: { items: [3, 4], next: 'c' },
    c: { items: [5], next: undefined },
  }
  const pageAt = async (cursor: string | undefined) => {
    const page = pages[cursor ?? 'start']
    if (page === undefined) throw new Error(`no page at ${cursor}`)
    return page
  }

  it('follows each cursor once, from the first page to the one without a next cursor', async () => {
    const fetchPage = vi.fn(pageAt)
    expect(await collect(paginateCursor({ provider: 'acme', fetchPage }))).toEqual([1, 2, 3, 4, 5])
    expect(fetchPage.mock.calls.map(([cursor]) => cursor)).toEqual([undefined, 'b', 'c'])
  })

  it('fetches lazily: stopping early fetches no further page', async () => {
    const fetchPage = vi.fn(pageAt)
    for await (const item of paginateCursor({ provider: 'acme', fetchPage })) {
      if (item === 2) break
    }
    expect(fetchPage).toHaveBeenCalledTimes(1)
  })

  it('refuses a cursor the vendor already gave instead of looping', async () => {
    const fetchPage = vi.fn(async (cursor: string | undefined) => ({
      items: [cursor ?? 'first'],
      next: 'again',
    }))
    await expect(collect(paginateCursor({ provider: 'acme', fetchPage }))).rejects.toMatchObject({
      code: 'invalid_response',
      provider: 'acme',
      message: 'acme list: the vendor gave the same page cursor twice',
    })
    expect(fetchPage).toHaveBeenCalledTimes(2)
  })

  it('stops before fetching when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    const fetchPage = vi.fn(pageAt)
    await expect(
      collect(paginateCursor({ provider: 'acme', fetchPage, signal: controller.signal })),
    ).rejects.toThrow()
    expect(fetchPage).not.toHaveBeenCalled()
  })
})
