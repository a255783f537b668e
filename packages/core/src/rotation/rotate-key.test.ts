import { describe, expect, it } from 'vitest'
import { NotFoundError, RotationError } from '../errors.js'
import { Crash } from './crash-journal.test-support.js'
import { MemoryKeyStore } from './memory-key-store.test-support.js'
import { rotateKey } from './rotate-key.js'
import { crashThenResume, quick, rotation, secretsOf } from './rotation-harness.test-support.js'

describe('rotateKey steps', () => {
  it('makes a key like the old one, delivers, verifies, then retires the old key', async () => {
    const { store, old, records, delivered, options } = rotation(
      {},
      { seed: { name: 'ci-deploy', scope: 'read', metadata: { team: 'a' } } },
    )
    const result = await rotateKey(store, options)
    expect(store.settingsOf(result.newKeyId)).toEqual({
      name: 'ci-deploy',
      scope: 'read',
      metadata: { team: 'a' },
    })
    expect(result).toMatchObject({ retired: 'deleted', verified: true, resumed: false })
    expect(result.warnings).toEqual(['its usage history stays with the old key'])
    expect(delivered.map((created) => created.key.id)).toEqual([result.newKeyId])
    expect(store.works(old.secret)).toBe(false)
    expect(store.writes.map((write) => write.operation)).toEqual(['create', 'delete'])
    expect(records.get('r1')?.history.map((entry) => entry.state)).toEqual([
      'started',
      'creating',
      'created',
      'delivered',
      'verified',
      'done',
    ])
  })

  it('lets caller input override what is carried over', async () => {
    const { store, old } = rotation({}, { seed: { name: 'ci', scope: 'read' } })
    const result = await rotateKey(store, {
      ...quick,
      keyId: old.id,
      deliver: () => {},
      input: { scope: 'write' },
    })
    expect(store.settingsOf(result.newKeyId)).toMatchObject({ name: 'ci', scope: 'write' })
  })

  it('skips a key the vendor cannot replace side by side, before anything is written', async () => {
    const { store, old, journal, records } = rotation({}, { seed: { kind: 'sandbox' } })
    const error = await rotateKey(store, { keyId: old.id, journal, deliver: () => {} }).catch(
      (thrown: unknown) => thrown,
    )
    expect(error).toBeInstanceOf(RotationError)
    expect((error as Error).message).toContain('a sandbox key cannot be replaced side by side')
    expect(store.writes).toEqual([])
    expect(records.size).toBe(0)
  })

  it('deletes the new key and leaves the old one when delivery throws, scrubbing the secret', async () => {
    const { store, old, records, options } = rotation({}, { seed: { name: 'x' } })
    let minted = ''
    const error = await rotateKey(store, {
      ...options,
      deliver: (created) => {
        minted = created.secret.reveal()
        throw new Error(`vault refused ${minted}`)
      },
    }).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ step: 'deliver', rolledBack: true })
    expect(JSON.stringify(error)).not.toContain(minted)
    expect(String((error as Error).message)).not.toContain(minted)
    expect(store.works(old.secret)).toBe(true)
    expect(store.works(minted)).toBe(false)
    expect(records.get('r1')?.state).toBe('rolled-back')
  })

  it('deletes the new key when it does not verify', async () => {
    const { store, old } = rotation({}, { seed: { name: 'x' } })
    const waits: number[] = []
    const error = await rotateKey(store, {
      keyId: old.id,
      deliver: () => {},
      verify: () => false,
      verifyAttempts: 3,
      verifyIntervalMs: 1,
      onWait: (wait) => waits.push(wait.ms),
    }).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ step: 'verify', rolledBack: true })
    expect(waits).toEqual([1, 1])
    expect(store.works(old.secret)).toBe(true)
    expect(store.writes.map((write) => write.operation)).toEqual(['create', 'delete'])
  })

  it('says the rollback is unfinished when the new key cannot be deleted, and a rerun finishes it', async () => {
    const { store, old, records, ...run } = rotation({}, { seed: { name: 'x' } })
    let deliveries = 0
    const options = {
      ...run.options,
      deliver: () => {
        deliveries++
        if (deliveries === 1) {
          store.faults.push({ on: 'delete', kind: 'fail' })
          throw new Error('vault down')
        }
      },
    }
    const error = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ step: 'deliver', rolledBack: false })
    const stray = records.get('r1')?.newKeyId as string
    expect((error as Error).message).toContain(`deleting the new key ${stray} failed`)
    expect(records.get('r1')?.state).toBe('rolling-back')
    const result = await rotateKey(store, options)
    expect(store.entries.has(stray)).toBe(false)
    expect(result.newKeyId).not.toBe(stray)
    expect(store.works(old.secret)).toBe(false)
  })

  it('keeps both keys and says so when retiring fails; a rerun retires', async () => {
    const { store, old, options } = rotation({}, { seed: { name: 'x' } })
    store.faults.push({ on: 'delete', kind: 'fail' })
    const error = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ step: 'retire', rolledBack: false })
    expect(store.works(old.secret)).toBe(true)
    const result = await rotateKey(store, options)
    expect(result.resumed).toBe(true)
    expect(store.works(old.secret)).toBe(false)
  })
})

