export type { KubernetesAuth, KubernetesConnectionSettings } from './kube-connection.js'
export {
  createKubernetesSecretTarget,
  type KubernetesSecretTargetSettings,
  RESTARTED_AT,
  RESTARTED_FOR,
} from './kubernetes-secret-target.js'
