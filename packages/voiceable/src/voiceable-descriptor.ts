import { choiceFixedAtCreate, hintParts, type KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  createVoiceableKeyStore,
  VOICEABLE_ENV,
  type VoiceableKeyStore,
  type VoiceableKeyStoreSettings,
} from './voiceable-key-store.js'
import type { VoiceableApiKey } from './voiceable-schemas.js'

/** Voiceable for tools: id, title, factory and the env vars the factory reads. */
export const voiceableDescriptor: KeyStoreDescriptor<VoiceableKeyStoreSettings, VoiceableKeyStore> =
  {
    id: 'voiceable',
    title: 'Voiceable',
    create: createVoiceableKeyStore,
    credentials: [{ apiKey: VOICEABLE_ENV.apiKey }, { token: VOICEABLE_ENV.token }],
    baseUrlEnv: VOICEABLE_ENV.baseUrl,
    // The private key format is not published: public keys only.
    secretPatterns: [/^pk_live_[0-9a-f]{64}$/i],
    leak: {
      // Public keys; the private key format is not published.
      prefixes: ['pk_live_'],
      alphabet: /^[0-9a-f]*$/i,
      // The key's value, where the vendor still shows it: its last four characters.
      shown: (key) => hintParts(key.hint),
    },
    otherEnv: { credentialKeyId: VOICEABLE_ENV.credentialKeyId },
    settingFlags: [
      {
        setting: 'credentialKeyId',
        flag: 'credential-key-id',
        value: 'id',
        help: `the id of the key ${VOICEABLE_ENV.apiKey} is`,
      },
    ],
    columns: [
      { header: 'TYPE', cell: (key) => (key.raw as Partial<VoiceableApiKey>).key_type ?? '-' },
      {
        header: 'ALLOWED ORIGINS',
        cell: (key) => (key.raw as Partial<VoiceableApiKey>).allowed_origins?.join(',') || 'any',
      },
    ],
    fields: [
      choiceFixedAtCreate('keyType', 'key-type', ['private', 'public'], 'the key type'),
      {
        field: 'allowedOrigins',
        flag: 'allowed-origin',
        kind: 'list',
        value: 'url',
        help: 'an allowed origin',
      },
      {
        field: 'allowedAssistants',
        flag: 'allowed-assistant',
        kind: 'list',
        value: 'id',
        help: 'an allowed assistant',
      },
      {
        field: 'transientAssistant',
        flag: 'transient-assistant',
        kind: 'switch',
        help: 'allow transient assistants',
      },
    ],
  }
