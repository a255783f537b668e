export { createVaultKvTarget, type VaultKvTargetSettings } from './vault-kv-target.js'
