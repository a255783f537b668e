import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { apiKey } from '../fleet/api-key.test-support.js'
import { Secret } from '../secret.js'
import type { CreatedKey } from '../types.js'
import { createCommandTarget } from './command-target.js'
import type { TargetConfirmContext } from './delivery-target.js'
import { createDotenvTarget } from './dotenv-target.js'

let folder: string
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'keyway-targets-'))
})
afterEach(async () => {
  await rm(folder, { recursive: true, force: true })
})

function created(value: string): CreatedKey {
  return { key: apiKey({ id: 'k2', name: 'ci' }), secret: new Secret(value) }
}

function context(value: string): TargetConfirmContext {
  return {
    rotationId: 'r1',
    provider: 'memory',
    oldKeyId: 'k1',
    newKeyId: 'k2',
    writeToken: 't',
    receipt: {},
    deadline: Date.now() + 1000,
    created: created(value),
  }
}

describe('dotenv target', () => {
  it('replaces its one variable, keeps every other line, and confirms by reading the file back', async () => {
    const path = join(folder, 'app.env')
    await writeFile(
      path,
      'DATABASE_URL=postgres://untouched\nAPI_KEY=old-secret-value\n# comment\n',
    )
    const target = createDotenvTarget({ path, variable: 'API_KEY' })
    expect(target.description).toMatchObject({ kind: 'dotenv', cannotConfirm: null })
    await target.write(created('new-secret-value'), context('new-secret-value'))
    await target.write(created('new-secret-value'), context('new-secret-value'))
    expect(await readFile(path, 'utf8')).toBe(
      'DATABASE_URL=postgres://untouched\nAPI_KEY=new-secret-value\n# comment\n',
    )
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    await target.confirm(context('new-secret-value'))
    await expect(target.confirm(context('another-secret'))).rejects.toThrow(
      'does not hold the new secret in API_KEY',
    )
  })

  it('makes the file and its folder on the first write; refuses a bad variable before touching anything', async () => {
    const path = join(folder, '.secrets', 'app.env')
    await createDotenvTarget({ path, variable: 'API_KEY' }).write(
      created('first-secret'),
      context('first-secret'),
    )
    expect(await readFile(path, 'utf8')).toBe('API_KEY=first-secret\n')
    expect(() => createDotenvTarget({ path, variable: '1BAD' })).toThrow(
      expect.objectContaining({ name: 'ValidationError' }),
    )
  })
})

describe('exec target', () => {
  it('pipes the secret to the command, with the key named in its env; a non-zero exit is a failure without the secret', async () => {
    const out = join(folder, 'out.txt')
    const target = createCommandTarget({
      command: `cat > "${out}"; echo "$KEYWAY_KEY_ID" >> "${out}"`,
    })
    await target.write(created('piped-secret'), context('piped-secret'))
    expect(await readFile(out, 'utf8')).toBe('piped-secret\nk2\n')
    const failing = createCommandTarget({ command: 'cat > /dev/null; exit 3' })
    const error = await failing
      .write(created('piped-secret'), context('piped-secret'))
      .catch((caught: Error) => caught)
    expect(error).toMatchObject({
      name: 'ProviderError',
      message: 'the delivery command exited with code 3',
    })
    expect(JSON.stringify(error)).not.toContain('piped-secret')
  })
})
