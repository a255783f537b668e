import { choiceFixedAtCreate, hintParts, type KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  createNoteDxKeyStore,
  NOTEDX_ENV,
  type NoteDxKeyStore,
  type NoteDxKeyStoreSettings,
  noteDxKeyId,
} from './notedx-key-store.js'
import { NOTEDX_KEY_PATTERN, type NoteDxItem } from './notedx-schemas.js'

/** NoteDx for tools: id, title, factory and the env vars the factory reads. */
export const noteDxDescriptor: KeyStoreDescriptor<NoteDxKeyStoreSettings, NoteDxKeyStore> = {
  id: 'notedx',
  title: 'NoteDx',
  create: createNoteDxKeyStore,
  credentials: [
    { email: NOTEDX_ENV.email, password: NOTEDX_ENV.password },
    { idToken: NOTEDX_ENV.idToken },
  ],
  baseUrlEnv: NOTEDX_ENV.baseUrl,
  secretPatterns: [NOTEDX_KEY_PATTERN],
  leak: {
    prefixes: ['sb-', 'lk-'],
    alphabet: /^[0-9a-f]*$/,
    // The list shows the last four characters; the type gives the prefix.
    shown: (key) => {
      const type = (key.raw as Partial<NoteDxItem>).type
      const end = hintParts(key.hint)?.end
      return {
        ...(type === undefined ? {} : { start: type === 'sandbox' ? 'sb-' : 'lk-' }),
        ...(end === undefined ? {} : { end }),
      }
    },
    // The key is its own id: the store keeps a digest of it (`noteDxKeyId`).
    keyIdOf: noteDxKeyId,
    sha256InId: { prefix: 'ndx_', length: 24 },
  },
  columns: [{ header: 'TYPE', cell: (key) => (key.raw as Partial<NoteDxItem>).type ?? '-' }],
  fields: [choiceFixedAtCreate('type', 'type', ['sandbox', 'live'], 'the key type')],
}
