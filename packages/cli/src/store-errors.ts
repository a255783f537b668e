import type {
  KeyStoreError,
  NetworkError,
  RotationError,
  UnsupportedOperationError,
  ValidationError,
} from '@keyway/core'
import { TLS_FAILURE_CODES } from '@keyway/core/adapter'
import { EXIT, type ExitCode } from './exit-codes.js'
import { flagOfField, shortText, type Values } from './flags.js'
import type { Io } from './output.js'
import {
  credentialEnvVars,
  credentialText,
  isVendor,
  PROVIDERS,
  type Provider,
} from './providers.js'

/** An error from a store, told for an operator. */
export interface Explained {
  /** The kind printed, where it is not the error's own: `UsageError` for a flag core refused. */
  name?: string
  message: string
  hint: string | undefined
  exitCode: ExitCode
}

/**
 * The message, hint and exit code for a store error: flags instead of library option
 * names, env vars instead of settings, and exit 4 for a credential the vendor refused.
 */
export function explainStoreError(error: KeyStoreError, values: Values, env: Io['env']): Explained {
  const name = error.provider
  const provider: Provider | undefined = isVendor(name) ? PROVIDERS[name] : undefined
  const failure = (hint: string | undefined, message = error.message): Explained => ({
    message,
    hint,
    exitCode: EXIT.failure,
  })
  switch (error.code) {
    case 'validation_failed':
      return failure(undefined, validationMessage(error as ValidationError, values))
    case 'authentication_failed':
      return {
        message: error.message,
        hint: provider ? refusedCredentialHint(provider, env) : undefined,
        exitCode: EXIT.authentication,
      }
    case 'permission_denied':
      return {
        message: error.message,
        hint:
          provider?.id === 'openrouter'
            ? `OpenRouter manages keys only with a management key: set ${credentialText(provider)} to one`
            : `the credential in ${provider ? credentialText(provider) : 'use'} may not manage keys`,
        exitCode: EXIT.authentication,
      }
    case 'not_found':
      return failure(`see the keys with: keyway list --provider ${name}`)
    case 'rate_limited':
      return failure('the vendor asked to slow down; try again later')
    case 'network_error':
      return networkExplained(error as NetworkError, provider, env)
    case 'timeout':
      return failure(
        provider && env[provider.baseUrlEnv]
          ? `the vendor did not answer in time; check ${provider.baseUrlEnv} (${env[provider.baseUrlEnv]})`
          : 'the vendor did not answer in time; try again later',
      )
    case 'unsupported_operation':
      return (
        refusedFlag(error as UnsupportedOperationError, values) ??
        failure(`${name} does not have this; see keyway help`)
      )
    case 'same_account':
      return failure(
        'each account needs one store in the config: give the stores different credential env vars, or selectors whose name globs cannot match one key',
      )
    case 'fingerprint_mismatch':
      return failure(
        'point the label back at the account the batch began with (its credential and base URL env vars), or start a new batch without --batch-id',
      )
    case 'rotation_failed':
      return failure(
        (error as RotationError).rolledBack
          ? 'nothing changed; fix the cause and run again'
          : 'run the same command again to finish',
      )
    default:
      return failure(undefined)
  }
}

/**
 * The flags whose value asks a rotation for a feature the vendor may lack: core refuses it
 * (`UnsupportedOperationError`, before anything is sent), and the operator reads it as the
 * flag they passed, with what to pass instead.
 */
const ROTATE_FLAGS: Record<
  string,
  { given: (values: Values) => boolean; flag: string; why?: string; hint?: string }
> = {
  disable: {
    given: (values) => values.retire === 'disable',
    flag: '--retire disable',
    hint: 'use --retire delete or keep',
  },
  regenerate: {
    given: (values) => values.strategy === 'regenerate',
    flag: '--strategy regenerate',
  },
  'rotate.expiresAt': {
    given: (values) => values['expires-in'] !== undefined,
    flag: '--expires-in',
    why: ': its keys cannot expire',
  },
}

/** Core's refusal of a feature a flag asked for, as a usage error naming the flag. */
function refusedFlag(error: UnsupportedOperationError, values: Values): Explained | undefined {
  const refused = error.operation === 'rotate' ? ROTATE_FLAGS[error.feature] : undefined
  if (refused === undefined || !refused.given(values)) return undefined
  return {
    name: 'UsageError',
    message: `${refused.flag} is not supported by ${error.provider}${refused.why ?? ''}`,
    hint: refused.hint,
    exitCode: EXIT.failure,
  }
}

