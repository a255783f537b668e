import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MemoryKeyStore } from '../rotation/memory-key-store.test-support.js'
import { rotateKeys } from '../rotation/rotate-keys.js'
import type { Secret } from '../secret.js'
import { historyChanges, jsonLinesHistory, memoryHistory, readHistory } from './history-sink.js'
import { recordedDeliver, recordedStore, recordedTarget } from './recorded-store.js'

const actor = { host: 'ci-host', user: 'ops' }

describe('history of a store’s changes', () => {
  it('records each change as an attempt, then its outcome, with the key, store and batch', async () => {
    const sink = memoryHistory()
    const store = recordedStore(new MemoryKeyStore(), {
      sink,
      label: 'memory-prod',
      actor,
      batchId: () => 'batch-1',
    })
    const created = await store.create({ name: 'ci' })
    await store.update(created.key.id, { status: 'disabled' })
    await store.update(created.key.id, { status: 'active' })
    await store.update(created.key.id, { name: 'ci-2' })
    await store.delete(created.key.id)
    await expect(store.delete('missing-key')).rejects.toThrow()
    await store.list()
    const changes = historyChanges(sink.entries)
    expect(
      changes.map(({ attempt, outcome }) => [
        attempt.action,
        outcome?.keyId,
        outcome?.outcome,
        outcome?.errorCode ?? null,
      ]),
    ).toEqual([
      ['create', created.key.id, 'succeeded', null],
      ['disable', created.key.id, 'succeeded', null],
      ['enable', created.key.id, 'succeeded', null],
      ['rename', created.key.id, 'succeeded', null],
      ['delete', created.key.id, 'succeeded', null],
      ['delete', 'missing-key', 'failed', 'not_found'],
    ])
    expect(sink.entries[0]).toMatchObject({
      phase: 'attempt',
      store: 'memory-prod',
      batchId: 'batch-1',
      keyId: null,
      rotationId: null,
      actor,
    })
  })

  it('records a rotation’s creates, deliveries and deletes under its rotation id and step, in a file, with no secret', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'keyway-history-'))
    try {
      const path = join(folder, 'state', 'history.jsonl')
      const context = { sink: jsonLinesHistory(path), label: 'memory', actor }
      const inner = new MemoryKeyStore()
      const old = [1, 2].map((index) => inner.seed({ name: `ci-${index}` }))
      const store = recordedStore(inner, context)
      const secrets: Secret[] = []
      const result = await rotateKeys(store, {
        verifyIntervalMs: 0,
        batchId: 'nightly',
        filter: (key) => key.name?.startsWith('ci-') ?? false,
        deliver: recordedDeliver((created) => void secrets.push(created.secret), 'secrets.env', {
          ...context,
          provider: store.provider,
        }),
      })
      expect(result.rotated).toBe(2)
      const entries = await readHistory(path)
      const changes = historyChanges(entries)
      expect(changes.every((change) => change.outcome?.outcome === 'succeeded')).toBe(true)
      const summary = changes.map(({ attempt, outcome }) => [
        attempt.action,
        attempt.step,
        attempt.rotationId,
        outcome?.keyId,
      ])
      for (const { id } of old) {
        const rotationId = `nightly/${id}`
        const made = summary.find((row) => row[0] === 'create' && row[2] === rotationId)
        expect(made?.[1]).toBe('create')
        expect(summary).toContainEqual(['write', 'deliver', rotationId, made?.[3]])
        expect(summary).toContainEqual(['delete', 'retire', rotationId, id])
      }
      expect(summary).toHaveLength(6)
      const text = await readFile(path, 'utf8')
      const known = [...secrets.map((secret) => secret.reveal()), ...old.map((key) => key.secret)]
      expect(known).toHaveLength(4)
      for (const secret of known) {
        expect(text).not.toContain(secret)
        expect(text).not.toContain(secret.slice(-12))
        expect(text).not.toContain(secret.slice(0, 12))
      }
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })

  it('keeps the attempt of a change whose outcome never came, and appends, never rewrites', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'keyway-history-'))
    try {
      const path = join(folder, 'history.jsonl')
      const sink = jsonLinesHistory(path)
      const store = recordedStore(new MemoryKeyStore(), { sink, label: 'memory', actor })
      await store.create({ name: 'first' })
      const before = await readFile(path, 'utf8')
      // A process killed mid-change: an attempt, then the line cut short.
      const { appendFile } = await import('node:fs/promises')
      await appendFile(path, '{"change":"cut')
      await appendFile(path, '\n')
      await store.create({ name: 'second' })
      const after = await readFile(path, 'utf8')
      expect(after.startsWith(before)).toBe(true)
      const changes = historyChanges(await readHistory(path))
      expect(changes).toHaveLength(2)
      const attemptOnly = { ...(changes[0]?.attempt ?? {}), change: 'lost' }
      await appendFile(path, `${JSON.stringify(attemptOnly)}\n`)
      const withLost = historyChanges(await readHistory(path))
      expect(withLost.map((change) => change.outcome?.outcome)).toEqual([
        'succeeded',
        'succeeded',
        undefined,
      ])
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})

describe('a recorded store', () => {
  it('keeps the store’s hidden members: its account fingerprint reads the same through it', async () => {
    const { createHttpClient } = await import('../http-client.js')
    const { defineKeyStore } = await import('../define-key-store.js')
    const { storeFingerprint } = await import('../store-fingerprint.js')
    const client = createHttpClient({
      provider: 'example',
      baseUrl: 'http://127.0.0.1:9',
      credential: ['example-credential-0123456789'],
    } as never)
    const store = defineKeyStore({
      provider: 'example',
      capabilities: { get: 'scan', pagination: 'none' } as never,
      client,
      async *iterate() {},
    })
    const recorded = recordedStore(store, { sink: memoryHistory(), label: 'example', actor })
    const digestKey = 'a digest key of 16 bytes or more'
    expect(storeFingerprint(recorded, digestKey)).toEqual(storeFingerprint(store, digestKey))
  })
})

describe('history of a delivery target', () => {
  it('records each write and propagate under the rotation, and a refused write with its code', async () => {
    const { Place } = await import('../targets/place-target.test-support.js')
    const { rotateKey } = await import('../rotation/rotate-key.js')
    const sink = memoryHistory()
    const context = { sink, label: 'memory', actor }
    const inner = new MemoryKeyStore()
    const old = inner.seed({ name: 'ci' })
    const store = recordedStore(inner, context)
    const place = new Place('ci-secrets')
    place.faults.push({ step: 'write', kind: 'refused' })
    const target = recordedTarget(place.target('CI_KEY', { redeploy: true }), {
      ...context,
      provider: store.provider,
    })
    const options = { keyId: old.id, rotationId: 'r-1', verifyIntervalMs: 0, targets: [target] }
    await expect(rotateKey(store, options)).rejects.toThrow()
    await rotateKey(store, options)
    const rows = historyChanges(sink.entries)
      .filter(({ attempt }) => attempt.target !== null)
      .map(({ attempt, outcome }) => [
        attempt.action,
        attempt.target,
        attempt.rotationId,
        outcome?.outcome,
        outcome?.errorCode ?? null,
      ])
    expect(rows).toEqual([
      ['write', 'ci-secrets:CI_KEY', 'r-1', 'failed', 'validation_failed'],
      ['write', 'ci-secrets:CI_KEY', 'r-1', 'succeeded', null],
      ['propagate', 'ci-secrets:CI_KEY', 'r-1', 'succeeded', null],
    ])
    expect(place.deploys).toHaveLength(1)
  })
})
