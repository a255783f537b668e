import type { DeliveryTarget, KeyStoreError } from '@keyway/core'
import { startVercelEmulator, targetTestKit, targetUnderTest } from '@keyway/testkit'
import { expectNoSecret, useEmulator } from '@keyway/testkit/conformance'
import { describe, expect, it } from 'vitest'
import { createVercelEnvTarget } from './vercel-env-target.js'

const vercel = useEmulator(startVercelEmulator)
const {
  created,
  context,
  writeError,
  secret: NEW_SECRET,
} = targetTestKit({ target: 'vercel', secret: 'sk-new-fedcba9876543210fedcba9876543210' })

const target = targetUnderTest(createVercelEnvTarget, vercel, {
  project: 'web',
  key: 'API_KEY',
  confirmIntervalMs: 5,
})

/** Write, propagate and confirm, as a rotation does. */
async function deliver(delivery: DeliveryTarget, deadlineMs = 10_000) {
  let receipt = (await delivery.write(created(), context())) ?? {}
  receipt = { ...receipt, ...((await delivery.propagate?.(context(receipt))) ?? {}) }
  await delivery.confirm(context(receipt, { deadlineMs }))
  return receipt
}

describe('Vercel environment variable target', () => {
  it('upserts one sensitive variable for production and confirms it; nothing else changes', async () => {
    vercel.control.seedEnv('web', {
      key: 'DATABASE_URL',
      value: 'postgres://untouched',
      target: ['production'],
    })
    vercel.control.seedEnv('web', {
      key: 'API_KEY',
      value: 'old-value',
      type: 'sensitive',
      target: ['production'],
    })
    const delivery = target()
    expect(delivery).toMatchObject({
      name: 'vercel:web:API_KEY',
      description: {
        kind: 'vercel',
        propagate: 'nothing: the next deployment picks the value up',
        cannotConfirm: expect.stringContaining('only new deployments see a changed variable'),
      },
    })
    const receipt = await deliver(delivery)
    const env = vercel.control.env('web')
    expect(
      env.map((variable) => [variable.key, variable.value, variable.type, variable.target]),
    ).toEqual([
      ['DATABASE_URL', 'postgres://untouched', 'encrypted', ['production']],
      ['API_KEY', NEW_SECRET, 'sensitive', ['production']],
    ])
    expect(receipt).toEqual({ envId: env[1]?.id, updatedAt: env[1]?.updatedAt })
    const post = vercel.requests.find((request) => request.method === 'POST')
    expect(post?.path).toBe(`/v10/projects/web/env?upsert=true&teamId=${vercel.settings.teamId}`)
    expect(post?.body).toEqual({
      key: 'API_KEY',
      value: NEW_SECRET,
      type: 'sensitive',
      target: ['production'],
    })
    expect(post?.headers.authorization).toBe('[REDACTED]')
    // No deployment without redeploy.
    expect(vercel.control.deployments('web')).toHaveLength(1)
  })

  it('with redeploy, starts a production deployment from the last one and confirms once it is READY, running with the new value', async () => {
    const before = vercel.control.deployments('web')[0]
    const delivery = target({ redeploy: true })
    expect(delivery.description.propagate).toBe('redeploys the last production deployment')
    const receipt = await deliver(delivery)
    const [latest] = vercel.control.deployments('web')
    expect(latest).toMatchObject({
      readyState: 'READY',
      sourceId: before?.id,
      target: 'production',
      env: { API_KEY: NEW_SECRET },
    })
    expect(receipt).toMatchObject({ deploymentId: latest?.id, sourceDeploymentId: before?.id })
    expect(
      vercel.requests
        .filter((request) => request.method === 'POST')
        .map((request) => request.path.split('?')[0]),
    ).toEqual(['/v10/projects/web/env', '/v13/deployments'])
  })

  it('a redeploy that fails is a confirm error at once; one that never becomes ready times out at the deadline', async () => {
    expect.assertions(3)
    vercel.control.nextDeployments('error')
    await expect(deliver(target({ redeploy: true }))).rejects.toMatchObject({
      name: 'ProviderError',
      message: expect.stringMatching(/ended ERROR; the variable is written/),
    })
    vercel.control.nextDeployments('stuck')
    const error = (await deliver(target({ redeploy: true }), 100).catch(
      (caught: KeyStoreError) => caught,
    )) as KeyStoreError
    expect(error).toMatchObject({
      name: 'TimeoutError',
      message: expect.stringMatching(/did not become READY by the deadline/),
    })
    expect(vercel.control.env('web')[0]?.value).toBe(NEW_SECRET)
  })

  it('retries a 503 and an upsert whose answer was lost: one variable, the same value', async () => {
    vercel.inject({ match: { method: 'POST' }, status: 503 })
    vercel.inject({ match: { method: 'POST' }, drop: 'after' })
    await deliver(target())
    expect(vercel.requests.filter((request) => request.method === 'POST')).toHaveLength(3)
    expect(vercel.control.env('web').map((variable) => [variable.key, variable.value])).toEqual([
      ['API_KEY', NEW_SECRET],
    ])
  })

  it('never retries a redeploy whose answer was lost (it may have started one)', async () => {
    vercel.inject({ match: { method: 'POST', path: '/v13/deployments' }, drop: 'after' })
    const delivery = target({ redeploy: true })
    const receipt = (await delivery.write(created(), context())) ?? {}
    await expect(delivery.propagate?.(context(receipt))).rejects.toMatchObject({
      name: 'NetworkError',
    })
    expect(
      vercel.requests.filter((request) => request.path.startsWith('/v13/deployments')),
    ).toHaveLength(1)
  })

  it('finds a write and a redeploy whose answers were lost by what it looked at before, and nothing that did not land', async () => {
    const delivery = target({ redeploy: true })
    const look = async (step: 'write' | 'propagate', receipt = {}) =>
      (await delivery.look?.(step, context(receipt))) ?? {}
    // Before anything: no variable, the seeded deployment is the newest.
    const beforeWrite = await look('write')
    expect(beforeWrite).toEqual({ envBefore: null, updatedBefore: null })
    expect(await delivery.landed?.('write', context(beforeWrite))).toBeUndefined()
    // The upsert lands, its answer is lost.
    vercel.inject({
      match: { method: 'POST', path: '/v10/projects/web/env' },
      drop: 'after',
      times: 3,
    })
    await expect(delivery.write(created(), context(beforeWrite))).rejects.toMatchObject({
      name: 'NetworkError',
    })
    const [variable] = vercel.control.env('web').filter((entry) => entry.key === 'API_KEY')
    const found = await delivery.landed?.('write', context(beforeWrite))
    expect(found).toEqual({ envId: variable?.id, updatedAt: variable?.updatedAt })
    // Looked at again now, the write shows as done: nothing to find since.
    expect(await delivery.landed?.('write', context(await look('write')))).toBeUndefined()
    const beforeRedeploy = await look('propagate', found)
    expect(beforeRedeploy).toEqual({ newestBefore: vercel.control.deployments('web')[0]?.id })
    expect(await delivery.landed?.('propagate', context(beforeRedeploy))).toBeUndefined()
    vercel.inject({ match: { method: 'POST', path: '/v13/deployments' }, drop: 'after' })
    await expect(delivery.propagate?.(context(beforeRedeploy))).rejects.toMatchObject({
      name: 'NetworkError',
    })
    const started = vercel.control.deployments('web')[0]
    expect(started?.id).not.toBe(beforeRedeploy.newestBefore)
    const redeploy = await delivery.landed?.('propagate', context(beforeRedeploy))
    expect(redeploy).toEqual({ deploymentId: started?.id })
    // Confirmed with what was found, as if the answers had come.
    await delivery.confirm(context({ ...found, ...redeploy }))
    expect(vercel.control.deployments('web')[0]?.env.API_KEY).toBe(NEW_SECRET)
  })

  it('errors hold neither the token nor the secret', async () => {
    expect.assertions(3)
    vercel.inject({
      match: { method: 'POST' },
      status: 400,
      body: { error: { code: 'bad_request', message: 'value is too long' } },
    })
    const error = await writeError(target())
    expect(error).toMatchObject({
      name: 'ValidationError',
      status: 400,
      message: expect.stringContaining('value is too long'),
    })
    expectNoSecret(error, [vercel.settings.token, NEW_SECRET])
  })

  it('probes by reading the project and its variables, writing nothing', async () => {
    await target().probe?.()
    expect(
      vercel.requests.map((request) => `${request.method} ${request.path.split('?')[0]}`),
    ).toEqual(['GET /v9/projects/web', 'GET /v10/projects/web/env'])
    await expect(target({ teamId: undefined }).probe?.()).rejects.toMatchObject({
      name: 'PermissionError',
      status: 403,
    })
  })

  it('refuses bad settings before anything is sent', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ key: '1BAD' }, 'key'],
      [{ project: 'a/b' }, 'project'],
      [{ environments: [] }, 'environments'],
      [{ environments: ['staging'] }, 'environments.0'],
      [{ environments: ['development'] }, 'environments'],
      [{ environments: ['preview'], redeploy: true }, 'redeploy'],
      [{ type: 'plain' }, 'type'],
    ]
    for (const [settings, path] of bad) {
      expect(() => target(settings)).toThrow(
        expect.objectContaining({
          name: 'ValidationError',
          issues: [expect.objectContaining({ path })],
        }),
      )
    }
    expect(vercel.requests).toEqual([])
  })
})