describe('rotateKey resume', () => {
  it('after a lost create, deletes only the keys carrying its marker, then creates again', async () => {
    const { store, old, records, options } = rotation()
    const sibling = store.seed({ name: 'ci' })
    store.faults.push({ on: 'create', kind: 'lost' }, { on: 'findCreated', kind: 'fail' })
    const lost = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect(lost).toMatchObject({ step: 'create', rolledBack: false })
    const record = records.get('r1')
    expect(record?.state).toBe('creating')
    expect((lost as Error).message).toContain(record?.marker as string)
    const orphan = store.writes.find((write) => write.operation === 'create')?.id as string

    // The first look fails: the rotation stays resumable and says so; nothing is touched.
    const unlisted = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect(unlisted).toMatchObject({ step: 'resume', rolledBack: false })
    expect((unlisted as Error).message).toMatch(/could not look for the key .* nothing was touched/)
    expect(records.get('r1')?.state).toBe('creating')
    expect(store.entries.has(orphan)).toBe(true)

    const result = await rotateKey(store, options)
    expect(store.entries.has(orphan)).toBe(false)
    expect(store.works(sibling.secret)).toBe(true)
    expect(result.warnings.join(' ')).toContain(`deleted ${orphan}`)
    expect(store.writes.filter((write) => write.operation === 'delete').map((w) => w.id)).toEqual([
      orphan,
      old.id,
    ])
  })

  it('recovers the key of a lost create where the vendor shows secrets again', async () => {
    const { store, delivered, options } = rotation(
      { reveal: true },
      { seed: { name: 'ci', metadata: { team: 'a' } } },
    )
    store.faults.push({ on: 'create', kind: 'lost' })
    await rotateKey(store, options).catch(() => {})
    const orphan = store.writes[0]?.id as string
    const result = await rotateKey(store, options)
    expect(result.newKeyId).toBe(orphan)
    expect(delivered.map((created) => created.key.id)).toEqual([orphan])
    expect(store.writes.filter((write) => write.operation === 'create')).toHaveLength(1)
  })

  it('discards the key of a lost create whose secret the store no longer shows, and makes one', async () => {
    const { store, old, delivered, options } = rotation({ reveal: true })
    store.faults.push({ on: 'create', kind: 'lost' })
    await rotateKey(store, options).catch(() => {})
    const orphan = store.writes[0]?.id as string
    // A store that kept secrets itself (sealed in a database) and lost this one with the process.
    store.reveal = async (id) => {
      throw new NotFoundError({
        provider: store.provider,
        operation: 'reveal',
        message: `no ${id}`,
      })
    }
    const result = await rotateKey(store, options)
    expect(result.newKeyId).not.toBe(orphan)
    expect(delivered.map((created) => created.key.id)).toEqual([result.newKeyId])
    expect(store.writes.map((write) => [write.operation, write.id])).toEqual([
      ['create', orphan],
      ['delete', orphan],
      ['create', result.newKeyId],
      ['delete', old.id],
    ])
  })

  it.each([
    ['creating', 'after'],
    ['created', 'before'],
    ['created', 'after'],
    ['delivered', 'before'],
    ['delivered', 'after'],
    ['verified', 'after'],
    ['done', 'before'],
  ] as const)(
    'after a crash %s (%s): one new key, delivered, the old key retired',
    async (state, when) => {
      const { store, old, delivered, options } = rotation({}, { crash: [state, when] })
      const result = await crashThenResume(store, options)
      const live = [...store.entries.values()].filter((entry) => entry.key.name === 'ci')
      expect(live.map((entry) => entry.key.id)).toEqual([result.newKeyId])
      expect(store.works(old.secret)).toBe(false)
      expect(secretsOf(delivered).filter((secret) => store.works(secret))).toHaveLength(1)
      const writes = store.writes.length
      await rotateKey(store, options)
      expect(store.writes.length).toBe(writes)
    },
  )

  it('never recovers a deleted key that stays listed, and makes a new one', async () => {
    const { store, old, delivered, options } = rotation(
      { reveal: true, deletedStaysListed: true },
      { crash: ['created', 'after'] },
    )
    const result = await crashThenResume(store, options)
    expect(store.entries.get(result.newKeyId)?.key.status).toBe('active')
    expect(secretsOf(delivered).map((secret) => store.works(secret))).toEqual([true])
    expect(store.works(old.secret)).toBe(false)
  })

  it('creates nothing again until it could list every key the lost create may have made', async () => {
    const { store, journal, records, options } = rotation()
    store.faults.push({ on: 'create', kind: 'refused' })
    // The first create is refused; fake a journal that says one was sent and lost.
    await rotateKey(store, options).catch(() => {})
    const record = records.get('r1')
    await journal.write({
      ...(record as NonNullable<typeof record>),
      state: 'creating',
      marker: 'kw0000000000000000000002',
    })
    store.faults.push({ on: 'list', kind: 'fail' })
    const error = await rotateKey(store, options).catch((thrown: unknown) => thrown)
    expect((error as Error).message).toMatch(/could not list the keys .* nothing was touched/)
    expect(records.get('r1')?.state).toBe('creating')
    expect(store.writes).toEqual([])
    await expect(rotateKey(store, options)).resolves.toMatchObject({ retired: 'deleted' })
  })

  it('deletes a key a slow vendor made for an earlier create, when it lands after the resume looked', async () => {
    const { store, ...run } = rotation()
    let deliveries = 0
    let late: string[] = []
    const options = {
      ...run.options,
      deliver: () => {
        deliveries++
        // The vendor gets round to the first create only now.
        if (deliveries === 1) late = store.landLate()
      },
    }
    store.faults.push({ on: 'create', kind: 'late' })
    await expect(rotateKey(store, options)).rejects.toThrow(/outcome is unknown/)
    const result = await rotateKey(store, options)
    expect(late).toHaveLength(1)
    expect(store.entries.has(late[0] as string)).toBe(false)
    expect(result.warnings.join(' ')).toContain(`deleted ${late[0]}: made late`)
    expect(
      [...store.entries.values()].filter((entry) => entry.key.name?.startsWith('ci')),
    ).toHaveLength(1)
  })

  it('names, and leaves alone, a key a create made and settled just before the process died', async () => {
    const { store, old, journal, options } = rotation()
    // The create went through and the process died before the journal heard of it.
    await journal.write({
      rotationId: 'r1',
      provider: 'memory',
      oldKeyId: old.id,
      strategy: 'create',
      state: 'creating',
      marker: 'kw0000000000000000000001',
      abandonedMarkers: [],
      newKeyName: 'ci',
      newKeyId: null,
      retired: null,
      warnings: [],
      graceEndsAt: null,
      reason: null,
      history: [{ state: 'creating', at: new Date().toISOString() }],
    })
    const settled = await store.create({ name: 'ci' }, { marker: 'kw0000000000000000000001' })
    const result = await rotateKey(store, options)
    expect(store.entries.has(settled.key.id)).toBe(true)
    expect(result.warnings.join(' ')).toContain(
      `${settled.key.id} may have been made by the interrupted create`,
    )
  })

  it('never retires the old key for a successor that was not delivered', async () => {
    const { store, records, options } = rotation({}, { crash: ['delivered', 'before'] })
    await expect(rotateKey(store, options)).rejects.toBeInstanceOf(Crash)
    const undelivered = records.get('r1')?.newKeyId as string
    expect(records.get('r1')?.state).toBe('created')
    const result = await rotateKey(store, options)
    expect(store.entries.has(undelivered)).toBe(false)
    expect(result.newKeyId).not.toBe(undelivered)
    expect(result.warnings.join(' ')).toContain(`deleted ${undelivered}`)
  })

  it('replaces a successor delivered but not verified before a crash, and never retires for it', async () => {
    const { store, old, records, options } = rotation({}, { crash: ['verified', 'before'] })
    await expect(rotateKey(store, options)).rejects.toBeInstanceOf(Crash)
    const unverified = records.get('r1')?.newKeyId as string
    expect(store.works(old.secret)).toBe(true)
    const result = await rotateKey(store, options)
    expect(store.entries.has(unverified)).toBe(false)
    expect(result.newKeyId).not.toBe(unverified)
    expect(result.verified).toBe(true)
    expect(result.warnings.join(' ')).toContain(`${unverified} was delivered but not yet verified`)
  })

  it('refuses a rotation id already used for another key', async () => {
    const { store, options } = rotation({}, { seed: { name: 'a' } })
    const b = store.seed({ name: 'b' })
    await rotateKey(store, options)
    await expect(rotateKey(store, { ...options, keyId: b.id })).rejects.toThrow(
      /already used for another key/,
    )
  })
})

