// A KeyStore kept in memory, for the rotation engine's unit tests: a real implementation of
// the interface (keys, secrets, markers, the store's own credential), with a few faults a
// test can arm. Not a mock: it answers from its own state, and its `writes` record what changed.
import {
  AmbiguousCreateError,
  AuthenticationError,
  NetworkError,
  NotFoundError,
  ProviderError,
  ValidationError,
} from '../errors.js'
import { Secret } from '../secret.js'
import type {
  ApiKey,
  Capabilities,
  CreatedKey,
  CreateKeyInput,
  CreateOptions,
  KeyStore,
  ListOptions,
  RequestOptions,
  SuccessorPlan,
  UpdateKeyInput,
} from '../types.js'

/** Create input of the memory store: the neutral fields and a vendor field, `scope`. */
export interface MemoryCreateInput extends CreateKeyInput {
  scope?: string
  /** Keys of kind `'sandbox'` cannot be replaced side by side. */
  kind?: 'live' | 'sandbox'
}

interface Entry {
  key: ApiKey
  secret: string
  marker: string | null
  scope: string | null
  kind: 'live' | 'sandbox'
}

/** What the store authenticates with: one of its keys, a token that is not a key, or it cannot tell. */
export type MemoryCredential = 'key' | 'token' | 'unknown'

export interface MemoryKeyStoreOptions {
  credential?: MemoryCredential
  /** The vendor shows secrets again (`reveal`). */
  reveal?: boolean
  /** The vendor regenerates in place. */
  regenerate?: boolean
  /** A deleted key stays listed, disabled (as at NoteDx). */
  deletedStaysListed?: boolean
}

/** A fault the next matching call plays. */
export type MemoryFault =
  | { on: 'create'; kind: 'lost' } // the key is made, carrying its marker; the answer is lost
  | { on: 'create'; kind: 'refused' } // a 400: nothing made
  | { on: 'create'; kind: 'late' } // the answer is lost; the key is made later, by `landLate()`
  | { on: 'regenerate'; kind: 'lost' } // the secret is replaced; the answer is lost
  | {
      on: 'list' | 'findCreated' | 'delete' | 'verify' | 'update' | 'get'
      kind: 'fail'
      times?: number
    }

let counter = 0

export class MemoryKeyStore implements KeyStore<MemoryCreateInput> {
  readonly provider = 'memory'
  readonly capabilities: Capabilities
  readonly entries = new Map<string, Entry>()
  /** Every change, in order: what and which key. */
  readonly writes: Array<{ operation: string; id: string }> = []
  /** Every read, in order. */
  readonly reads: string[] = []
  readonly faults: MemoryFault[] = []
  credentialKeyIds?: (options?: RequestOptions) => Promise<string[]>
  useCredential?: (secret: Secret) => void
  reveal?: (id: string, options?: RequestOptions) => Promise<Secret>
  #credential: string
  readonly #late: Array<() => Entry> = []
  readonly #deletedStaysListed: boolean

