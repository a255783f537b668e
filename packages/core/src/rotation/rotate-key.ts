import { randomUUID } from 'node:crypto'
import { assertCapability } from '../capabilities.js'
import {
  AmbiguousCreateError,
  KeyStoreError,
  NotFoundError,
  RotationError,
  type RotationStep,
  ValidationError,
} from '../errors.js'
import { Redactor, sanitizeCause } from '../redact.js'
import type { Secret } from '../secret.js'
import { sleep } from '../sleep.js'
import type { ApiKey, CreatedKey, CreateKeyInput, KeyStore } from '../types.js'
import {
  memoryJournal,
  type RotationJournal,
  type RotationRecord,
  type RotationState,
} from './rotation-journal.js'

/** How the old key ends a rotation. */
export type RetireMode = 'delete' | 'disable' | 'keep'

/** A state a rotation reached, for progress reporting. Never holds a secret. */
export interface RotationEvent {
  rotationId: string
  provider: string
  keyId: string
  state: RotationState
}

/** Options of `rotateKey`. */
export interface RotateKeyOptions<C extends CreateKeyInput = CreateKeyInput> {
  /** The key to rotate. */
  keyId: string
  /** Names the rotation in the journal; pass the same id again to resume it. Default: a new UUID. */
  rotationId?: string
  /** Where progress is kept. Default: in memory (no resume after the process ends). */
  journal?: RotationJournal
  /**
   * Stores the new secret where its users will find it. Called once, before the old key is
   * touched. If it throws, the new key is deleted and the old one left as it was.
   */
  deliver: (created: CreatedKey) => void | Promise<void>
  /**
   * Checks the new secret. Default: the store's `verify` where it has one, else no check.
   * `false` skips it. Polled, since a new key may take a moment to work everywhere.
   */
  verify?:
    | false
    | ((created: CreatedKey, signal: AbortSignal | undefined) => boolean | Promise<boolean>)
  /** Verification tries before giving up. Default `5`. */
  verifyAttempts?: number
  /** Wait between verification tries. Default `1000` ms. */
  verifyIntervalMs?: number
  /** What happens to the old key. Default `'delete'`. */
  retire?: RetireMode
  /** Wait between verification and retiring the old key, for caches to pick up the new one. Default `0`. */
  graceMs?: number
  /**
   * Allow rotating the key the store itself authenticates with: the store switches to the
   * new key, checks it can still work, and only then retires the old one. Default `false`.
   */
  allowSelf?: boolean
  /**
   * `'create'` (default): a new key beside the old one, then retire the old one.
   * `'regenerate'`: the vendor replaces the secret in place (Latitude). The old secret dies
   * at once and nothing can be rolled back: if delivery fails, the new secret is lost.
   */
  strategy?: 'create' | 'regenerate'
  /** Fields for the new key. Default: the old key's name and metadata. */
  input?: Partial<C>
  signal?: AbortSignal
  /** Told each state the rotation reaches. Plain data; never a secret. */
  onStep?: (event: RotationEvent) => void
}

/** What a rotation did. Its secret prints masked; ids are never secret. */
export interface RotationResult {
  rotationId: string
  provider: string
  oldKeyId: string
  newKeyId: string
  /** The old key as it was before retiring, or `null` when this call did not read it. */
  oldKey: ApiKey | null
  /** The new key, or `null` when this call did not read it (an already finished rotation). */
  newKey: ApiKey | null
  /** The new secret, or `null` when this call did not mint or recover it. */
  secret: Secret | null
  /** `'replaced'`: a regenerate killed the old secret in place. */
  retired: 'deleted' | 'disabled' | 'kept' | 'replaced'
  /** Whether the new secret was checked against the vendor. */
  verified: boolean
  /** Whether this call picked up a rotation an earlier call began. */
  resumed: boolean
  /** Milliseconds each step took in this call. */
  timings: Partial<Record<'create' | 'deliver' | 'verify' | 'switch' | 'grace' | 'retire', number>>
}

const ORDER: RotationState[] = [
  'started',
  'creating',
  'created',
  'delivered',
  'verified',
  'switched',
  'done',
]

/**
 * Rotates one key the safe way: create the new key, deliver it, verify it, and only then
 * retire the old one. A failure before retiring deletes the new key and leaves the old one
 * untouched; every step is journalled (ids only, never secrets) so that calling again with
 * the same `rotationId` after a crash resumes without minting a second key.
 */
