import { hintParts, type KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  ANTHROPIC_ENV,
  type AnthropicKeyStore,
  type AnthropicKeyStoreSettings,
  createAnthropicKeyStore,
} from './anthropic-key-store.js'
import type { AnthropicApiKey } from './anthropic-schemas.js'

/** Anthropic for tools: id, title, factory and the env vars the factory reads. */
export const anthropicDescriptor: KeyStoreDescriptor<AnthropicKeyStoreSettings, AnthropicKeyStore> =
  {
    id: 'anthropic',
    title: 'Anthropic',
    create: createAnthropicKeyStore,
    credentials: [{ adminKey: ANTHROPIC_ENV.adminKey }],
    baseUrlEnv: ANTHROPIC_ENV.baseUrl,
    // API keys and Admin API keys.
    secretPatterns: [/^sk-ant-(api|admin)\d{2}-[A-Za-z0-9_-]{20,}$/],
    leak: {
      prefixes: ['sk-ant-'],
      alphabet: /^[A-Za-z0-9_-]*$/,
      // `partial_key_hint`: `sk-ant-api03-R2D...igAA`.
      shown: (key) => hintParts(key.hint),
    },
    columns: [
      {
        header: 'WORKSPACE',
        cell: (key) => {
          const scope = (key.raw as Partial<AnthropicApiKey>).scope
          if (scope === undefined || scope === null) return '-'
          return scope.workspace_id ?? scope.type
        },
      },
    ],
  }
