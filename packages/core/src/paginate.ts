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

/**
 * The cursor of the next page of a list whose pages say whether more follow and name the id to
 * page after (Anthropic and OpenAI: `has_more`, `last_id`), for `paginateCursor`: `undefined`
 * after the last page. A page that says it has more but names no id is a
 * `ResponseValidationError`: there is no way to ask for the rest.
 */
export function nextAfterId(
  provider: string,
  hasMore: boolean,
  lastId: string | null | undefined,
): string | undefined {
  if (!hasMore) return undefined
  if (typeof lastId === 'string') return lastId
  throw new ResponseValidationError({
    provider,
    operation: 'list',
    message: `${provider} list: a page says it has more but names no last key`,
    issues: [{ path: 'last_id', message: 'expected the id to page after' }],
  })
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}
