export {
  checkSealingKey,
  openSealedSecret,
  type SealingKey,
  sealingKeyBytes,
  sealSecret,
} from './sealed-secret.js'
export { type SecretKeeper, sealingStore } from './sealing-store.js'
export { storeSealingKey } from './store-sealing-key.js'