  constructor(options: MemoryKeyStoreOptions = {}) {
    const credential = options.credential ?? 'token'
    this.#deletedStaysListed = options.deletedStaysListed ?? false
    this.capabilities = {
      get: 'native',
      pagination: 'none',
      names: true,
      metadata: true,
      disable: true,
      expiry: false,
      spendLimit: false,
      regenerate: options.regenerate ?? false,
      verify: true,
      revealAfterCreate: options.reveal ?? false,
      deleted: options.deletedStaysListed ? 'disabled' : 'gone',
      update: ['name', 'status', 'metadata'],
      create: ['name', 'metadata', 'scope', 'kind'],
    }
    const admin = this.seed({ name: 'admin', scope: 'admin' })
    this.#credential = credential === 'key' ? admin.secret : 'fake-session-token'
    if (credential === 'key') {
      this.credentialKeyIds = async () => {
        this.#authenticate()
        return [...this.entries.values()]
          .filter((entry) => entry.secret === this.#credential)
          .map((entry) => entry.key.id)
      }
    } else if (credential === 'token') {
      this.credentialKeyIds = async () => []
    }
    if (credential !== 'token') {
      this.useCredential = (secret) => {
        this.#credential = secret.reveal()
      }
    }
    if (options.reveal) {
      this.reveal = async (id) => {
        this.#authenticate()
        return new Secret(this.#entry(id, 'reveal').secret)
      }
    }
  }

  /** Adds a key as if made in the vendor's dashboard. */
  seed(input: MemoryCreateInput = {}): { id: string; secret: string } {
    const entry = this.#make(input, null)
    return { id: entry.key.id, secret: entry.secret }
  }

  /** Makes the keys of creates whose answer was lost before the vendor got to them. */
  landLate(): string[] {
    return this.#late.splice(0).map((land) => land().key.id)
  }

  /** Whether a secret works at the "vendor" right now. */
  works(secret: string): boolean {
    return [...this.entries.values()].some(
      (entry) => entry.secret === secret && entry.key.status === 'active',
    )
  }

  /** The settings a key holds, as a successor must copy them. */
  settingsOf(id: string): { name: string | null; scope: string | null; metadata: object } {
    const entry = this.#entry(id, 'settingsOf')
    return { name: entry.key.name, scope: entry.scope, metadata: entry.key.metadata }
  }

  async list(options: ListOptions = {}): Promise<ApiKey[]> {
    this.#authenticate()
    this.reads.push('list')
    this.#play('list')
    return [...this.entries.values()]
      .filter((entry) => options.includeDisabled !== false || entry.key.status === 'active')
      .map((entry) => ({ ...entry.key }))
  }

  async *iterate(options: ListOptions = {}): AsyncIterable<ApiKey> {
    yield* await this.list(options)
  }

  async get(id: string): Promise<ApiKey> {
    this.#authenticate()
    this.reads.push(`get ${id}`)
    this.#play('get')
    return { ...this.#entry(id, 'get').key }
  }

  async create(input: MemoryCreateInput, options: CreateOptions = {}): Promise<CreatedKey> {
    this.#authenticate()
    const marker = options.marker ?? `kw${++counter}`
    const fault = this.#play('create')
    if (fault?.kind === 'refused') {
      throw new ValidationError({
        provider: this.provider,
        operation: 'create',
        message: 'refused',
      })
    }
    if (fault?.kind === 'late') {
      this.#late.push(() => this.#make(input, marker))
      throw new AmbiguousCreateError({
        provider: this.provider,
        operation: 'create',
        message: 'memory create was aborted while the vendor may have been making the key',
        candidateIds: [],
        marker,
      })
    }
    const entry = this.#make(input, marker)
    this.writes.push({ operation: 'create', id: entry.key.id })
    if (fault?.kind === 'lost') {
      throw new AmbiguousCreateError({
        provider: this.provider,
        operation: 'create',
        message:
          'memory create failed ambiguously (network_error) and the keys could not be listed',
        candidateIds: [],
        marker,
      })
    }
    // Settled: the marker is gone once the create returns.
    entry.marker = null
    return { key: { ...entry.key }, secret: new Secret(entry.secret) }
  }

  async findCreated(marker: string): Promise<ApiKey[]> {
    this.#authenticate()
    this.reads.push(`findCreated ${marker}`)
    this.#play('findCreated')
    return [...this.entries.values()]
      .filter((entry) => entry.marker === marker)
      .map((entry) => ({ ...entry.key }))
  }

  async update(id: string, patch: UpdateKeyInput): Promise<ApiKey> {
    this.#authenticate()
    this.#play('update')
    const entry = this.#entry(id, 'update')
    if (patch.name !== undefined) entry.key.name = patch.name
    if (patch.status !== undefined) entry.key.status = patch.status
    if (patch.metadata !== undefined) entry.key.metadata = { ...patch.metadata }
    entry.marker = null
    this.writes.push({ operation: 'update', id })
    return { ...entry.key }
  }

  async delete(id: string): Promise<void> {
    this.#authenticate()
    this.#play('delete')
    const entry = this.#entry(id, 'delete')
    if (this.#deletedStaysListed) entry.key.status = 'disabled'
    else this.entries.delete(id)
    this.writes.push({ operation: 'delete', id })
  }

  async regenerate(id: string): Promise<CreatedKey> {
    this.#authenticate()
    const entry = this.#entry(id, 'regenerate')
    entry.secret = `fake-secret-${++counter}`
    this.writes.push({ operation: 'regenerate', id })
    if (this.#play('regenerate')?.kind === 'lost') {
      throw new NetworkError({
        provider: this.provider,
        operation: 'regenerate',
        phase: 'ambiguous',
        message: 'connection lost after sending',
      })
    }
    return { key: { ...entry.key }, secret: new Secret(entry.secret) }
  }

  async verify(secret: Secret): Promise<boolean> {
    this.reads.push('verify')
    this.#play('verify')
    return this.works(secret.reveal())
  }

  async successorInput(key: ApiKey): Promise<SuccessorPlan<MemoryCreateInput>> {
    const entry = this.#entry(key.id, 'successorInput')
    const input: MemoryCreateInput = {}
    if (entry.key.name !== null) input.name = entry.key.name
    if (Object.keys(entry.key.metadata).length > 0) input.metadata = { ...entry.key.metadata }
    if (entry.scope !== null) input.scope = entry.scope
    if (entry.kind === 'sandbox') {
      return { input, warnings: [], blocked: 'a sandbox key cannot be replaced side by side' }
    }
    return { input, warnings: ['its usage history stays with the old key'] }
  }

  #make(input: MemoryCreateInput, marker: string | null): Entry {
    const id = `key-${++counter}`
    const now = new Date()
    const entry: Entry = {
      key: {
        provider: this.provider,
        id,
        name: input.name ?? null,
        status: 'active',
        hint: null,
        createdAt: now,
        updatedAt: now,
        lastUsedAt: null,
        expiresAt: null,
        metadata: { ...input.metadata },
        raw: {},
      },
      secret: `fake-secret-${counter}`,
      marker,
      scope: input.scope ?? null,
      kind: input.kind ?? 'live',
    }
    this.entries.set(id, entry)
    return entry
  }

  #entry(id: string, operation: string): Entry {
    const entry = this.entries.get(id)
    if (entry !== undefined) return entry
    throw new NotFoundError({
      provider: this.provider,
      operation,
      status: 404,
      message: `memory ${operation}: no key ${id}`,
    })
  }

  #authenticate(): void {
    if (this.#credential === 'fake-session-token' || this.works(this.#credential)) return
    throw new AuthenticationError({
      provider: this.provider,
      operation: 'request',
      status: 401,
      message: 'memory: the credential does not work',
    })
  }

  #play(on: MemoryFault['on']): MemoryFault | undefined {
    const index = this.faults.findIndex((fault) => fault.on === on)
    if (index === -1) return undefined
    const fault = this.faults[index] as MemoryFault
    const left = 'times' in fault && fault.times !== undefined ? fault.times - 1 : 0
    if (left > 0) this.faults[index] = { ...fault, times: left } as MemoryFault
    else this.faults.splice(index, 1)
    if (fault.kind === 'fail') {
      throw new ProviderError({
        provider: this.provider,
        operation: on,
        status: 503,
        retryable: true,
        message: `memory ${on}: 503 unavailable`,
      })
    }
    return fault
  }
}
