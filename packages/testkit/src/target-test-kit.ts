import {
  type CreatedKey,
  type DeliveryTarget,
  type KeyStoreError,
  Secret,
  type TargetConfirmContext,
  type TargetContext,
  writeTokenOf,
} from '@keyway/core/adapter'
import { apiKeyFixture } from './api-key-fixture.js'

/** The secret `targetTestKit` delivers unless told another: shaped like a key, made up. */
export const TARGET_TEST_SECRET = 'sk-new-0123456789abcdef0123456789abcdef'

/** Options of {@link targetTestKit}. */
export interface TargetTestKitOptions {
  /**
   * The target's name in the write token (`writeTokenOf(rotationId, target, newKeyId)`), such
   * as `'aws'`: a test that sends a second write can check it carries the same token.
   */
  target: string
  /** The secret `created()` and `context()` carry by default. Default {@link TARGET_TEST_SECRET}. */
  secret?: string
  /** Default `'r1'`. */
  rotationId?: string
  /** The key being replaced. Default `'k1'`. */
  oldKeyId?: string
  /** The new key whose secret is delivered. Default `'k2'`. */
  newKeyId?: string
  /** How long `confirm` may take, from the moment `context()` is called. Default 10 s. */
  deadlineMs?: number
}

/** What `context()` may change for one call. */
export interface TargetTestContextOptions {
  /** The secret in `created`, for a confirm that must see another value. */
  value?: string
  /** How long confirm may take from now. */
  deadlineMs?: number
}

/** A delivery target's test fixtures: the new key and the context a rotation hands each step. */
export interface TargetTestKit {
  /** The secret delivered by default. */
  readonly secret: string
  /** The write token every `context()` carries. */
  readonly writeToken: string
  /** The new key with `value` (default: the kit's secret) as its secret. */
  created(value?: string): CreatedKey
  /**
   * The context of `write`, `propagate` and `confirm`: the receipt so far (default `{}`), the
   * write token, a deadline and the new key.
   */
  context(
    receipt?: TargetContext['receipt'],
    options?: TargetTestContextOptions,
  ): TargetConfirmContext
  /**
   * What `target.write(created(), context())` rejects with, for a test of a refusal (where the
   * write resolves, its value, which the test's checks on the error then refuse).
   */
  writeError(target: Pick<DeliveryTarget, 'write'>): Promise<KeyStoreError>
}

/**
 * Fixtures for testing a delivery target the way a rotation calls it, so each target's tests
 * start from the same new key and context:
 *
 * ```ts
 * const { created, context } = targetTestKit({ target: 'aws' })
 * const receipt = (await target.write(created(), context())) ?? {}
 * await target.confirm(context(receipt))
 * ```
 */
export function targetTestKit(options: TargetTestKitOptions): TargetTestKit {
  const secret = options.secret ?? TARGET_TEST_SECRET
  const rotationId = options.rotationId ?? 'r1'
  const oldKeyId = options.oldKeyId ?? 'k1'
  const newKeyId = options.newKeyId ?? 'k2'
  const writeToken = writeTokenOf(rotationId, options.target, newKeyId)
  const created = (value = secret): CreatedKey => ({
    key: apiKeyFixture({ id: newKeyId }),
    secret: new Secret(value),
  })
  const context = (
    receipt: TargetContext['receipt'] = {},
    call: TargetTestContextOptions = {},
  ): TargetConfirmContext => ({
    rotationId,
    provider: 'memory',
    oldKeyId,
    newKeyId,
    writeToken,
    receipt,
    deadline: Date.now() + (call.deadlineMs ?? options.deadlineMs ?? 10_000),
    created: created(call.value),
  })
  return {
    secret,
    writeToken,
    created,
    context,
    writeError: (target) =>
      target.write(created(), context()).then(
        (value) => value as unknown as KeyStoreError,
        (error: unknown) => error as KeyStoreError,
      ),
  }
}

/** Retries quick enough for a target's tests against an emulator: 1 ms, at most 5 ms apart. */
export const TEST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 }

/**
 * The factory of the target under test: `create` with the running emulator's settings, then
 * `defaults`, quick retries ({@link TEST_RETRY}) and a test's own settings on top:
 *
 * ```ts
 * const aws = useEmulator(startAwsSecretsManagerEmulator)
 * const target = targetUnderTest(createSecretsManagerTarget, aws, { secretId: 'prod/api' })
 * await target({ jsonKey: 'API_KEY' }).write(created(), context())
 * ```
 */
export function targetUnderTest<Settings extends object, Target>(
  create: (settings: Settings) => Target,
  emulator: { readonly settings: object },
  defaults: Partial<Settings>,
): (extra?: Partial<Settings>) => Target {
  return (extra = {}) =>
    create({ ...emulator.settings, ...defaults, retry: { ...TEST_RETRY }, ...extra } as Settings)
}
