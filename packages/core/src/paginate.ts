import { ResponseValidationError } from './errors.js'
import type { RequestOptions } from './types.js'

/** One page of an offset list whose vendor also says how many items there are in all. */
export interface OffsetPage<T> {
  items: readonly T[]
  /** The vendor's count of every item, all pages together. */
  total: number
}

/** How to fetch one page of an offset-paginated list. */
export interface OffsetPaginationOptions<T> extends RequestOptions {
  /** The vendor's fixed page size: a shorter page is the last. */
  pageSize: number
  /**
   * Fetches the page starting at `offset`: its items, or its items and the vendor's total,
   * which saves the request for an empty last page.
   */
  fetchPage: (
    offset: number,
    signal: AbortSignal | undefined,
  ) => Promise<readonly T[] | OffsetPage<T>>
}

/** Walks an offset-paginated list page by page; holds one page in memory at a time. */
export async function* paginateOffset<T>(options: OffsetPaginationOptions<T>): AsyncGenerator<T> {
  let offset = 0
  for (;;) {
    options.signal?.throwIfAborted()
    const result = await options.fetchPage(offset, options.signal)
    const page = 'items' in result ? result.items : result
    yield* page
    if (page.length < options.pageSize) return
    offset += page.length
    if ('total' in result && offset >= result.total) return
  }
}

/** One page of a cursor list: its items, and the cursor of the next page (`undefined` after the last). */
export interface CursorPage<T> {
  items: readonly T[]
  next: string | undefined
}

/** How to fetch one page of a cursor-paginated list. */
export interface CursorPaginationOptions<T> extends RequestOptions {
  /** The vendor, for the error a cursor that repeats itself throws. */
  provider: string
  /** Fetches the page after `cursor` (`undefined`: the first page). */
  fetchPage: (cursor: string | undefined, signal: AbortSignal | undefined) => Promise<CursorPage<T>>
}

/**
 * Walks a cursor-paginated list page by page; holds one page in memory at a time. A cursor
 * the vendor already gave is a `ResponseValidationError`: following it would loop forever.
 */
export async function* paginateCursor<T>(options: CursorPaginationOptions<T>): AsyncGenerator<T> {
  const seen = new Set<string>()
  let cursor: string | undefined
  for (;;) {
    options.signal?.throwIfAborted()
    const page = await options.fetchPage(cursor, options.signal)
    yield* page.items
    if (page.next === undefined) return
    if (seen.has(page.next)) {
      throw new ResponseValidationError({
        provider: options.provider,
        operation: 'list',
        message: `${options.provider} list: the vendor gave the same page cursor twice`,
        issues: [{ path: 'cursor', message: 'a cursor already followed' }],
      })
    }
    seen.add(page.next)
    cursor = page.next
  }
}

/** One page of a list that pages after the last id it gave (`has_more`, `last_id`). */
export interface AfterIdPage<T> {
  items: readonly T[]
  /** Whether a page follows. */
  hasMore: boolean
  /** The id the next page starts after; missing is only allowed on the last page. */
  lastId: string | null | undefined
}

/** How to fetch one page of a list that pages after the last id. */
export interface AfterIdPaginationOptions<T> extends RequestOptions {
  /** The vendor, for the errors a bad page throws. */
  provider: string
  /** Fetches the page after the id `after` (`undefined`: the first page). */
  fetchPage: (after: string | undefined, signal: AbortSignal | undefined) => Promise<AfterIdPage<T>>
}

/**
 * Walks a list whose pages say whether more follow and name the id to page after (Anthropic
 * and OpenAI: `has_more`, `last_id`), as `paginateCursor` walks a cursor list. A page that
 * says it has more but names no id to page after is a `ResponseValidationError`.
 */
export function paginateAfterId<T>(options: AfterIdPaginationOptions<T>): AsyncGenerator<T> {
  const { provider, fetchPage } = options
  return paginateCursor({
    provider,
    signal: options.signal,
    fetchPage: async (cursor, signal) => {
      const page = await fetchPage(cursor, signal)
      if (!page.hasMore) return { items: page.items, next: undefined }
      if (typeof page.lastId === 'string') return { items: page.items, next: page.lastId }
      throw new ResponseValidationError({
        provider,
        operation: 'list',
        message: `${provider} list: a page says it has more but names no last key`,
        issues: [{ path: 'last_id', message: 'expected the id to page after' }],
      })
    },
  })
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}
