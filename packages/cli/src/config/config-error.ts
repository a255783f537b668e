import type * as v from 'valibot'
import { EXIT, type ExitCode } from '../exit-codes.js'
import { UsageError } from '../usage-error.js'

/**
 * A config file that cannot be used: one line naming the file and the path in it. Exit code 1
 * (as gh has usage errors), or 4 when what is missing is a store's credential.
 */
export class ConfigError extends UsageError {
  constructor(
    file: string,
    path: string,
    message: string,
    hint?: string,
    exitCode: ExitCode = EXIT.failure,
  ) {
    super(`${file}: ${path === '' ? '' : `${path}: `}${message}`, hint, exitCode)
    this.name = 'ConfigError'
  }
}

/** `stores[1].credentials.managementKey`, from a valibot issue's path. */
export function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = ''
  for (const item of issue.path ?? []) {
    const key = item.key as unknown
    path += typeof key === 'number' ? `[${key}]` : path === '' ? String(key) : `.${String(key)}`
  }
  return path
}

/** Issue types whose message is written here; valibot's own wording would quote the value. */
const OWN = new Set(['check', 'raw_check', 'regex', 'min_length', 'integer', 'min_value'])

/** What was wrong, in words that never quote the value (it may be a pasted secret). */
export function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (OWN.has(issue.type) && !issue.message.startsWith('Invalid ')) return issue.message
  if (issue.type === 'strict_object' && issue.expected === 'never') return 'unknown field'
  if (issue.type === 'variant') return issue.message
  if (issue.input === undefined) return `required: expected ${issue.expected ?? 'a value'}`
  return `expected ${issue.expected ?? 'something else'}`
}
