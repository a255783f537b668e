import type { KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  createNoteDxKeyStore,
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
    { email: 'NOTEDX_EMAIL', password: 'NOTEDX_PASSWORD' },
    { idToken: 'NOTEDX_ID_TOKEN' },
  ],
  baseUrlEnv: 'NOTEDX_BASE_URL',
  secretPatterns: [NOTEDX_KEY_PATTERN],
  columns: [{ header: 'TYPE', cell: (key) => (key.raw as Partial<NoteDxItem>).type ?? '-' }],
}
