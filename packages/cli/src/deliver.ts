import { spawn } from 'node:child_process'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { CreatedKey } from '@keyway/core'
import { UsageError } from './usage-error.js'

export type Deliver = (created: CreatedKey) => Promise<void>

/** How a delivery target names and runs things; every field has a default. */
export interface DeliveryOptions {
  /** The variable a key's secret is stored under. Default `envName`. */
  variable?: (created: CreatedKey) => string
  /** Extra env vars for an `exec:` command. */
  env?: Record<string, string>
  /** Folder an `exec:` command runs in. Default: the current one. */
  cwd?: string
}

/**
 * Where `--deliver-to` sends each new secret: `exec:<command>` pipes it to a command's
 * stdin (with KEYWAY_PROVIDER, KEYWAY_KEY_ID, KEYWAY_KEY_NAME and KEYWAY_VARIABLE set);
 * anything else is a dotenv file, where the key's variable is replaced or added.
 */
export function deliveryTarget(
  target: string,
  env: Record<string, string | undefined>,
  options: DeliveryOptions = {},
): Deliver {
  const variable = options.variable ?? envName
  if (target.startsWith('exec:')) {
    const command = target.slice('exec:'.length).trim()
    if (command === '') throw new UsageError('--deliver-to exec: needs a command')
    return (created) =>
      pipeToCommand(
        command,
        created,
        { ...env, ...options.env, KEYWAY_VARIABLE: variable(created) },
        options.cwd,
      )
  }
  if (target.trim() === '') throw new UsageError('--deliver-to needs a file or exec:<command>')
  // One file, many keys: writes go one at a time.
  let queue: Promise<void> = Promise.resolve()
  // Which key each variable holds, as written by this run: names are not unique at a vendor,
  // and a second key written over the first would lose the first one's new secret while its
  // old key is retired.
  const writtenBy = new Map<string, string>()
  return (created) => {
    const name = variable(created)
    const holder = writtenBy.get(name)
    if (holder !== undefined && holder !== created.key.id) {
      return Promise.reject(
        new Error(
          `${name} in ${target} already holds the new secret of key ${holder}: key ${created.key.id} was not written over it (give the keys distinct names, or rotate them one at a time)`,
        ),
      )
    }
    writtenBy.set(name, created.key.id)
    const next = queue.then(() => writeDotenv(target, name, created.secret.reveal()))
    queue = next.catch(() => {})
    return next
  }
}

/** The variable a key's secret is stored under: `<PROVIDER>_<NAME or ID>`, upper snake case. */
export function envName(created: CreatedKey): string {
  return envNameOf(created.key.provider, created.key.name ?? created.key.id)
}

/** The dotenv variable of a key of `provider` named (or, without a name, identified) `label`. */
export function envNameOf(provider: string, label: string): string {
  return `${provider}_${label}`
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
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
  // A git-ignored folder of its own (`.secrets/`) need not exist before the first delivery.
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${lines.join('\n')}\n`, { mode: 0o600 })
  await rename(temporary, path)
}

function pipeToCommand(
  command: string,
  created: CreatedKey,
  env: Record<string, string | undefined>,
  cwd: string | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      cwd,
      stdio: ['pipe', 'ignore', 'inherit'],
      env: {
        ...env,
        KEYWAY_PROVIDER: created.key.provider,
        KEYWAY_KEY_ID: created.key.id,
        KEYWAY_KEY_NAME: created.key.name ?? '',
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
