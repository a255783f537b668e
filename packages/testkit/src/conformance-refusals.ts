import { createFleet, memoryJournal, rotateKey, rotateKeys } from '@keyway/core'
import {
  type ApiKey,
  type KeyStore,
  NotFoundError,
  openRotation,
  ValidationError,
} from '@keyway/core/adapter'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ConformanceOptions, ConformanceSettings } from './conformance.js'
import { fastRetry, noWait } from './conformance-create.js'
import { findSecrets, settingSecrets } from './secret-scan.js'
import type { Emulator, EmulatorControl, EmulatorOptions } from './types.js'

/**
 * Ids no store may send, whatever its vendor: empty, path segments and separators, line
 * breaks and other control characters, blanks, overlong, and text no vendor's ids are made of.
 */
export const MALFORMED_IDS: readonly string[] = [
  '',
  '../',
  '..',
  'a/b',
  '%2e%2e',
  'a\r\nb',
  'a\nb',
  'a\u0000b',
  ' ',
  'k'.repeat(300),
  'ключ-🔑',
]

/**
 * An id of the vendor's own shape made of a secret's characters, as a careless paste makes
 * one (a key without its prefix, a token cut short): the tail of `shape` (its last run of
 * letters and digits) replaced by as many of the secret's. `undefined` where the shape's
 * tail is too short to carry a telling part of a secret.
 */
export function idFromSecret(shape: string, secret: string): string | undefined {
  const tail = /[0-9a-z]+$/i.exec(shape)?.[0] ?? ''
  const runs = secret.match(/[0-9a-z]+/gi) ?? []
  const body = runs.reduce((longest, run) => (run.length > longest.length ? run : longest), '')
  if (tail.length < 12 || body.length < tail.length) return undefined
  return `${shape.slice(0, shape.length - tail.length)}${body.slice(-tail.length)}`
}

/** Input no rotation may take: refused before the old key is read. */
const BAD_INPUTS: ReadonlyArray<[string, Record<string, unknown>]> = [
  ['an empty name', { name: '' }],
  ['an overlong name', { name: 'n'.repeat(10_000) }],
  ['metadata that is not text', { metadata: { team: 42 } }],
  ['an invalid date', { expiresAt: new Date(Number.NaN) }],
]

/** A one-store fleet's rotate of `keyId`, with `options` on top. */
function fleetRotate(options: { dryRun?: boolean }) {
  return (store: KeyStore, keyId: string) =>
    createFleet([{ label: 'only', store }]).rotate({
      journal: memoryJournal(),
      deliver: () => {},
      keyIds: { only: [keyId] },
      ...options,
    })
}

/**
 * Every entry point of a rotation, given one key id: each must refuse a bad id with a
 * `ValidationError` before anything is sent. `keep` takes the plain `store.get` path where
 * the default takes the one-listing shortcut (a store whose `get` is a scan).
 */
const ENTRY_POINTS: ReadonlyArray<[string, (store: KeyStore, keyId: string) => Promise<unknown>]> =
  [
    ['rotateKey', (store, keyId) => rotateKey(store, { keyId, deliver: () => {} })],
    [
      'rotateKey, retire keep',
      (store, keyId) => rotateKey(store, { keyId, deliver: () => {}, retire: 'keep' }),
    ],
    ['rotateKey, dry run', (store, keyId) => rotateKey(store, { keyId, dryRun: true })],
    [
      'openRotation',
      async (store, keyId) => {
        const rotation = await openRotation(store, { keyId, deliver: () => {} })
        while (rotation.next !== null) await rotation.runNext()
      },
    ],
    ['rotateKeys', (store, keyId) => rotateKeys(store, { keyIds: [keyId], deliver: () => {} })],
    ['rotateKeys, dry run', (store, keyId) => rotateKeys(store, { keyIds: [keyId], dryRun: true })],
    ['fleet rotate', fleetRotate({})],
    ['fleet rotate, dry run', fleetRotate({ dryRun: true })],
  ]

/** Every entry point that takes a rotation's `input`, given a key and the input. */
const INPUT_ENTRY_POINTS: ReadonlyArray<
  [string, (store: KeyStore, keyId: string, input: Record<string, unknown>) => Promise<unknown>]