describe("rotateKey and the store's own credential", () => {
  it('skips it without allowSelf, naming how to proceed', async () => {
    const store = new MemoryKeyStore({ credential: 'key' })
    const [own] = (await store.credentialKeyIds?.()) ?? []
    const error = await rotateKey(store, { keyId: own as string, deliver: () => {} }).catch(
      (thrown: unknown) => thrown,
    )
    expect((error as Error).message).toMatch(/may be the credential this store authenticates with/)
    expect((error as Error).message).toMatch(/pass allowSelf/)
    // A store that names no setting for its own key gets no advice about one.
    expect((error as Error).message).not.toMatch(/store's settings/)
    expect(store.writes).toEqual([])
  })

  it("names the store's own setting for its key, where it has one", async () => {
    const store = Object.assign(new MemoryKeyStore({ credential: 'key' }), {
      credentialKeySetting: { setting: 'ownKeyId', env: 'MEMORY_OWN_KEY_ID' },
    })
    const [own] = (await store.credentialKeyIds?.()) ?? []
    const error = await rotateKey(store, { keyId: own as string, deliver: () => {} }).catch(
      (thrown: unknown) => thrown,
    )
    expect((error as Error).message).toMatch(
      /pass allowSelf .*; if the store's credential is another key, name that key in the store's settings \(ownKeyId, or MEMORY_OWN_KEY_ID\)$/,
    )
    expect(store.writes).toEqual([])
  })

  it('with allowSelf, switches the store to the new key and checks it before retiring', async () => {
    const store = new MemoryKeyStore({ credential: 'key' })
    const [own] = (await store.credentialKeyIds?.()) ?? []
    const result = await rotateKey(store, {
      ...quick,
      keyId: own as string,
      deliver: () => {},
      allowSelf: true,
    })
    expect(await store.credentialKeyIds?.()).toEqual([result.newKeyId])
    expect(store.entries.has(own as string)).toBe(false)
    await expect(store.list()).resolves.toBeDefined()
  })

  it('does not guess where the store cannot tell: every key is skipped without allowSelf', async () => {
    const store = new MemoryKeyStore({ credential: 'unknown' })
    const old = store.seed({ name: 'x' })
    const error = await rotateKey(store, { keyId: old.id, deliver: () => {} }).catch(
      (thrown: unknown) => thrown,
    )
    expect((error as Error).message).toMatch(/cannot tell which key it authenticates with/)
    expect(store.writes).toEqual([])
    const kept = await rotateKey(store, {
      ...quick,
      keyId: old.id,
      deliver: () => {},
      retire: 'keep',
    })
    expect(kept.retired).toBe('kept')
  })
})

describe('rotateKey dry run', () => {
  it('returns the plan and writes nothing', async () => {
    const store = new MemoryKeyStore({ credential: 'key' })
    const old = store.seed({ name: 'ci', scope: 'read' })
    const plan = await rotateKey(store, { keyId: old.id, dryRun: true })
    expect(plan).toMatchObject({
      keyId: old.id,
      name: 'ci',
      ageDays: 0,
      input: { name: 'ci', scope: 'read' },
      warnings: ['its usage history stays with the old key'],
      credential: 'other',
      retire: 'delete',
      action: 'rotate',
    })
    expect(store.writes).toEqual([])
  })
})
