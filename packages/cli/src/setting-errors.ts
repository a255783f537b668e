import { ValidationError } from '@keyway/core'
import { CliError } from './cli-error.js'
import { EXIT } from './exit-codes.js'
import { credentialText, type Provider, providerEnv } from './providers.js'

/**
 * A store factory's refusal of a setting, told in the env vars the operator set: a missing
 * or malformed credential (exit 4), or a base URL that is not https (exit 1). Anything else
 * is returned as it is.
 */
export function explainSettingError(error: unknown, provider: Provider): unknown {
  if (!(error instanceof ValidationError) || error.operation !== 'configure') return error
  const env = providerEnv(provider)
  const issue = error.issues[0]
  const envVar = issue === undefined ? undefined : env[issue.path]
  if (issue === undefined || envVar === undefined) return error
  if (issue.path === 'baseUrl') {
    return new CliError('ConfigurationError', `${envVar} ${issue.message}`, {
      hint: `use an https:// URL (plain http only on 127.0.0.1 or localhost), or unset ${envVar} to use ${provider.title}'s own`,
      cause: error,
    })
  }
  if (issue.message.startsWith('required')) {
    return new CliError('AuthenticationNeeded', `${provider.id}: no credential`, {
      hint: `set ${credentialText(provider)}`,
      exitCode: EXIT.authentication,
      cause: error,
    })
  }
  // "is blank (setting or OPENROUTER_MANAGEMENT_KEY)": the problem, said of the env var.
  const problem = issue.message.replace(/\s*\(setting or [A-Z0-9_]+\)$/, '')
  return new CliError('AuthenticationNeeded', `${provider.id}: ${envVar} ${problem}`, {
    hint: `set ${envVar} to the credential alone`,
    exitCode: EXIT.authentication,
    cause: error,
  })
}
