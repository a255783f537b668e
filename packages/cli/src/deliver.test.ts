import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ApiKey, type CreatedKey, Secret } from '@keyway/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deliveryTarget, sharedVariables } from './deliver.js'

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

describe('one variable template for --var-name and a config store', () => {
  it('puts {ID} in the name so keys of one name do not clash, and {LABEL} only for a store', async () => {
    const file = join(folder, 'keys.env')
    const deliver = deliveryTarget(file, {}, { varName: '{LABEL}_{NAME}_{ID}', label: 'prod' })
    await deliver(created('id-1', 'ci-deploy', 'fake-secret-one'))
    await deliver(created('id-2', 'ci_deploy', 'fake-secret-two'))
    expect(await readFile(file, 'utf8')).toBe(
      'PROD_CI_DEPLOY_ID_1=fake-secret-one\nPROD_CI_DEPLOY_ID_2=fake-secret-two\n',
    )
    expect(() => deliveryTarget(file, {}, { varName: 'KEY_{LABEL}' })).toThrow(
      '--var-name has an unknown placeholder {LABEL}',
    )
  })

  it('finds the variables a plan’s keys would share, before anything is written', () => {
    const keys = [
      { provider: 'openrouter', id: 'id-1', name: 'ci-deploy' },
      { provider: 'openrouter', id: 'id-2', name: 'ci_deploy' },
      { provider: 'openrouter', id: 'id-3', name: null },
    ]
    expect(sharedVariables(keys)).toEqual([['OPENROUTER_CI_DEPLOY', ['id-1', 'id-2']]])
    expect(sharedVariables(keys, 'OPENROUTER_{ID}')).toEqual([])
  })

  it('gives an exec: command the variable as KEYWAY_VAR_NAME, in its folder, with extra env', async () => {
    const deliver = deliveryTarget(
      'exec:printf "%s %s " "$KEYWAY_VAR_NAME" "$KEYWAY_STORE" > out.txt; cat >> out.txt',
      { PATH: process.env.PATH },
      { varName: 'LLM_{NAME}', env: { KEYWAY_STORE: 'prod' }, cwd: folder },
    )
    await deliver(created('id-1', 'web', 'fake-secret-one'))
    expect(await readFile(join(folder, 'out.txt'), 'utf8')).toBe('LLM_WEB prod fake-secret-one\n')
  })
})
