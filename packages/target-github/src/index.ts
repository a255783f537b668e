export {
  createGitHubActionsTarget,
  GITHUB_API_URL,
  GITHUB_API_VERSION,
  type GitHubActionsTargetSettings,
  type GitHubSecretScope,
} from './github-actions-target.js'
export { sealForGitHub } from './sealed-box.js'
