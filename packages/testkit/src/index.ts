export {
  ANTHROPIC_LIST_LIMIT,
  type AnthropicEmulatorControl,
  type AnthropicKeyStatus,
  type AnthropicSeedKeyInput,
} from './anthropic-emulator.js'
export { apiKeyFixture } from './api-key-fixture.js'
export {
  type AwsEmulatorSettings,
  type AwsSecretsManagerControl,
  type AwsSecretsManagerEmulator,
  type AwsSecretVersion,
  startAwsSecretsManagerEmulator,
} from './aws-secrets-manager-emulator.js'
export {
  defineEmulator,
  type EmulatorContext,
  type EmulatorDefinition,
  type VendorEmulator,
} from './emulator-framework.js'
export { bearer, matchPath } from './emulator-helpers.js'
export {
  type GitHubEmulatorControl,
  type GitHubScope,
  type GitHubStoredSecret,
  startGitHubEmulator,
} from './github-emulator.js'
export {
  type EmulatedRequest,
  type EmulatedResponse,
  INVALID_JSON,
  type VendorHandler,
} from './http-server.js'
export {
  type KubernetesDeploymentView,
  type KubernetesEmulatorControl,
  type KubernetesRolloutOutcome,
  startKubernetesEmulator,
} from './kubernetes-emulator.js'
export { LATITUDE_RATE_LIMITS } from './latitudesh-emulator.js'
export { NOTEDX_SECOND_SANDBOX_STATUS } from './notedx-emulator.js'
export {
  OPENAI_API_PREFIX,
  OPENAI_EMULATED_PROJECT,
  OPENAI_LIST_LIMIT,
  type OpenAIEmulatorControl,
  type OpenAISeedKeyInput,
  type OpenAISeedKind,
  type OpenAIServiceAccountState,
} from './openai-emulator.js'
export { OPENROUTER_PAGE_SIZE, type OpenRouterEmulatorControl } from './openrouter-emulator.js'
export { OPENROUTER_LIST_LIMIT } from './openrouter-paging.js'
export type { RequestLimiter } from './rate-limiter.js'
// The registry of bundled emulators and what follows from it (each vendor's starter, its
// control type), so a vendor is added in that one file.
export * from './start-emulator.js'
export type { TargetEmulator, TargetEmulatorOptions } from './target-emulator.js'
export {
  TARGET_TEST_SECRET,
  type TargetTestContextOptions,
  type TargetTestKit,
  type TargetTestKitOptions,
  TEST_RETRY,
  targetTestKit,
  targetUnderTest,
} from './target-test-kit.js'
export {
  type Emulator,
  type EmulatorControl,
  type EmulatorOptions,
  type EmulatorSettings,
  type Fault,
  type RateLimit,
  type RecordedRequest,
  type RequestMatch,
  type RunningEmulator,
  type SeedKeyInput,
  VENDORS,
  type Vendor,
} from './types.js'
export {
  startVaultEmulator,
  type VaultEmulatorControl,
  type VaultKvVersion,
} from './vault-emulator.js'
export {
  startVercelEmulator,
  type VercelDeployment,
  type VercelDeploymentOutcome,
  type VercelEmulatorControl,
  type VercelEnvVar,
  type VercelReadyState,
} from './vercel-emulator.js'
export { VOICEABLE_DELETE_STATUS, VOICEABLE_KEY_PREFIXES } from './voiceable-emulator.js'