> = [
  ['rotateKey', (store, keyId, input) => rotateKey(store, { keyId, input, deliver: () => {} })],
  ['rotateKey, dry run', (store, keyId, input) => rotateKey(store, { keyId, input, dryRun: true })],
  [
    'openRotation',
    (store, keyId, input) => openRotation(store, { keyId, input, deliver: () => {} }),
  ],
  [
    'rotateKeys',
    (store, keyId, input) => rotateKeys(store, { keyIds: [keyId], input, deliver: () => {} }),
  ],
]

/**
 * Every rotation entry point refuses, before any request, an id that is the store's
 * credential, a key's secret or malformed, and input the store's create would refuse: a
 * `ValidationError` holding no secret anywhere. The shortcut that saves a request (one
 * listing where `get` is a scan) answers as the plain `store.get` path does.
 */
export function describeRotationRefusalConformance<Options extends EmulatorOptions>(
  options: ConformanceOptions<Options>,
): void {
  const { vendor, createStore } = options

  describe(`${vendor} rotations refuse before sending`, () => {
    let emulator: Emulator<EmulatorControl, string>
    let store: KeyStore
    let secrets: Set<string>
    /** A key that exists, and its secret, which the store minted. */
    let minted: { key: ApiKey; secret: string }

    beforeEach(async () => {
      emulator = await options.startEmulator(options.emulator)
      const settings = {
        ...emulator.settings,
        retry: fastRetry,
        reconcile: { sleep: noWait },
      } as ConformanceSettings
      secrets = new Set(settingSecrets(emulator.settings))
      store = createStore(settings)
      if (store.capabilities.create === false) {
        // Keys are made elsewhere (the vendor's console): the emulator holds one.
        const seeded = emulator.control.seedKey({ name: 'refusal-conformance' })
        minted = { key: await store.get(seeded.id), secret: seeded.secret }
      } else {
        const name = store.capabilities.names ? { name: 'refusal-conformance' } : {}
        const created = await store.create({ ...name, ...options.createInput } as never)
        minted = { key: created.key, secret: created.secret.reveal() }
      }
      secrets.add(minted.secret)
    })

    afterEach(async () => {
      await emulator.close()
    })

    /** Ids that are secrets: each credential setting of the store, and the key it minted. */
    const secretIds = () => [...secrets]

    /** Runs `action`, expecting a `ValidationError` with no secret in it and no request sent. */
    const refused = async (action: () => Promise<unknown>): Promise<ValidationError> => {
      const before = emulator.requests.length
      const error = await action().then(
        () => undefined,
        (thrown: unknown) => thrown,
      )
      expect(error).toBeInstanceOf(ValidationError)
      expect(findSecrets(error, secrets)).toEqual([])
      expect(emulator.requests.slice(before)).toEqual([])
      return error as ValidationError
    }

    /**
     * Ids that hold a secret's characters without being it: its body in the vendor's id
     * shape, and the secret in capitals.
     */
    const nearSecretIds = () =>
      secretIds()
        // A key made elsewhere and never shown to the store: nothing tells its parts from an id.
        .filter((secret) => store.capabilities.create !== false || secret !== minted.secret)
        .flatMap((secret) => {
          const shaped = idFromSecret(options.unknownId, secret)
          return [secret.toUpperCase(), ...(shaped === undefined ? [] : [shaped])]
        })

    for (const [entry, act] of ENTRY_POINTS) {
      it(`${entry}: refuses an id that is a secret, unquoted, sending nothing`, async () => {
        const ids = secretIds()
        expect(ids.length).toBeGreaterThanOrEqual(2)
        for (const id of ids) await refused(() => act(store, id))
      })

      it(`${entry}: refuses an id made of a secret's characters, unquoted, sending nothing`, async () => {
        for (const id of nearSecretIds()) {
          const error = await refused(() => act(store, id))
          expect(findSecrets(error, [id])).toEqual([])
        }
      })

      it(`${entry}: refuses a malformed id, sending nothing`, async () => {
        for (const id of MALFORMED_IDS) await refused(() => act(store, id))
      })
    }

    for (const [entry, act] of INPUT_ENTRY_POINTS) {
      it(`${entry}: refuses bad input before the old key is read`, async () => {
        for (const [, input] of BAD_INPUTS) {
          const error = await refused(() => act(store, minted.key.id, input))
          expect(error.operation).toBe('rotate')
          expect(error.issues.length).toBeGreaterThan(0)
        }
      })
    }

    // A name holding a secret would carry it into every listing, plan and journal.
    it('refuses a name holding a secret, at create and at every rotation, sending nothing', async (context) => {
      // A store that cannot make keys refuses every create and rotation as unsupported.
      if (store.capabilities.create === false) context.skip()
      expect.assertions(store.capabilities.names ? secretIds().length * 24 : 0)
      if (!store.capabilities.names) return
      for (const secret of secretIds()) {
        const input = { name: `copy of ${secret.toUpperCase()} ` }
        const issues = [{ path: 'name', message: 'holds a secret (a credential or a key)' }]
        expect((await refused(() => store.create(input as never))).issues).toEqual(issues)
        for (const [, act] of INPUT_ENTRY_POINTS) {
          const error = await refused(() => act(store, minted.key.id, input))
          expect(error.issues).toEqual(issues)
          expect(findSecrets(error, [secret.toUpperCase()])).toEqual([])
        }
      }
    })

    it('refuses metadata holding a secret, in a value or a name, sending nothing', async (context) => {
      // A store that cannot make keys refuses every create and rotation as unsupported.
      if (store.capabilities.create === false) context.skip()
      expect.assertions(store.capabilities.metadata ? 2 * (1 + INPUT_ENTRY_POINTS.length) * 4 : 0)
      if (!store.capabilities.metadata) return
      // The key's secret: an account's e-mail address, a setting, is no secret to the store.
      for (const secret of [minted.secret]) {
        const held = `copy of ${secret.toUpperCase()}`
        for (const metadata of [{ note: held }, { [held]: 'x' }]) {
          const attempts = [
            () => store.create({ ...options.createInput, metadata } as never),
            ...INPUT_ENTRY_POINTS.map(
              ([, act]) =>
                () =>
                  act(store, minted.key.id, { metadata }),
            ),
          ]
          for (const attempt of attempts) {
            const error = await refused(attempt)
            expect(findSecrets(error, [secret.toUpperCase()])).toEqual([])
          }
        }
      }
    })

    // The one-listing shortcut (where get is a scan) against the plain store.get path.
    // The shortcut retires the old key: by deleting it, or where the vendor cannot, disabling.
    const shortcutRetire = options.capabilities.deleted === false ? 'disable' : 'delete'
    const rotateBy = (path: 'shortcut' | 'plain', keyId: string) =>
      rotateKey(store, {
        keyId,
        deliver: () => {},
        retire: path === 'plain' ? 'keep' : shortcutRetire,
      })

    it('the one-listing shortcut and store.get refuse the same ids with the same errors', async () => {
      for (const id of [...MALFORMED_IDS, ...secretIds()]) {
        const shortcut = await refused(() => rotateBy('shortcut', id))
        const plain = await refused(() => rotateBy('plain', id))
        expect({ message: shortcut.message, issues: shortcut.issues }).toEqual({
          message: plain.message,
          issues: plain.issues,
        })
        // The store's own refusal says the same about the id.
        const ofGet = await refused(() => store.get(id))
        expect(ofGet.issues).toEqual(shortcut.issues)
      }
    })

    it('the one-listing shortcut and store.get answer an unknown id alike', async (context) => {
      // A store that cannot make keys refuses every create and rotation as unsupported.
      if (store.capabilities.create === false) context.skip()
      // A store that can neither delete nor disable has no shortcut: it can only keep.
      if (store.capabilities.deleted === false && !store.capabilities.disable) context.skip()
      const errors = []
      for (const act of [
        () => rotateBy('shortcut', options.unknownId),
        () => rotateBy('plain', options.unknownId),
        () => store.get(options.unknownId),
      ]) {
        const error = await act().then(
          () => undefined,
          (thrown: unknown) => thrown,
        )
        expect(error).toBeInstanceOf(NotFoundError)
        expect(findSecrets(error, secrets)).toEqual([])
        errors.push({
          name: (error as NotFoundError).name,
          message: (error as NotFoundError).message,
          status: (error as NotFoundError).status,
        })
      }
      expect(errors[0]).toEqual(errors[2])
      expect(errors[1]).toEqual(errors[2])
    })
  })
}
