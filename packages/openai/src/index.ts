export { openAIDescriptor } from './openai-descriptor.js'
export {
  createOpenAIKeyStore,
  OPENAI_BASE_URL,
  type OpenAICreateKeyInput,
  type OpenAIKeyStore,
  type OpenAIKeyStoreSettings,
  openAIAdminCapabilities,
  openAIProjectCapabilities,
} from './openai-key-store.js'
export {
  type OpenAIAdminKey,
  type OpenAIProjectKey,
  openAIAdminKeySchema,
  openAIProjectKeySchema,
} from './openai-schemas.js'
