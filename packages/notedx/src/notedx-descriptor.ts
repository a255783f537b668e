import type { KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  createNoteDxKeyStore,
  NOTEDX_ENV,
  type NoteDxKeyStore,
  type NoteDxKeyStoreSettings,
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
  columns: [{ header: 'TYPE', cell: (key) => (key.raw as Partial<NoteDxItem>).type ?? '-' }],
  fields: [
    {
      field: 'type',
      flag: 'type',
      kind: 'choice',
      choices: ['sandbox', 'live'],
      help: 'the key type',
      operations: ['create', 'rotate'],
    },
  ],
}
