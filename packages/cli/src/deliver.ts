import { spawn } from 'node:child_process'
import { readFile, rename, writeFile } from 'node:fs/promises'
import type { CreatedKey } from '@keyway/core'
import { UsageError } from './usage-error.js'

export type Deliver = (created: CreatedKey) => Promise<void>

/**
 * Where `--deliver-to` sends each new secret: `exec:<command>` pipes it to a command's
 * stdin (with KEYWAY_PROVIDER, KEYWAY_KEY_ID, KEYWAY_KEY_NAME and KEYWAY_VAR_NAME set);
 * anything else is a dotenv file, where the key's variable (named by the `varName`
 * template) is replaced or added.
 */
export function deliveryTarget(
  target: string,
  env: Record<string, string | undefined>,
  varName: string = DEFAULT_VAR_NAME,
): Deliver {
  if (target.startsWith('exec:')) {
    const command = target.slice('exec:'.length).trim()
    if (command === '') throw new UsageError('--deliver-to exec: needs a command')
    checkVarName(varName)
    return (created) => pipeToCommand(command, created, env, envName(created, varName))
  }
  if (target.trim() === '') throw new UsageError('--deliver-to needs a file or exec:<command>')
  checkVarName(varName)
  // One file, many keys: writes go one at a time, and no two keys share a variable.
  const owners = new Map<string, string>()
  let queue: Promise<void> = Promise.resolve()
  return (created) => {
    const name = envName(created, varName)
    const owner = owners.get(name)
    if (owner !== undefined && owner !== created.key.id)
      return Promise.reject(
        new UsageError(
          `keys ${owner} and ${created.key.id} would both be stored as ${name}`,
          'put {ID} in --var-name',
        ),
      )
    owners.set(name, created.key.id)
    const next = queue.then(() => writeDotenv(target, name, created.secret.reveal()))
    queue = next.catch(() => {})
    return next
  }
}

/** The default `--var-name`: `OPENROUTER_CI_DEPLOY` for OpenRouter's key "ci-deploy". */
export const DEFAULT_VAR_NAME = '{PROVIDER}_{NAME}'

const PLACEHOLDER = /\{([A-Z]+)\}/g
const PLACEHOLDERS = ['PROVIDER', 'NAME', 'ID']

/** Refuses a template with an unknown placeholder or characters no variable name has. */
function checkVarName(template: string): void {
  for (const [, placeholder] of template.matchAll(PLACEHOLDER))
    if (!PLACEHOLDERS.includes(placeholder as string))
      throw new UsageError(
        `--var-name has an unknown placeholder {${placeholder}}`,
        'use {PROVIDER}, {NAME} (the key name, or its id without one) and {ID}',
      )
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(template.replace(PLACEHOLDER, 'X')))
    throw new UsageError(
      `--var-name "${template}" does not make a variable name`,
      'letters, digits and _ around {PROVIDER}, {NAME} and {ID}, e.g. OPENROUTER_{NAME}',
    )
}

/**
 * The variable a key's secret is stored under: the template with each placeholder replaced
 * by the value in upper snake case (`{NAME}` falls back to the id for a key without a name).
 */
export function envName(created: CreatedKey, template: string = DEFAULT_VAR_NAME): string {
  const values: Record<string, string> = {
    PROVIDER: created.key.provider,
    NAME: created.key.name ?? created.key.id,
    ID: created.key.id,
  }
  return template.replace(PLACEHOLDER, (_, placeholder: string) =>
    (values[placeholder] ?? '')
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .replace(/^_+|_+$/g, ''),
  )
}

async function writeDotenv(path: string, name: string, value: string): Promise<void> {
  let text = ''
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error
  }
  const line = `${name}=${value}`
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n')
  const index = lines.findIndex((existing) => existing.startsWith(`${name}=`))
  if (index === -1) lines.push(line)
  else lines[index] = line
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${lines.join('\n')}\n`, { mode: 0o600 })
  await rename(temporary, path)
}

function pipeToCommand(
  command: string,
  created: CreatedKey,
  env: Record<string, string | undefined>,
  varName: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      stdio: ['pipe', 'ignore', 'inherit'],
      env: {
        ...env,
        KEYWAY_PROVIDER: created.key.provider,
        KEYWAY_KEY_ID: created.key.id,
        KEYWAY_KEY_NAME: created.key.name ?? '',
        KEYWAY_VAR_NAME: varName,
      },
    })
    child.on('error', () => reject(new Error('the delivery command could not be started')))
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`the delivery command exited with code ${code}`)),
    )
    child.stdin.on('error', () => {})
    child.stdin.end(`${created.secret.reveal()}\n`)
  })
}
