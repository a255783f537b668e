import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The workspace's `packages/` folder. */
export const packagesFolder = fileURLToPath(new URL('../../../packages/', import.meta.url))

interface Manifest {
  name: string
  private?: boolean
  bin?: unknown
  exports?: Record<string, unknown>
}

function manifest(folder: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(`${packagesFolder}${folder}/package.json`, 'utf8')) as Manifest
  } catch {
    return undefined
  }
}

/** The folder names of every published package, read from `packages/`, in name order. */
export const publishedPackages: readonly string[] = readdirSync(packagesFolder)
  .filter((folder) => {
    const found = manifest(folder)
    return found !== undefined && found.private !== true
  })
  .sort()

/** The published packages with one entry point and no command: each adapter, target, dbos. */
export const libraryPackages: readonly string[] = publishedPackages.filter((folder) => {
  const { bin, exports = {} } = manifest(folder) as Manifest
  const entries = Object.keys(exports).filter((entry) => entry !== './package.json')
  return bin === undefined && entries.length === 1 && entries[0] === '.'
})

/** A package's built ESM entry, by its folder. */
export function entryOf(folder: string): string {
  return `${packagesFolder}${folder}/dist/index.js`
}
