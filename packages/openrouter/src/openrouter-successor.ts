import {
  type ApiKey,
  type Capabilities,
  defaultSuccessorPlan,
  readRawKey,
  type SuccessorPlan,
} from '@keyway/core/adapter'
import * as v from 'valibot'
import type { OpenRouterCreateKeyInput } from './openrouter-key-store.js'
import { LIMIT_RESETS, type LimitReset, openRouterKeySchema } from './openrouter-schemas.js'

const recordSchema = v.looseObject({
  ...openRouterKeySchema.entries,
  limit_remaining: v.optional(v.nullable(v.number())),
})

/** What a new key can never take over from the old one at OpenRouter. */
const ALWAYS = [
  "OpenRouter's per-key spend alert is set only in the dashboard and cannot be read or copied through the API: if the old key had one, set it again on the new key.",
  "BYOK credentials (allowed_api_key_hashes), observability destinations (api_key_hashes) and workspace I/O logging (io_logging_api_key_ids) that name the old key's hash do not name the new key: the operator must update them to the new key's hash.",
]

/**
 * The create input for a key like `key` at OpenRouter: name, limit, limit reset, BYOK
 * setting, a future expiry, workspace and guardrail, and what cannot be carried over.
 */
export function openRouterSuccessorPlan(
  key: ApiKey,
  capabilities: Capabilities,
  guardrailId: string | undefined,
): SuccessorPlan<OpenRouterCreateKeyInput> {
  const record = readRawKey(recordSchema, key, 'openrouter')
  const base = defaultSuccessorPlan(key, capabilities)
  const warnings = [...base.warnings, ...ALWAYS]
  const input: OpenRouterCreateKeyInput = {
    ...base.input,
    name: record.name,
    includeByokInLimit: record.include_byok_in_limit,
    workspaceId: record.workspace_id,
  }
  if (record.limit !== null) {
    input.limit = record.limit
    const left = record.limit_remaining
    warnings.push(
      `Spend is counted per key: the new key starts again with its whole limit of $${record.limit} for the current period${left === null || left === undefined ? '' : ` (the old key had $${left} left)`}.`,
    )
  }
  if (record.limit_reset !== null) {
    if ((LIMIT_RESETS as readonly string[]).includes(record.limit_reset)) {
      input.limitReset = record.limit_reset as LimitReset
    } else {
      warnings.push(
        `The limit reset "${record.limit_reset}" is not one keyway knows, so it is not carried over.`,
      )
    }
  }
  if (guardrailId !== undefined) input.guardrailId = guardrailId
  return { input, warnings }
}
