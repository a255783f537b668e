import type { HttpClient } from '@keyway/core/adapter'
import { countedList } from './openrouter-counted-list.js'
import { assignResponseSchema, keyAssignmentsResponseSchema } from './openrouter-schemas.js'

/**
 * The guardrail a key holds, or `undefined`: pages `GET /guardrails/assignments/keys`
 * until the key's hash turns up. A key holds at most one guardrail.
 */
export async function findGuardrail(
  client: HttpClient,
  hash: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const assignments = countedList(
    client,
    {
      operation: 'successorInput',
      path: '/guardrails/assignments/keys',
      schema: keyAssignmentsResponseSchema,
    },
    signal,
  )
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
    // Assigning replaces the key's guardrail: a repeat does no harm, like an update.
    retryAs: 'update',
    signal,
  })
  return response.data.assigned_count
}
