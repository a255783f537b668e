import type { RequestOptions } from './types.js'

/** How to fetch one page of an offset-paginated list. */
export interface OffsetPaginationOptions<T> extends RequestOptions {
  /** The vendor's fixed page size: a shorter page is the last. */
  pageSize: number
  /** Fetches the page starting at `offset`. */
  fetchPage: (offset: number, signal: AbortSignal | undefined) => Promise<readonly T[]>
}

/** Walks an offset-paginated list page by page; holds one page in memory at a time. */
export async function* paginateOffset<T>(options: OffsetPaginationOptions<T>): AsyncGenerator<T> {
  let offset = 0
  for (;;) {
    options.signal?.throwIfAborted()
    const page = await options.fetchPage(offset, options.signal)
    yield* page
    if (page.length < options.pageSize) return
    offset += page.length
  }
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}
