import { readFile, rename, writeFile } from 'node:fs/promises'

/** The value of `name` in dotenv text (`NAME=value` lines), or `undefined` when absent. */
export function readVariable(text: string, name: string): string | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}=`)) return line.slice(name.length + 1).trim()
  }
  return undefined
}

/**
 * Sets `name=value` in a dotenv file, keeping its other lines. The file is written beside
 * its final place and renamed over it, so a reader sees the old file or the new one, never
 * half of one. Readable by its owner only.
 */
export async function writeVariable(path: string, name: string, value: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch((error: { code?: string }) => {
    if (error.code === 'ENOENT') return ''
    throw error
  })
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith(`${name}=`))
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${[...lines, `${name}=${value}`].join('\n')}\n`, { mode: 0o600 })
  await rename(temporary, path)
}
