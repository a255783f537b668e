import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import * as v from 'valibot'
import { ConfigError, issueMessage, issuePath } from './config-error.js'
import { configSchema, type FleetConfig } from './config-schema.js'

/** The file `keyway audit`, `plan` and `apply` read when no other is named. */
export const CONFIG_FILE = 'keyway.config.json'

/** A config as read: its content, and where it is (relative paths in it resolve from there). */
export interface LoadedConfig {
  config: FleetConfig
  /** The path as shown in messages. */
  file: string
  /** The folder the file is in, absolute. */
  folder: string
}

/** Reads, parses and checks a config file; every problem is a `ConfigError` naming the path in it. */
export async function loadConfig(path: string, cwd: string): Promise<LoadedConfig> {
  const absolute = resolve(cwd, path)
  // Named as the operator wrote it: relative below the working folder, absolute above it.
  const below = relative(cwd, absolute)
  const file = below === '' || below.startsWith('..') || isAbsolute(below) ? path : below
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (error) {
    const code = (error as { code?: string }).code
    throw new ConfigError(
      file,
      '',
      code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? 'unknown error'})`,
      code === 'ENOENT'
        ? `create ${CONFIG_FILE} here, or pass --config <path> (or set KEYWAY_CONFIG)`
        : undefined,
    )
  }
  return { config: parseConfig(text, file), file, folder: dirname(absolute) }
}

/** Parses and checks the text of a config file; `file` names it in errors. */
export function parseConfig(text: string, file: string): FleetConfig {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(file, '', `is not valid JSON (${position(text, error)})`)
  }
  const parsed = v.safeParse(configSchema, data)
  if (parsed.success) return parsed.output
  const [first, ...rest] = parsed.issues
  const issue = first as v.BaseIssue<unknown>
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more)`
  throw new ConfigError(file, issuePath(issue), `${issueMessage(issue)}${more}`)
}

/**
 * Line and column of a JSON syntax error, without quoting the text (it may hold a secret, and
 * Node's message quotes it): the shortest prefix that fails other than by ending too soon.
 */
function position(text: string, _error: unknown): string {
  const failsInside = (length: number) => {
    try {
      JSON.parse(text.slice(0, length))
      return false
    } catch (error) {
      const message = (error as Error).message
      if (/end of JSON input|Unterminated/.test(message)) return false
      const at = /at position (\d+)/.exec(message)
      return at === null || Number(at[1]) < length
    }
  }
  let low = 0
  let high = text.length
  if (!failsInside(high)) return 'it ends too soon'
  while (low < high) {
    const middle = Math.floor((low + high) / 2)
    if (failsInside(middle)) high = middle
    else low = middle + 1
  }
  const before = text.slice(0, low - 1).split('\n')
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`
}
