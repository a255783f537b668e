import { type HttpClient, paginateOffset } from '@keyway/core'
import { assignResponseSchema, keyAssignmentsResponseSchema } from './openrouter-schemas.js'

/** OpenRouter's largest page for its workspace and guardrail lists. */
export const OPENROUTER_LIST_LIMIT = 100

/**
 * The guardrail a key holds, or `undefined`: pages `GET /guardrails/assignments/keys`
 * until the key's hash turns up. A key holds at most one guardrail.
 */
export async function findGuardrail(
  client: HttpClient,
  hash: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const assignments = paginateOffset({
    pageSize: OPENROUTER_LIST_LIMIT,
    signal,
    fetchPage: async (offset, pageSignal) => {
      const response = await client.request({
        operation: 'successorInput',
        method: 'GET',
        path: '/guardrails/assignments/keys',
        query: { offset, limit: OPENROUTER_LIST_LIMIT },
        schema: keyAssignmentsResponseSchema,
        signal: pageSignal,
      })
      return { items: response.data.data, total: response.data.total_count }
    },
  })
  for await (const assignment of assignments) {
    if (assignment.key_hash === hash) return assignment.guardrail_id
  }
  return undefined
}

/**
 * Assigns a guardrail to one key; returns how many keys OpenRouter says it assigned.
 * Assigning replaces any guardrail the key held, so a repeat does no harm.
 */
export async function assignGuardrail(
  client: HttpClient,
  guardrailId: string,
  hash: string,
  signal: AbortSignal | undefined,
): Promise<number> {
  const response = await client.request({
    operation: 'create',
    method: 'POST',
    path: `/guardrails/${encodeURIComponent(guardrailId)}/assignments/keys`,
    json: { key_hashes: [hash] },
    schema: assignResponseSchema,
    retry: 'idempotent',
    signal,
  })
  return response.data.assigned_count
}
