import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { ProviderError } from '../errors.js'
import type { DeliveryTarget } from './delivery-target.js'
import { invalidTargetSetting } from './target-kit.js'

/** Settings of `createDotenvTarget`. */
export interface DotenvTargetSettings {
  /** The file; made (with its folder) on the first write. */
  path: string
  /** The variable keyway owns in it: letters, digits and `_`, not starting with a digit. */
  variable: string
  /** The target's name in journals and reports. Default `dotenv:<path>:<variable>`. */
  name?: string
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * A delivery target that keeps a rotated key in one variable of a dotenv file. write: the
 * file is read, the variable's line replaced (or added) and the file replaced at once (a
 * temporary file, then a rename; readable by its owner only), so a reader never sees half a
 * file and every other line stays as it was; propagate: nothing (whoever reads the file picks
 * it up); confirm: the file is read back and must hold the new secret.
 */
export function createDotenvTarget(settings: DotenvTargetSettings): DeliveryTarget {
  const { variable } = settings
  if (typeof settings.path !== 'string' || settings.path.trim() === '') {
    throw invalidTargetSetting('dotenv', 'path', 'a file path')
  }
  if (typeof variable !== 'string' || !VARIABLE.test(variable)) {
    throw invalidTargetSetting(
      'dotenv',
      'variable',
      'letters, digits and _, not starting with a digit',
    )
  }
  const path = resolve(settings.path)
  return {
    name: settings.name ?? `dotenv:${settings.path}:${variable}`,
    description: {
      kind: 'dotenv',
      location: `${settings.path}, variable ${variable}`,
      propagate: 'nothing: whoever reads the file picks the value up',
      confirm: 'reads the file back',
      cannotConfirm: null,
    },
    confirmWithinMs: 10_000,
    async write(created) {
      const lines = await readLines(path)
      const line = `${variable}=${created.secret.reveal()}`
      const index = lines.findIndex((existing) => existing.startsWith(`${variable}=`))
      if (index === -1) lines.push(line)
      else lines[index] = line
      await mkdir(dirname(path), { recursive: true, mode: 0o700 })
      const temporary = `${path}.${process.pid}.${Date.now()}.tmp`
      await writeFile(temporary, `${lines.join('\n')}\n`, { mode: 0o600 })
      await rename(temporary, path)
      return undefined
    },
    async confirm({ created }) {
      const lines = await readLines(path)
      if (!lines.includes(`${variable}=${created.secret.reveal()}`)) {
        throw new ProviderError({
          provider: 'dotenv',
          operation: 'confirm',
          message: `dotenv confirm: ${settings.path} does not hold the new secret in ${variable}`,
        })
      }
    },
  }
}

async function readLines(path: string): Promise<string[]> {
  let text = ''
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error
  }
  return text === '' ? [] : text.replace(/\n$/, '').split('\n')
}