export async function rotateKey<C extends CreateKeyInput>(
  store: KeyStore<C>,
  options: RotateKeyOptions<C>,
): Promise<RotationResult> {
  const provider = store.provider
  const journal = options.journal ?? memoryJournal()
  const rotationId = options.rotationId ?? randomUUID()
  const retire = options.retire ?? 'delete'
  const strategy = options.strategy ?? 'create'
  const { signal } = options
  const signalOption = { signal }
  const timings: RotationResult['timings'] = {}
  const redactor = new Redactor()

  // Everything that can be refused is refused before anything is sent.
  const context = { provider, operation: 'rotate' }
  if (typeof options.deliver !== 'function') {
    throw new ValidationError({
      ...context,
      message: `${provider} rotate: a deliver function is required`,
      issues: [{ path: 'deliver', message: 'required' }],
    })
  }
  if (retire === 'disable') assertCapability(store.capabilities.disable, 'disable', context)
  if (strategy === 'regenerate')
    assertCapability(store.capabilities.regenerate, 'regenerate', context)

  let record = await journal.read(rotationId)
  const resumed = record !== undefined
  if (record !== undefined && (record.oldKeyId !== options.keyId || record.provider !== provider)) {
    throw new ValidationError({
      ...context,
      message: `${provider} rotate: rotation ${rotationId} belongs to another key`,
      issues: [{ path: 'rotationId', message: 'already used for another key' }],
    })
  }
  if (record?.state === 'done') return finished(record)

  const fail = (step: RotationStep, rolledBack: boolean, message: string, cause?: unknown) =>
    new RotationError({
      ...context,
      step,
      rolledBack,
      message: `${provider} rotate ${options.keyId}: ${message}`,
      ...(cause === undefined
        ? {}
        : { cause: KeyStoreError.is(cause) ? cause : sanitizeCause(cause, redactor) }),
    })

  const advance = async (state: RotationState, changes: Partial<RotationRecord> = {}) => {
    record = { ...(record as RotationRecord), ...changes, state }
    record.history = [...record.history, { state, at: new Date().toISOString() }]
    await journal.write(record)
    options.onStep?.({ rotationId, provider, keyId: options.keyId, state })
  }

  const timed = async <T>(
    step: keyof RotationResult['timings'],
    work: () => Promise<T>,
  ): Promise<T> => {
    const started = performance.now()
    try {
      return await work()
    } finally {
      timings[step] = Math.round(performance.now() - started)
    }
  }

  let oldKey: ApiKey | null = null
  let created: CreatedKey | undefined
  let verified = false

  try {
    // The old key, and whether the store itself authenticates with it.
    try {
      oldKey = await store.get(options.keyId, signalOption)
    } catch (error) {
      // A rotation that crashed while retiring may already have deleted the old key.
      const retiring =
        record !== undefined && ORDER.indexOf(record.state) >= ORDER.indexOf('verified')
      if (!(error instanceof NotFoundError && retiring && retire === 'delete')) throw error
    }
    const ownIds = (await store.credentialKeyIds?.(signalOption)) ?? []
    const isSelf = ownIds.includes(options.keyId)
    if (isSelf && retire !== 'keep' && strategy === 'create') {
      if (!options.allowSelf) {
        throw fail(
          'create',
          false,
          "this key is the store's own credential; pass allowSelf to rotate it",
        )
      }
      assertCapability(store.useCredential !== undefined, 'useCredential', context)
    }

    if (record === undefined || record.state === 'rolled-back') {
      record = {
        rotationId,
        provider,
        oldKeyId: options.keyId,
        newKeyId: null,
        newKeyName: null,
        existingIds: [],
        strategy,
        state: 'started',
        retired: null,
        history: [],
      }
      await advance('started')
    }

    // Resuming: settle a create whose outcome the crash hid.
    if (record.state === 'creating') {
      if (record.strategy === 'regenerate') {
        throw fail(
          'resume',
          false,
          'a regenerate was sent and its answer lost: the old secret may already be dead; regenerate again by hand',
        )
      }
      created = await settleLostCreate(record)
    }
    if (record.state === 'created' && record.newKeyId !== null) {
      created = await recoverOrDiscard(record.newKeyId)
    }
    if (
      record.state === 'delivered' ||
      record.state === 'verified' ||
      record.state === 'switched'
    ) {
      if (record.newKeyId === null) throw fail('resume', false, 'the journal names no new key')
      created = await recoverDelivered(record.newKeyId)
    }

    // Create (or regenerate).
    if (ORDER.indexOf(record.state) < ORDER.indexOf('created')) {
      created = await timed('create', () => (strategy === 'regenerate' ? regenerate() : create()))
    }
    if (created !== undefined) redactor.add(created.secret.reveal())

    // Deliver.
    if (record.state === 'created') {
      const fresh = created as CreatedKey
      try {
        await timed('deliver', async () => options.deliver(fresh))
      } catch (error) {
        throw await rollBack('deliver', fresh.key.id, 'delivery failed', error)
      }
      await advance('delivered')
    }

    // Verify.
    if (record.state === 'delivered') {
      if (created !== undefined && created.secret !== null) {
        const fresh = created
        const check = verifier()
        if (check !== undefined) {
          const passed = await timed('verify', () => poll(() => check(fresh)))
          if (!passed) throw await rollBack('verify', fresh.key.id, 'the new secret did not verify')
          verified = true
        }
      }
      await advance('verified')
    }

    // Switch the store's own credential.
    if (record.state === 'verified' && isSelf && retire !== 'keep' && strategy === 'create') {
      const fresh = created
      if (fresh === undefined) {
        throw fail(
          'switch',
          false,
          'configure the store with the new key (it was delivered), then resume',
        )
      }
      await timed('switch', async () => {
        store.useCredential?.(fresh.secret)
        try {
          await store.list(signalOption)
        } catch (error) {
          throw fail(
            'switch',
            false,
            'the store could not work with the new key; the old key is still live',
            error,
          )
        }
      })
      await advance('switched')
    } else if (record.state === 'switched' && isSelf) {
      // A new process still using the old key must not delete it from under itself.
      throw fail(
        'switch',
        false,
        'the store still uses the old key: configure it with the new key, then resume',
      )
    }

    // Grace period, then retire.
    if (options.graceMs) await timed('grace', () => sleep(options.graceMs as number, signal))
    const retired = strategy === 'regenerate' ? 'replaced' : await timed('retire', retireOld)
    await advance('done', { retired })
    return {
      rotationId,
      provider,
      oldKeyId: options.keyId,
      newKeyId: record.newKeyId as string,
      oldKey,
      newKey: created?.key ?? null,
      secret: created?.secret ?? null,
      retired,
      verified,
      resumed,
      timings,
    }
  } catch (error) {
    throw unfinished(error)
  }

  async function create(): Promise<CreatedKey> {
    const input = {
      ...(oldKey !== null && store.capabilities.names && oldKey.name !== null
        ? { name: oldKey.name }
        : {}),
      ...(oldKey !== null && store.capabilities.metadata && Object.keys(oldKey.metadata).length > 0
        ? { metadata: oldKey.metadata }
        : {}),
      ...typeOf(oldKey),
      ...options.input,
    } as C
    const name = (input as CreateKeyInput).name ?? null
    const existingIds = (await store.list(signalOption))
      .filter((key) => key.name === name)
      .map((key) => key.id)
    await advance('creating', { newKeyName: name, existingIds })
    let fresh: CreatedKey
    try {
      fresh = await store.create(input, signalOption)
    } catch (error) {
      if (error instanceof AmbiguousCreateError && error.candidateIds.length > 0) {
        const orphans = error.candidateIds.join(', ')
        throw fail(
          'create',
          false,
          `the create failed ambiguously; keys that may be orphans: ${orphans}`,
          error,
        )
      }
      await advance('rolled-back')
      throw fail(
        'create',
        true,
        'the new key could not be created; the old key is untouched',
        error,
      )
    }
    redactor.add(fresh.secret.reveal())
    await advance('created', { newKeyId: fresh.key.id })
    return fresh
  }

  async function regenerate(): Promise<CreatedKey> {
    await advance('creating', { newKeyName: oldKey?.name ?? null })
    let fresh: CreatedKey
    try {
      fresh = await store.regenerate(options.keyId, signalOption)
    } catch (error) {
      throw fail(
        'create',
        false,
        'the regenerate failed; the old secret may already be dead',
        error,
      )
    }
    redactor.add(fresh.secret.reveal())
    await advance('created', { newKeyId: fresh.key.id })
    return fresh
  }

  /** After a crash mid-create: recover the key it made where the vendor shows secrets, or delete it. */
  async function settleLostCreate(current: RotationRecord): Promise<CreatedKey | undefined> {
    const orphans = (await store.list(signalOption)).filter(
      (key) =>
        key.name === current.newKeyName &&
        key.id !== current.oldKeyId &&
        key.status === 'active' &&
        !current.existingIds.includes(key.id),
    )
    if (orphans.length === 1 && store.reveal !== undefined) {
      const [orphan] = orphans as [ApiKey]
      const secret = await store.reveal(orphan.id, signalOption)
      await advance('created', { newKeyId: orphan.id })
      return { key: orphan, secret }
    }
    for (const orphan of orphans) await deleteQuietly(orphan.id)
    await advance('started')
    return undefined
  }

  /** After a crash between create and delivery: the secret is lost unless the vendor shows it again. */
  async function recoverOrDiscard(newKeyId: string): Promise<CreatedKey | undefined> {
    if (store.reveal !== undefined) {
      const key = await store.get(newKeyId, signalOption)
      return { key, secret: await store.reveal(newKeyId, signalOption) }
    }
    await deleteQuietly(newKeyId)
    await advance('started')
    return undefined
  }

  /** After delivery the caller holds the secret; it can be read back only where the vendor shows it. */
  async function recoverDelivered(newKeyId: string): Promise<CreatedKey | undefined> {
    const key = await store.get(newKeyId, signalOption)
    if (key.status !== 'active')
      throw fail('resume', false, `the new key ${newKeyId} is no longer active`)
    if (store.reveal === undefined) return undefined
    return { key, secret: await store.reveal(newKeyId, signalOption) }
  }

  function verifier(): ((fresh: CreatedKey) => Promise<boolean>) | undefined {
    if (options.verify === false) return undefined
    const custom = options.verify
    if (custom !== undefined) return async (fresh) => custom(fresh, signal)
    if (!store.capabilities.verify) return undefined
    return (fresh) => store.verify(fresh.secret, signalOption)
  }

  async function poll(check: () => Promise<boolean>): Promise<boolean> {
    const attempts = options.verifyAttempts ?? 5
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        if (await check()) return true
      } catch (error) {
        if (attempt === attempts)
          throw await rollBack('verify', record?.newKeyId as string, 'verification failed', error)
      }
      if (attempt < attempts) await sleep(options.verifyIntervalMs ?? 1000, signal)
    }
    return false
  }

  async function rollBack(
    step: RotationStep,
    newKeyId: string,
    what: string,
    cause?: unknown,
  ): Promise<RotationError> {
    try {
      await deleteQuietly(newKeyId)
    } catch (deleteError) {
      return fail(
        step,
        false,
        `${what}, and the new key ${newKeyId} could not be deleted; the old key is untouched`,
        deleteError,
      )
    }
    await advance('rolled-back')
    return fail(step, true, `${what}; the new key was deleted and the old key is untouched`, cause)
  }

  async function retireOld(): Promise<'deleted' | 'disabled' | 'kept'> {
    try {
      if (retire === 'delete') {
        await deleteQuietly(options.keyId)
        return 'deleted'
      }
      if (retire === 'disable') {
        await store.update(options.keyId, { status: 'disabled' } as never, signalOption)
        return 'disabled'
      }
      return 'kept'
    } catch (error) {
      throw fail(
        'retire',
        false,
        `the new key ${record?.newKeyId} is live and delivered, but the old key is still live too`,
        error,
      )
    }
  }

  async function deleteQuietly(id: string): Promise<void> {
    try {
      await store.delete(id, signalOption)
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error
    }
  }

  function typeOf(key: ApiKey | null): Record<string, unknown> {
    // A vendor field that must match the old key's (NoteDx's sandbox or live type).
    const raw = key?.raw as { type?: unknown } | undefined
    return store.capabilities.create.includes('type') && typeof raw?.type === 'string'
      ? { type: raw.type }
      : {}
  }

  /**
   * A vendor failure after a new key may exist becomes a RotationError that names it (or
   * the name it was created with) and says to run the rotation again; anything else as is.
   */
  function unfinished(error: unknown): unknown {
    if (error instanceof RotationError || !KeyStoreError.is(error) || record === undefined)
      return error
    const { state, newKeyId, newKeyName } = record
    if (state === 'started' || state === 'done' || state === 'rolled-back') return error
    const where =
      newKeyId !== null
        ? `the new key ${newKeyId} is in place (${state})`
        : `a key named ${newKeyName ?? '(no name)'} may have been created`
    return fail(
      'resume',
      false,
      `stopped early: ${where}; run the rotation again to finish it`,
      error,
    )
  }

  function finished(done: RotationRecord): RotationResult {
    return {
      rotationId,
      provider,
      oldKeyId: done.oldKeyId,
      newKeyId: done.newKeyId as string,
      oldKey: null,
      newKey: null,
      secret: null,
      retired: done.retired ?? 'kept',
      verified: false,
      resumed: true,
      timings: {},
    }
  }
}
