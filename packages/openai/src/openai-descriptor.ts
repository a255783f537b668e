import { choiceFixedAtCreate, hintParts, type KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  createOpenAIKeyStore,
  OPENAI_ENV,
  type OpenAIKeyStore,
  type OpenAIKeyStoreSettings,
} from './openai-key-store.js'
import type { OpenAIProjectKey } from './openai-schemas.js'

/** OpenAI for tools: id, title, factory and the env vars the factory reads. */
export const openAIDescriptor: KeyStoreDescriptor<OpenAIKeyStoreSettings, OpenAIKeyStore> = {
  id: 'openai',
  title: 'OpenAI',
  create: createOpenAIKeyStore,
  credentials: [{ adminKey: OPENAI_ENV.adminKey }],
  baseUrlEnv: OPENAI_ENV.baseUrl,
  // Admin, project and service-account keys.
  secretPatterns: [/^sk-(admin|proj|svcacct)-[A-Za-z0-9_-]{20,}$/],
  leak: {
    prefixes: ['sk-admin-', 'sk-proj-', 'sk-svcacct-'],
    alphabet: /^[A-Za-z0-9_-]*$/,
    // `redacted_value`: `sk-proj...abcd`.
    shown: (key) => hintParts(key.hint),
  },
  otherEnv: { project: OPENAI_ENV.project },
  columns: [
    {
      header: 'OWNER',
      // A project key's service account or user; an admin key's owner, a user.
      cell: (key) => {
        const owner = (key.raw as { owner?: OpenAIProjectKey['owner'] & { id?: string } }).owner
        return owner?.service_account?.id ?? owner?.user?.id ?? owner?.id ?? '-'
      },
    },
  ],
  fields: [
    choiceFixedAtCreate(
      'role',
      'role',
      ['member', 'owner'],
      'a project key’s new service account role (default member)',
    ),
  ],
}
