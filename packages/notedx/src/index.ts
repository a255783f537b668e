export { noteDxDescriptor } from './notedx-descriptor.js'
export {
  createNoteDxKeyStore,
  NOTEDX_BASE_URL,
  NOTEDX_MARKER_ENTRY,
  NOTEDX_SANDBOX_BLOCKED,
  type NoteDxCreateKeyInput,
  type NoteDxKeyStore,
  type NoteDxKeyStoreSettings,
  type NoteDxKeyType,
  type NoteDxUpdateKeyInput,
  noteDxCapabilities,
  noteDxKeyId,
} from './notedx-key-store.js'
export { NOTEDX_METADATA_LIMITS, NOTEDX_SENSITIVE_WORDS } from './notedx-metadata.js'
export {
  itemSchema as noteDxItemSchema,
  NOTEDX_KEY_PATTERN,
  type NoteDxItem,
} from './notedx-schemas.js'
