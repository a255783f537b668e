import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ApiKey, type CreatedKey, Secret } from '@keyway/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deliveryTarget } from './deliver.js'

let folder: string
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'keyway-deliver-'))
})
afterEach(async () => {
  await rm(folder, { recursive: true, force: true })
})

const created = (id: string, name: string | null, secret: string): CreatedKey => ({
  key: { provider: 'openrouter', id, name } as ApiKey,
  secret: new Secret(secret),
})

describe('dotenv delivery', () => {
  it('never writes one key’s new secret over another’s: the second delivery fails instead', async () => {
    const file = join(folder, 'keys.env')
    const deliver = deliveryTarget(file, {})
    await deliver(created('id-1', 'ci-deploy', 'fake-secret-one'))
    const error = await deliver(created('id-2', 'ci_deploy', 'fake-secret-two')).catch(
      (thrown: unknown) => thrown,
    )
    expect((error as Error).message).toContain('OPENROUTER_CI_DEPLOY')
    expect((error as Error).message).not.toContain('fake-secret')
    expect(await readFile(file, 'utf8')).toBe('OPENROUTER_CI_DEPLOY=fake-secret-one\n')
  })

  it('writes the same key again (a resumed delivery) and keys of distinct names side by side', async () => {
    const file = join(folder, 'keys.env')
    const deliver = deliveryTarget(file, {})
    await deliver(created('id-1', 'web', 'fake-secret-one'))
    await deliver(created('id-1', 'web', 'fake-secret-again'))
    await deliver(created('id-2', 'worker', 'fake-secret-two'))
    expect(await readFile(file, 'utf8')).toBe(
      'OPENROUTER_WEB=fake-secret-again\nOPENROUTER_WORKER=fake-secret-two\n',
    )
  })
})
