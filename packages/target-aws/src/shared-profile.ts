import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ValidationError } from '@keyway/core/adapter'

/** Static credentials read from a shared profile. */
export interface ProfileCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Where a profile is read from; each defaults as the AWS CLI's does. */
export interface SharedProfileOptions {
  /** Default: `AWS_PROFILE`, else `default`. */
  profile?: string
  /** Default: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`. */
  credentialsFile?: string
  /** Default: `AWS_CONFIG_FILE`, else `~/.aws/config`. */
  configFile?: string
  env?: Record<string, string | undefined>
}

/** Settings that make a profile get its credentials some other way than static keys. */
const OTHER_PROVIDERS: ReadonlyArray<[string, string]> = [
  ['sso_session', 'IAM Identity Center (SSO)'],
  ['sso_start_url', 'IAM Identity Center (SSO)'],
  ['credential_process', 'a credential process'],
  ['role_arn', 'an assumed role'],
  ['web_identity_token_file', 'a web identity token'],
  ['login_session', 'a console login session'],
]

/**
 * The static keys of a shared profile (`aws_access_key_id`, `aws_secret_access_key`,
 * `aws_session_token`), from the credentials file or else the config file, as the AWS CLI reads
 * them. A profile that gets its credentials from SSO, a credential process or an assumed role
 * is refused with a `ValidationError` that says how to export static ones; so is a profile
 * named (by `profile` or `AWS_PROFILE`) that neither file holds. `undefined`: no profile named
 * and no `default` profile.
 */
export function readProfileCredentials(
  options: SharedProfileOptions = {},
): ProfileCredentials | undefined {
  const env = options.env ?? process.env
  const named = options.profile ?? (env.AWS_PROFILE || undefined)
  const profile = named ?? 'default'
  const credentialsFile =
    options.credentialsFile ??
    (env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials'))
  const configFile =
    options.configFile ?? (env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'))
  // The credentials file names sections by the profile; the config file as `profile <name>`.
  const fromCredentials = readIni(credentialsFile)?.get(profile)
  const config = readIni(configFile)
  const fromConfig = config?.get(profile === 'default' ? 'default' : `profile ${profile}`)
  const sections = [fromCredentials, fromConfig].filter((section) => section !== undefined)
  if (sections.length === 0) {
    if (named === undefined) return undefined
    throw refuse(
      `profile "${profile}" is not in ${credentialsFile} or ${configFile}`,
      'name a profile those files hold, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    )
  }
  const value = (key: string) =>
    sections.map((section) => section.get(key)).find((found) => found !== undefined && found !== '')
  const accessKeyId = value('aws_access_key_id')
  const secretAccessKey = value('aws_secret_access_key')
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    const other = OTHER_PROVIDERS.find(([key]) => sections.some((section) => section.has(key)))
    throw refuse(
      other === undefined
        ? `profile "${profile}" has no aws_access_key_id and aws_secret_access_key`
        : `profile "${profile}" gets its credentials from ${other[1]} (${other[0]}), which keyway does not run; it reads static keys only`,
      `export static ones, e.g. eval "$(aws configure export-credentials --profile ${profile} --format env)"`,
    )
  }
  const sessionToken = value('aws_session_token')
  return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }
}

function refuse(problem: string, hint: string): ValidationError {
  return new ValidationError({
    provider: 'aws',
    operation: 'configure',
    message: `aws target: ${problem}: ${hint}`,
    issues: [{ path: 'profile', message: problem }],
  })
}

/**
 * The sections of an AWS shared file, `undefined` when it does not exist: `[name]` headers and
 * `key = value` lines; comments (`#`, `;`) and the indented sub-settings some services use are
 * passed over.
 */
function readIni(path: string): Map<string, Map<string, string>> | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined
    throw refuse(
      `${path} cannot be read (${(error as { code?: string }).code ?? 'error'})`,
      'check its permissions',
    )
  }
  const sections = new Map<string, Map<string, string>>()
  let current: Map<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s/.test(raw)) continue
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (header !== null) {
      const name = (header[1] as string).replace(/\s+/g, ' ')
      current = sections.get(name) ?? new Map()
      sections.set(name, current)
      continue
    }
    const at = line.indexOf('=')
    if (current === undefined || at === -1) continue
    current.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim())
  }
  return sections
}
