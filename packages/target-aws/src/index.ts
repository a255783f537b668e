export {
  createSecretsManagerTarget,
  type SecretsManagerTargetSettings,
} from './secrets-manager-target.js'
