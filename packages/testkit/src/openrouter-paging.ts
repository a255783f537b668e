import type { EmulatedResponse } from './http-server.js'

/** OpenRouter's `offset` and `limit` for its newer lists (workspaces, guardrail assignments). */
export const OPENROUTER_LIST_LIMIT = { default: 50, max: 100 } as const

/**
 * Reads `offset` and `limit` as OpenRouter's workspace and guardrail lists take them
 * (limit default 50, at most 100); a bad value is a 400 in the vendor's error shape.
 */
export function readPage(
  query: URLSearchParams,
  error: (status: number, message: string) => EmulatedResponse,
): { offset: number; limit: number } | EmulatedResponse {
  const offset = Number(query.get('offset') ?? '0')
  if (!Number.isInteger(offset) || offset < 0)
    return error(400, 'offset must be a non-negative integer')
  const limit = Number(query.get('limit') ?? String(OPENROUTER_LIST_LIMIT.default))
  if (!Number.isInteger(limit) || limit < 1 || limit > OPENROUTER_LIST_LIMIT.max) {
    return error(400, `limit must be an integer from 1 to ${OPENROUTER_LIST_LIMIT.max}`)
  }
  return { offset, limit }
}

/** `{data, total_count}`: one page of a list and the count of all of it. */
export function pageOf<T>(all: readonly T[], page: { offset: number; limit: number }) {
  return {
    status: 200,
    body: { data: all.slice(page.offset, page.offset + page.limit), total_count: all.length },
  }
}

/** A lowercase UUID, as OpenRouter formats ids. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
