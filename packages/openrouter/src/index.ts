export { OPENROUTER_LIST_LIMIT } from './openrouter-counted-list.js'
export { openRouterDescriptor } from './openrouter-descriptor.js'
export {
  GuardrailAssignmentError,
  type GuardrailAssignmentErrorOptions,
} from './openrouter-errors.js'
export {
  createOpenRouterKeyStore,
  OPENROUTER_BASE_URL,
  OPENROUTER_PAGE_SIZE,
  type OpenRouterCreateKeyInput,
  type OpenRouterKeyStore,
  type OpenRouterKeyStoreSettings,
  type OpenRouterUpdateKeyInput,
  openRouterCapabilities,
} from './openrouter-key-store.js'
export {
  LIMIT_RESETS,
  type LimitReset,
  type OpenRouterKey,
  openRouterKeySchema,
} from './openrouter-schemas.js'
