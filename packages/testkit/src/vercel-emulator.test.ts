import { Vercel } from '@vercel/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TargetEmulator } from './target-emulator.js'
import { startVercelEmulator, type VercelEmulatorControl } from './vercel-emulator.js'

let emulator: TargetEmulator<VercelEmulatorControl, { teamId: string }>
let vercel: Vercel
let teamId: string

beforeEach(async () => {
  emulator = await startVercelEmulator()
  vercel = new Vercel({
    bearerToken: emulator.settings.token,
    serverURL: emulator.url,
    retryConfig: { strategy: 'none' },
  })
  teamId = emulator.settings.teamId
})
afterEach(async () => {
  await emulator.close()
})

describe('Vercel emulator, through the official client (@vercel/sdk)', () => {
  it('creates, upserts and lists environment variables; a sensitive value is never shown', async () => {
    const created = await vercel.projects.createProjectEnv({
      idOrName: 'web',
      teamId,
      upsert: 'true',
      requestBody: { key: 'API_KEY', value: 'first', type: 'sensitive', target: ['production'] },
    })
    const first = created.created as { id: string; key: string; value: string }
    expect(first).toMatchObject({ key: 'API_KEY', value: '' })
    await vercel.projects.createProjectEnv({
      idOrName: 'web',
      teamId,
      upsert: 'true',
      requestBody: { key: 'API_KEY', value: 'second', type: 'sensitive', target: ['production'] },
    })
    const listed = await vercel.projects.filterProjectEnvs({ idOrName: 'web', teamId })
    const envs = (listed as { envs: Array<{ id: string; key: string; value?: string }> }).envs
    expect(envs.map((env) => [env.id, env.key, env.value])).toEqual([[first.id, 'API_KEY', '']])
    expect(emulator.control.env('web').map((env) => env.value)).toEqual(['second'])
    // Without upsert, the same key for the same environment is a conflict.
    await expect(
      vercel.projects.createProjectEnv({
        idOrName: 'web',
        teamId,
        requestBody: { key: 'API_KEY', value: 'third', type: 'sensitive', target: ['production'] },
      }),
    ).rejects.toMatchObject({ statusCode: 400 })
    expect(emulator.control.env('web').map((env) => env.value)).toEqual(['second'])
  })

  it('redeploys the last production deployment, which runs with the variables of its moment and becomes READY', async () => {
    emulator.control.seedEnv('web', { key: 'API_KEY', value: 'new-value', target: ['production'] })
    const { deployments } = await vercel.deployments.getDeployments({
      projectId: emulator.control.project.id,
      target: 'production',
      limit: 1,
      teamId,
    })
    const source = deployments[0]
    expect(source).toMatchObject({ readyState: 'READY', target: 'production' })
    const deployment = await vercel.deployments.createDeployment({
      teamId,
      requestBody: { name: 'web', deploymentId: source?.uid, target: 'production' },
    })
    expect(deployment.readyState).toBe('QUEUED')
    const states: string[] = []
    for (let read = 0; read < 3; read++) {
      const seen = await vercel.deployments.getDeployment({ idOrUrl: deployment.id, teamId })
      states.push(seen.readyState as string)
    }
    expect(states).toEqual(['BUILDING', 'READY', 'READY'])
    expect(emulator.control.deployments('web')[0]?.env).toEqual({ API_KEY: 'new-value' })
  })

  it('plays a deployment that fails and one that never becomes ready', async () => {
    const source = emulator.control.deployments('web')[0]?.id as string
    emulator.control.nextDeployments('error')
    emulator.control.nextDeployments('stuck')
    const failing = await vercel.deployments.createDeployment({
      teamId,
      requestBody: { name: 'web', deploymentId: source },
    })
    const stuck = await vercel.deployments.createDeployment({
      teamId,
      requestBody: { name: 'web', deploymentId: source },
    })
    const last = async (id: string) => {
      let state = ''
      for (let read = 0; read < 5; read++)
        state = (await vercel.deployments.getDeployment({ idOrUrl: id, teamId }))
          .readyState as string
      return state
    }
    expect([await last(failing.id), await last(stuck.id)]).toEqual(['ERROR', 'BUILDING'])
  })

  it('refuses another token and a request without the team, as Vercel does', async () => {
    const stranger = new Vercel({
      bearerToken: 'not-the-token',
      serverURL: emulator.url,
      retryConfig: { strategy: 'none' },
    })
    await expect(
      stranger.projects.filterProjectEnvs({ idOrName: 'web', teamId }),
    ).rejects.toMatchObject({ statusCode: 403 })
    await expect(vercel.projects.filterProjectEnvs({ idOrName: 'web' })).rejects.toMatchObject({
      statusCode: 403,
    })
    expect(JSON.stringify(emulator.requests)).not.toContain(emulator.settings.token)
  })
})
