import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '@keyway/testkit'
import { expect, it, vi } from 'vitest'
import { rotateByPrefix } from './rotate-keys.js'

it('rotates the keys with the prefix, writes their secrets to the dotenv file, and deletes the old keys', async () => {
  const emulator = await startEmulator('openrouter')
  const folder = await mkdtemp(join(tmpdir(), 'keyway-example-'))
  vi.spyOn(console, 'error').mockImplementation(() => {})
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
  } finally {
    await emulator.close()
    await rm(folder, { recursive: true, force: true })
  }
})
