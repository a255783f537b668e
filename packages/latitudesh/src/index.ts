export { latitudeDescriptor } from './latitudesh-descriptor.js'
export {
  createLatitudeKeyStore,
  LATITUDE_BASE_URL,
  type LatitudeCreateKeyInput,
  type LatitudeKeyStore,
  type LatitudeKeyStoreSettings,
  type LatitudeUpdateKeyInput,
  latitudeCapabilities,
} from './latitudesh-key-store.js'
export { type LatitudeApiKey, latitudeApiKeySchema } from './latitudesh-schemas.js'
