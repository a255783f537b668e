import { createServer } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { call } from './emulator.test-support.js'
import { startEmulator } from './start-emulator.js'
import { type Emulator, VENDORS } from './types.js'

let emulator: Emulator
let base: string
let admin: Record<string, string>

beforeEach(async () => {
  emulator = await startEmulator('openrouter')
  base = emulator.settings.baseUrl as string
  admin = { authorization: `Bearer ${emulator.settings.managementKey}` }
})
afterEach(() => emulator.close())

describe('faults and the request log', () => {
  it('plays a status with the vendor error body, Retry-After, for the matching requests only, as often as asked', async () => {
    emulator.inject({
      match: { method: 'GET', path: '/api/v1/keys' },
      status: 503,
      retryAfter: 2,
      times: 2,
    })
    const post = await call(`${base}/keys`, 'POST', admin, { name: 'x' })
    expect(post.status).toBe(201)
    const first = await call(`${base}/keys`, 'GET', admin)
    expect(first).toMatchObject({ status: 503, body: { error: { code: 503 } } })
    expect(first.headers.get('retry-after')).toBe('2')
    expect((await call(`${base}/keys`, 'GET', admin)).status).toBe(503)
    expect((await call(`${base}/keys`, 'GET', admin)).status).toBe(200)
  })

  it('plays a given body, and a path given as a pattern', async () => {
    emulator.inject({ match: { path: /^\/api\/v1\/keys/ }, status: 418, body: { custom: true } })
    expect(await call(`${base}/keys`, 'GET', admin)).toMatchObject({
      status: 418,
      body: { custom: true },
    })
  })

  it('drops before processing: nothing changes; drops after: the change is made, the answer lost', async () => {
    const before = emulator.control.keyIds().length
    emulator.inject({ drop: 'before' })
    await expect(call(`${base}/keys`, 'POST', admin, { name: 'x' })).rejects.toThrow()
    expect(emulator.control.keyIds()).toHaveLength(before)
    emulator.inject({ drop: 'after' })
    await expect(call(`${base}/keys`, 'POST', admin, { name: 'x' })).rejects.toThrow()
    expect(emulator.control.keyIds()).toHaveLength(before + 1)
  })

  it('answers a malformed body after processing', async () => {
    emulator.inject({ malformed: true })
    const answer = await call(`${base}/keys`, 'GET', admin)
    expect(answer.status).toBe(200)
    expect(typeof answer.body).toBe('string')
  })

  it('delays', async () => {
    emulator.inject({ delayMs: 150 })
    const started = performance.now()
    await call(`${base}/keys`, 'GET', admin)
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('records what arrived, with the credential redacted', async () => {
    await call(`${base}/keys?include_disabled=true`, 'POST', admin, { name: 'logged' })
    const [request] = emulator.requests
    expect(request).toMatchObject({
      method: 'POST',
      path: '/api/v1/keys?include_disabled=true',
      body: { name: 'logged' },
    })
    expect(request?.headers.authorization).toBe('[REDACTED]')
    expect(JSON.stringify(emulator.requests)).not.toContain(emulator.settings.managementKey)
  })

  it('names the credential a request used by its digest: at OpenRouter, the key hash', async () => {
    const key = emulator.control.seedKey({ name: 'caller' })
    await call(`${base}/key`, 'GET', { authorization: `Bearer ${key.secret}` })
    await call(`${base}/keys`, 'GET', admin)
    await fetch(`${base}/keys`)
    const [withKey, withAdmin, without] = emulator.requests
    expect(withKey?.credentialDigest).toBe(key.id)
    expect(withAdmin?.credentialDigest).toMatch(/^[0-9a-f]{64}$/)
    expect(withAdmin?.credentialDigest).not.toBe(key.id)
    expect(without?.credentialDigest).toBeUndefined()
  })
})

describe('lifecycle', () => {
  it('starts every vendor on its own loopback port with independent state', async () => {
    const emulators = await Promise.all(VENDORS.map((vendor) => startEmulator(vendor)))
    try {
      expect(new Set(emulators.map((started) => started.url)).size).toBe(VENDORS.length)
      for (const started of emulators) expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const again = await startEmulator('openrouter')
      expect(again.settings.managementKey).not.toBe(emulator.settings.managementKey)
      await again.close()
    } finally {
      await Promise.all(emulators.map((started) => started.close()))
    }
  })

  it('frees its port on close', async () => {
    const port = Number(new URL(emulator.url).port)
    await emulator.close()
    await new Promise<void>((resolve, reject) => {
      const probe = createServer().once('error', reject)
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()))
    })
    emulator = await startEmulator('openrouter')
  })
})
