import { type HttpClient, paginateOffset } from '@keyway/core/adapter'
import type * as v from 'valibot'

/** OpenRouter's largest page for its workspace and guardrail lists. */
export const OPENROUTER_LIST_LIMIT = 100

/** A schema of OpenRouter's `{data, total_count}` lists. */
type CountedSchema<T> = v.GenericSchema<unknown, { data: T[]; total_count: number }>

/**
 * Walks one of OpenRouter's `{data, total_count}` lists (workspaces, guardrail assignments)
 * with `offset` and the largest `limit`, page by page, stopping at `total_count`.
 */
export function countedList<T>(
  client: HttpClient,
  request: { operation: string; path: string; schema: CountedSchema<T> },
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  return paginateOffset({
    pageSize: OPENROUTER_LIST_LIMIT,
    signal,
    fetchPage: async (offset, pageSignal) => {
      const response = await client.request({
        operation: request.operation,
        method: 'GET',
        path: request.path,
        query: { offset, limit: OPENROUTER_LIST_LIMIT },
        schema: request.schema,
        signal: pageSignal,
      })
      const page = response.data as { data: T[]; total_count: number }
      return { items: page.data, total: page.total_count }
    },
  })
}
