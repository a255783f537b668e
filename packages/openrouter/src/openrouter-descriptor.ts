import { createHash } from 'node:crypto'
import { hintParts, type KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  createOpenRouterKeyStore,
  OPENROUTER_ENV,
  type OpenRouterKeyStore,
  type OpenRouterKeyStoreSettings,
} from './openrouter-key-store.js'
import { LIMIT_RESETS, type OpenRouterKey } from './openrouter-schemas.js'

/** OpenRouter for tools: id, title, factory and the env vars the factory reads. */
export const openRouterDescriptor: KeyStoreDescriptor<
  OpenRouterKeyStoreSettings,
  OpenRouterKeyStore
> = {
  id: 'openrouter',
  title: 'OpenRouter',
  create: createOpenRouterKeyStore,
  credentials: [{ managementKey: OPENROUTER_ENV.managementKey }],
  baseUrlEnv: OPENROUTER_ENV.baseUrl,
  secretPatterns: [/^sk-or-v1-[0-9a-f]{64}$/i],
  leak: {
    prefixes: ['sk-or-v1-'],
    alphabet: /^[0-9a-f]*$/i,
    // `label`: `sk-or-v1-abc...123`.
    shown: (key) => hintParts(key.hint),
    keyIdOf: (secret) => createHash('sha256').update(secret).digest('hex'),
    keyIdNote: 'OpenRouter does not document its key hash as the SHA-256 of the secret',
    sha256InId: { prefix: '', length: 64 },
  },
  columns: [
    {
      header: 'LIMIT',
      cell: (key) => {
        const { limit, limit_reset: reset } = key.raw as Partial<OpenRouterKey>
        if (limit === null || limit === undefined) return '-'
        return `$${limit}${reset ? ` ${reset}` : ''}`
      },
    },
    { header: 'WORKSPACE', cell: (key) => key.workspace ?? '-' },
  ],
  fields: [
    {
      field: 'limit',
      flag: 'limit',
      kind: 'number',
      value: 'usd',
      unit: 'USD',
      min: 0,
      none: true,
      help: 'spending limit in USD',
    },
    {
      field: 'limitReset',
      flag: 'limit-reset',
      kind: 'choice',
      choices: LIMIT_RESETS,
      none: true,
      help: 'when the limit resets',
    },
    {
      field: 'includeByokInLimit',
      flag: 'include-byok',
      kind: 'switch',
      help: 'count BYOK usage towards the limit',
    },
    // A successor stays in its key's workspace.
    {
      field: 'workspaceId',
      flag: 'workspace',
      kind: 'text',
      value: 'id',
      help: 'the workspace to make the key in',
      operations: ['create'],
    },
    {
      field: 'guardrailId',
      flag: 'guardrail',
      kind: 'text',
      value: 'id',
      help: 'a guardrail to assign to the new key',
      operations: ['create', 'rotate'],
    },
  ],
}
