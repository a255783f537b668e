import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, isAbsolute, join } from 'node:path'
import { promisify } from 'node:util'
import { PROVIDERS } from '@keyway/cli'
import { describe, expect, it } from 'vitest'
import { libraryPackages, packagesFolder, publishedPackages } from './workspace-packages.js'

const run = promisify(execFile)

/** pnpm itself when the test runs under it (as the test command does), else through npx. */
function pnpm(): { command: string; prefix: string[] } {
  const script = process.env.npm_execpath
  if (script !== undefined && /pnpm/.test(script)) {
    return { command: process.execPath, prefix: [script] }
  }
  return { command: 'npx', prefix: ['--yes', 'pnpm@10.34.8'] }
}

/** What `pnpm pack` would put in the package's tarball. */
async function packedFiles(name: string): Promise<string[]> {
  const { command, prefix } = pnpm()
  const { stdout } = await run(command, [...prefix, 'pack', '--dry-run', '--json'], {
    cwd: `${packagesFolder}${name}`,
  })
  const report = JSON.parse(stdout) as { files: Array<{ path: string }> }
  return report.files.map((file) => file.path).sort()
}

/** The manifest as published: what `pnpm pack` writes into the tarball. */
async function packedManifest(name: string): Promise<{
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}> {
  const { command, prefix } = pnpm()
  const into = await mkdtemp(join(tmpdir(), 'keyway-pack-'))
  try {
    const { stdout } = await run(
      command,
      [...prefix, 'pack', '--json', '--pack-destination', into],
      {
        cwd: `${packagesFolder}${name}`,
      },
    )
    const { filename } = JSON.parse(stdout) as { filename: string }
    const tarball = isAbsolute(filename) ? filename : join(into, basename(filename))
    const manifest = await run('tar', ['-xOzf', tarball, 'package/package.json'])
    return JSON.parse(manifest.stdout)
  } finally {
    await rm(into, { recursive: true, force: true })
  }
}

// The files of a library package, ESM and CommonJS with types.
const library = [
  'LICENSE',
  'README.md',
  'dist/index.cjs',
  'dist/index.cjs.map',
  'dist/index.d.cts',
  'dist/index.d.ts',
  'dist/index.js',
  'dist/index.js.map',
  'package.json',
]

describe('published tarballs', () => {
  it('finds every published package in the workspace, each vendor of the registry a library', () => {
    expect(publishedPackages).toEqual(expect.arrayContaining(['cli', 'core', 'dbos', 'testkit']))
    expect(libraryPackages).toEqual(expect.arrayContaining([...Object.keys(PROVIDERS), 'dbos']))
    expect(libraryPackages).not.toContain('core')
    expect(libraryPackages).not.toContain('cli')
  })

  it.each(libraryPackages)(
    '@keyway/%s holds its build, README, LICENSE and package.json, and nothing else',
    async (name) => {
      expect(await packedFiles(name)).toEqual(library)
    },
  )

  it.each(publishedPackages)(
    '@keyway/%s depends on caret ranges, so users share one copy of each dependency',
    async (name) => {
      const { dependencies = {} } = await packedManifest(name)
      expect(Object.keys(dependencies).length).toBeGreaterThan(0)
      const notCaret = Object.entries(dependencies).filter(
        ([, range]) => !/^\^\d+\.\d+\.\d+$/.test(range),
      )
      expect(notCaret).toEqual([])
    },
  )

  it('@keyway/core holds its two entries, one ESM file per module, and nothing from its tests', async () => {
    const files = await packedFiles('core')
    expect(files).toEqual(
      expect.arrayContaining([
        ...library,
        'dist/adapter.cjs',
        'dist/adapter.d.cts',
        'dist/adapter.d.ts',
        'dist/adapter.js',
        'dist/rotation/rotate-key.js',
      ]),
    )
    expect(files.filter((file) => !file.startsWith('dist/'))).toEqual([
      'LICENSE',
      'README.md',
      'package.json',
    ])
    expect(files.filter((file) => /test|fixture/.test(file))).toEqual([])
  })

  it('@keyway/testkit also holds its conformance entry', async () => {
    const files = await packedFiles('testkit')
    expect(files).toEqual(
      expect.arrayContaining([...library, 'dist/conformance.js', 'dist/conformance.d.ts']),
    )
    expect(files.filter((file) => !file.startsWith('dist/'))).toEqual([
      'LICENSE',
      'README.md',
      'package.json',
    ])
  })

  it('@keyway/cli holds its command, README, LICENSE, package.json and the config schema', async () => {
    const files = await packedFiles('cli')
    expect(files).toEqual(
      expect.arrayContaining(['dist/cli.js', 'dist/index.js', 'dist/index.d.ts']),
    )
    expect(files.filter((file) => !file.startsWith('dist/'))).toEqual([
      'LICENSE',
      'README.md',
      'bin/keyway.js',
      'keyway.config.schema.json',
      'package.json',
    ])
    expect(files.some((file) => file.includes('.test.'))).toBe(false)
  })
})
