export { voiceableDescriptor } from './voiceable-descriptor.js'
export {
  createVoiceableKeyStore,
  VOICEABLE_BASE_URL,
  type VoiceableCreateKeyInput,
  type VoiceableKeyStore,
  type VoiceableKeyStoreSettings,
  type VoiceableKeyType,
  type VoiceableUpdateKeyInput,
  voiceableCapabilities,
} from './voiceable-key-store.js'
export { type VoiceableApiKey, voiceableApiKeySchema } from './voiceable-schemas.js'
