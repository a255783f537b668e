import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startEmulator } from '@keyway/testkit'
import { expect, it, vi } from 'vitest'
import { DEFAULT_ENV_FILE, DEFAULT_JOURNAL_FILE, rotateByPrefix } from './rotate-keys.js'

const run = promisify(execFile)
const exampleFolder = fileURLToPath(new URL('..', import.meta.url))
const git = (...args: string[]) => run('git', args, { cwd: exampleFolder })
const insideGit = await git('rev-parse', '--is-inside-work-tree').then(
  () => true,
  () => false,
)
/** Files git would show as new or changed in this example's folder. */
const gitStatus = async () =>
  insideGit ? (await git('status', '--porcelain', '--untracked-files=all', '.')).stdout : ''

it('rotates the keys with the prefix, writes their secrets to the dotenv file, and deletes the old keys', async () => {
  const emulator = await startEmulator('openrouter')
  const folder = await mkdtemp(join(tmpdir(), 'keyway-example-'))
  vi.spyOn(console, 'error').mockImplementation(() => {})
  const statusBefore = await gitStatus()
  try {
    const ci = [
      emulator.control.seedKey({ name: 'ci-deploy' }),
      emulator.control.seedKey({ name: 'ci-tests' }),
    ]
    const other = emulator.control.seedKey({ name: 'laptop' })
    const envFile = join(folder, '.env')
    const result = await rotateByPrefix({
      prefix: 'ci-',
      envFile,
      journalFile: join(folder, 'journal.json'),
      batchId: 'test',
      settings: { ...emulator.settings },
    })
    expect(result).toMatchObject({ rotated: 2, failed: 0 })
    const lines = (await readFile(envFile, 'utf8')).trim().split('\n').sort()
    expect(lines.map((line) => line.split('=')[0])).toEqual([
      'OPENROUTER_CI_DEPLOY',
      'OPENROUTER_CI_TESTS',
    ])
    for (const line of lines)
      expect(emulator.control.works(line.split('=')[1] as string)).toBe(true)
    expect(ci.map((key) => emulator.control.works(key.secret))).toEqual([false, false])
    expect(emulator.control.works(other.secret)).toBe(true)

    // Run again the same day: the batch is finished, so nothing is written.
    const writes = () => emulator.requests.filter((request) => request.method !== 'GET').length
    const sent = writes()
    const again = await rotateByPrefix({
      prefix: 'ci-',
      envFile,
      journalFile: join(folder, 'journal.json'),
      batchId: 'test',
      settings: { ...emulator.settings },
    })
    expect(again).toMatchObject({ rotated: 2, failed: 0, resumed: true })
    expect(writes()).toBe(sent)
    // Nothing new for git in the example's folder: the secrets went to the temporary folder.
    expect(await gitStatus()).toBe(statusBefore)
  } finally {
    await emulator.close()
    await rm(folder, { recursive: true, force: true })
  }
})

it.skipIf(!insideGit)(
  'a run by hand writes its secrets and journal to paths git ignores',
  async () => {
    for (const file of [DEFAULT_ENV_FILE, DEFAULT_JOURNAL_FILE]) {
      // Exit code 0: ignored. Without the example's .gitignore entry this fails.
      await expect(git('check-ignore', '--quiet', '--no-index', file)).resolves.toBeDefined()
    }
  },
)

it('run as a script, writes the secrets and journal to the default paths, owner-only', async () => {
  const emulator = await startEmulator('openrouter')
  // The script's paths are relative to where it runs: here a temporary folder, so the test
  // never touches the secrets of a run by hand in the example's folder.
  const folder = await mkdtemp(join(tmpdir(), 'keyway-example-script-'))
  try {
    const key = emulator.control.seedKey({ name: 'ci-deploy' })
    const tsx = join(exampleFolder, 'node_modules', '.bin', 'tsx')
    const { stdout } = await run(tsx, [join(exampleFolder, 'src', 'rotate-keys.ts')], {
      cwd: folder,
      env: {
        ...process.env,
        OPENROUTER_BASE_URL: emulator.settings.baseUrl,
        OPENROUTER_MANAGEMENT_KEY: emulator.settings.managementKey,
        KEY_PREFIX: 'ci-',
        GRACE_MS: '0',
      },
    })
    expect(stdout).toContain('1 rotated, 0 failed')
    expect(emulator.control.works(key.secret)).toBe(false)
    const line = (await readFile(join(folder, DEFAULT_ENV_FILE), 'utf8')).trim()
    expect(line.startsWith('OPENROUTER_CI_DEPLOY=')).toBe(true)
    expect(emulator.control.works(line.split('=')[1] as string)).toBe(true)
    const journal = await readFile(join(folder, DEFAULT_JOURNAL_FILE), 'utf8')
    expect(journal).not.toContain(line.split('=')[1])
    expect((await stat(join(folder, DEFAULT_ENV_FILE))).mode & 0o777).toBe(0o600)
    expect((await stat(join(folder, '.secrets'))).mode & 0o777).toBe(0o700)
  } finally {
    await emulator.close()
    await rm(folder, { recursive: true, force: true })
  }
})
