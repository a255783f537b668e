import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { DEFAULT_KEY_FILE, DEMO_KEY_FILE } from './key-file-paths.js'

const run = promisify(execFile)
const exampleFolder = fileURLToPath(new URL('..', import.meta.url))
const git = (...args: string[]) => run('git', args, { cwd: exampleFolder })
const insideGit = await git('rev-parse', '--is-inside-work-tree').then(
  () => true,
  () => false,
)

it.skipIf(!insideGit)('the key files the service and the demo use are ignored by git', async () => {
  for (const file of [DEFAULT_KEY_FILE, DEMO_KEY_FILE]) {
    // Exit code 0: ignored. Without the example's .gitignore entry this fails.
    await expect(git('check-ignore', '--quiet', '--no-index', file)).resolves.toBeDefined()
  }
})
