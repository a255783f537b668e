export { anthropicDescriptor } from './anthropic-descriptor.js'
export {
  ANTHROPIC_BASE_URL,
  ANTHROPIC_VERSION,
  type AnthropicKeyStore,
  type AnthropicKeyStoreSettings,
  type AnthropicUpdateKeyInput,
  anthropicCapabilities,
  createAnthropicKeyStore,
} from './anthropic-key-store.js'
export { type AnthropicApiKey, anthropicApiKeySchema } from './anthropic-schemas.js'
