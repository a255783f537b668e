import type { KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  createOpenRouterKeyStore,
  OPENROUTER_ENV,
  type OpenRouterKeyStore,
  type OpenRouterKeyStoreSettings,
} from './openrouter-key-store.js'
import type { OpenRouterKey } from './openrouter-schemas.js'

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
}
