import type { KeyStoreDescriptor } from '@keyway/core/adapter'
import {
  createLatitudeKeyStore,
  LATITUDESH_ENV,
  type LatitudeKeyStore,
  type LatitudeKeyStoreSettings,
} from './latitudesh-key-store.js'
import type { LatitudeApiKey } from './latitudesh-schemas.js'

const attributes = (raw: unknown) => (raw as Partial<LatitudeApiKey>).attributes ?? {}

/** Latitude.sh for tools: id, title, factory and the env vars the factory reads. */
export const latitudeDescriptor: KeyStoreDescriptor<LatitudeKeyStoreSettings, LatitudeKeyStore> = {
  id: 'latitudesh',
  title: 'Latitude.sh',
  create: createLatitudeKeyStore,
  credentials: [{ token: LATITUDESH_ENV.token }],
  baseUrlEnv: LATITUDESH_ENV.baseUrl,
  secretPatterns: [/^[0-9a-f]{36}$/i],
  leak: {
    prefixes: [],
    alphabet: /^[0-9a-f]*$/i,
    // `token_last_slice`: the last five characters.
    shown: (key) => {
      const end = attributes(key.raw).token_last_slice
      return end ? { end } : undefined
    },
  },
  columns: [
    { header: 'READ-ONLY', cell: (key) => (attributes(key.raw).read_only ? 'yes' : 'no') },
    {
      header: 'ALLOWED IPS',
      cell: (key) => attributes(key.raw).allowed_ips?.join(',') || 'any',
    },
  ],
  fields: [
    { field: 'readOnly', flag: 'read-only', kind: 'switch', help: 'a read-only key' },
    {
      field: 'allowedIps',
      flag: 'allowed-ip',
      kind: 'list',
      value: 'ip|cidr',
      help: 'an allowed IP or range',
    },
  ],
}