function refusedCredentialHint(provider: Provider, env: Io['env']): string {
  const prefixed = credentialEnvVars(provider).find((envVar) =>
    /^\s*bearer\s/i.test(env[envVar] ?? ''),
  )
  if (prefixed !== undefined)
    return `${prefixed} starts with "Bearer ": set it to the token alone, without the prefix`
  return `the vendor refused the credential; check ${credentialText(provider)}`
}

/**
 * "invalid input (allowedIps.0: an IP address or CIDR range)" becomes
 * "invalid input: --allowed-ip 999.1.1.1: expected an IP address or CIDR range".
 */
function validationMessage(error: ValidationError, values: Values): string {
  const told = error.issues.map((issue) => {
    const [field, index] = issue.path.split('.')
    const flag = field === undefined ? undefined : flagOfField(field, error.provider)
    if (flag === undefined) return undefined
    if (flag === 'metadata') {
      // Which entry, by its name; never its value, which may be a secret.
      const entry = index === undefined ? '' : ` entry "${shortText(index)}"`
      return `--metadata${entry}: ${issue.message}`
    }
    const given = values[flag]
    const value = Array.isArray(given) ? given[Number(index)] : given
    const shown = typeof value !== 'string' ? '' : value === '' ? ' ""' : ` ${shortText(value)}`
    return `--${flag}${shown}: ${operatorWords(issue.message, value)}`
  })
  if (told.length === 0 || told.some((text) => text === undefined)) return error.message
  return `${error.provider} ${error.operation}: invalid input: ${told.join('; ')}`
}

/** A schema's words for a flag's value: `>=1` on text is "must not be empty", and so on. */
function operatorWords(message: string, value: unknown): string {
  if (typeof value === 'string') {
    if (/^expected >=1$/i.test(message)) return 'must not be empty'
    const atMost = /^expected <=(\d+)$/i.exec(message)
    if (atMost !== null) return `must be at most ${atMost[1]} characters, not ${value.length}`
    const atLeast = /^expected >=(\d+)$/i.exec(message)
    if (atLeast !== null) return `must be at least ${atLeast[1]} characters`
  }
  return /^an? /.test(message) ? `expected ${message}` : message
}

function networkExplained(
  error: NetworkError,
  provider: Provider | undefined,
  env: Io['env'],
): Explained {
  const code = (error.cause as { code?: unknown } | undefined)?.code
  const where = provider && env[provider.baseUrlEnv] ? ` at ${env[provider.baseUrlEnv]}` : ''
  const check =
    provider && env[provider.baseUrlEnv] ? `check ${provider.baseUrlEnv}` : 'check the network'
  const operation = `${error.provider} ${error.operation}`
  const debug = '; run again with --debug for the cause'
  if (code === 'ECONNREFUSED')
    return {
      message: `${operation}: connection refused${where}: nothing is listening there; nothing was sent`,
      hint: `${check}, or start the service`,
      exitCode: EXIT.failure,
    }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return {
      message: `${operation}: the host${where} could not be found (${code}); nothing was sent`,
      hint: `${check} and the DNS`,
      exitCode: EXIT.failure,
    }
  if (typeof code === 'string' && TLS_FAILURE_CODES.has(code))
    return {
      message: `${operation}: the TLS connection${where} was refused (${code}); nothing was sent`,
      hint: `${tlsProblem(code)}; ${check}`,
      exitCode: EXIT.failure,
    }
  if ((error.cause as Error | undefined)?.message.endsWith('bad port'))
    return {
      message: `${operation}: fetch refuses to connect to the port${where} (a "bad port", kept for other protocols); nothing was sent`,
      hint:
        provider && env[provider.baseUrlEnv]
          ? `use another port in ${provider.baseUrlEnv}`
          : 'use another port',
      exitCode: EXIT.failure,
    }
  return {
    message: error.message,
    hint: `${check}${debug}`,
    exitCode: EXIT.failure,
  }
}

/** What a TLS failure code says about the server, for a hint. */
function tlsProblem(code: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH')
    return "the server's certificate is for another host name"
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return "the server's certificate is out of its dates (or this machine's clock is wrong)"
  if (code.startsWith('ERR_SSL_'))
    return 'the server did not complete a TLS handshake (plain http?)'
  return "the server's certificate is not trusted"
}
