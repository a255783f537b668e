import { inspect } from 'node:util'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { listingStore } from '../credential-store.test-support.js'
import {
  KeyStoreError,
  NotFoundError,
  UnsupportedOperationError,
  ValidationError,
} from '../errors.js'
import { apiKey } from '../fleet/api-key.test-support.js'
import type { ApiKey } from '../types.js'
import { readOldKeyAndOwnIds } from './open-run.js'
import { rotateKey } from './rotate-key.js'
import { rotateKeys } from './rotate-keys.js'
import { memoryJournal } from './rotation-journal.js'
import { resolveRotationOptions, rotationOptionEntries } from './rotation-options.js'

// Obviously fake values: what matters is that they never come back out.
const CREDENTIAL = 'fake-credential-shortcut-0000000000000001'
const MINTED = 'fake-minted-shortcut-ffffffffffffffff0002'

const key = (id: string): ApiKey => apiKey({ provider: 'vendor', id, name: id })

/** A store whose `get` is a scan of its listing (no id pattern), counting its listings. */
function scanStore() {
  const listings: string[] = []
  const store = listingStore({
    secrets: [CREDENTIAL],
    minted: MINTED,
    keys: [key('key_1')],
    ownKeyIds: ['key_1'],
    onList: () => listings.push('list'),
  })
  return { store, listings }
}

const schema = v.strictObject(rotationOptionEntries)

/** The old key read by the shortcut (one listing) or by the plain path (`store.get`). */
async function readBy(path: 'shortcut' | 'plain', keyId: string) {
  const { store, listings } = scanStore()
  // Keeping the old key needs no credential ids, so the old key is read with `store.get`.
  const settings = resolveRotationOptions(
    store,
    path === 'plain' ? { deliver: () => {}, retire: 'keep' } : { deliver: () => {} },
    schema,
  )
  const error = await readOldKeyAndOwnIds(store, settings, { keyId, record: undefined }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  return { error, listings }
}

function expectNoSecret(value: unknown): void {
  const views = [
    JSON.stringify(value),
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    value instanceof Error ? `${String(value)}${String(value.stack)}` : '',
  ]
  for (const view of views) {
    expect(view).not.toContain(CREDENTIAL)
    expect(view).not.toContain(MINTED)
  }
}

describe('the one-listing shortcut where get is a scan', () => {
  it('takes one listing for the old key and the credential ids', async () => {
    const { store, listings } = scanStore()
    const settings = resolveRotationOptions(store, { deliver: () => {} }, schema)
    const read = await readOldKeyAndOwnIds(store, settings, { keyId: 'key_1', record: undefined })
    expect(read).toEqual({ oldKey: key('key_1'), ownIds: ['key_1'] })
    expect(listings).toEqual(['list'])
  })

  it('refuses the ids store.get refuses, with the same issues, listing nothing', async () => {
    const ids = [CREDENTIAL, MINTED, `key_${MINTED}`, '', '../', 'a\r\nb', 'k'.repeat(300)]
    for (const id of ids) {
      const shortcut = await readBy('shortcut', id)
      const plain = await readBy('plain', id)
      for (const each of [shortcut, plain]) {
        expect(each.error).toBeInstanceOf(ValidationError)
        expect(each.listings).toEqual([])
        expectNoSecret(each.error)
      }
      expect((shortcut.error as ValidationError).message).toBe(
        (plain.error as ValidationError).message,
      )
      expect((shortcut.error as ValidationError).issues).toEqual(
        (plain.error as ValidationError).issues,
      )
    }
  })

  it('says a secret is a secret, never what it is', async () => {
    const { error } = await readBy('shortcut', CREDENTIAL)
    expect((error as ValidationError).issues).toEqual([
      { path: 'id', message: 'holds a secret (a credential or a key), not a key id' },
    ])
  })

  it('answers an unknown id as store.get does', async () => {
    const shortcut = await readBy('shortcut', 'key_2')
    const plain = await readBy('plain', 'key_2')
    expect(shortcut.error).toBeInstanceOf(NotFoundError)
    expect(plain.error).toBeInstanceOf(NotFoundError)
    expect(KeyStoreError.is(shortcut.error) && shortcut.error.toJSON()).toEqual(
      KeyStoreError.is(plain.error) && plain.error.toJSON(),
    )
    expect(shortcut.listings).toEqual(['list'])
  })
})

describe('rotation input the store refuses', () => {
  it('names no secret given as a field name, in any property of the error', async () => {
    const { store, listings } = scanStore()
    for (const secret of [CREDENTIAL, MINTED]) {
      const error = await rotateKey(store, {
        keyId: 'key_1',
        input: { [secret]: 'x' } as never,
        dryRun: true,
      }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      )
      expect(error).toBeInstanceOf(UnsupportedOperationError)
      expect((error as UnsupportedOperationError).feature).toBe('rotate.[REDACTED]')
      expectNoSecret(error)
    }
    expect(listings).toEqual([])
  })
})

describe('names a caller gives a rotation or a batch', () => {
  it('refuses a rotation id or batch id holding a secret, before reading or journalling', async () => {
    const { store, listings } = scanStore()
    const journal = memoryJournal()
    for (const secret of [CREDENTIAL, MINTED]) {
      const attempts = [
        () =>
          rotateKey(store, {
            keyId: 'key_1',
            rotationId: `r-${secret}`,
            deliver: () => {},
            journal,
          }),
        () =>
          rotateKeys(store, {
            keyIds: ['key_1'],
            batchId: `b-${secret}`,
            deliver: () => {},
            journal,
          }),
      ]
      for (const attempt of attempts) {
        const error = await attempt().then(
          () => undefined,
          (thrown: unknown) => thrown,
        )
        expect(error).toBeInstanceOf(ValidationError)
        expectNoSecret(error)
      }
    }
    expect(listings).toEqual([])
    expect(await journal.list()).toEqual([])
  })
})
