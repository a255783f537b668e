// The OpenRouter adapter's fixtures hold the vendor's payload shapes; the official SDK's
// schemas, generated from OpenRouter's OpenAPI spec, must read every one of them. The adapter
// is a dependency of this package so that a change to its fixtures runs these tests again.
import { readFile } from 'node:fs/promises'
import {
  badRequestResponseErrorDataFromJSON,
  forbiddenResponseErrorDataFromJSON,
  listKeyAssignmentsResponseFromJSON,
  listWorkspacesResponseFromJSON,
} from '@openrouter/sdk/models'
import type { SDKValidationError } from '@openrouter/sdk/models/errors'
import {
  createKeysResponseFromJSON,
  deleteKeysResponseFromJSON,
  getCurrentKeyResponseFromJSON,
  getKeyResponseFromJSON,
  listResponseFromJSON,
} from '@openrouter/sdk/models/operations'
import { describe, expect, it } from 'vitest'

const fixtures = new URL('../../../packages/openrouter/src/__fixtures__/', import.meta.url)

type Parse = (
  json: string,
) => { ok: true; value: unknown } | { ok: false; error: SDKValidationError }

/** Each fixture, and the SDK function that reads its kind of answer. */
const readers: Array<[string, Parse]> = [
  ['list-keys.json', listResponseFromJSON],
  ['get-key.json', getKeyResponseFromJSON],
  ['create-key.json', createKeysResponseFromJSON],
  ['delete-key.json', deleteKeysResponseFromJSON],
  ['current-key.json', getCurrentKeyResponseFromJSON],
  ['list-workspaces.json', listWorkspacesResponseFromJSON],
  ['key-assignments.json', listKeyAssignmentsResponseFromJSON],
  // The error readers take the `error` object inside the body.
  [
    'error-400.json',
    (json) => badRequestResponseErrorDataFromJSON(JSON.stringify(JSON.parse(json).error)),
  ],
  [
    'error-403.json',
    (json) => forbiddenResponseErrorDataFromJSON(JSON.stringify(JSON.parse(json).error)),
  ],
]

describe("the OpenRouter adapter's fixtures, read by the SDK", () => {
  it.each(readers)('%s', async (file, parse) => {
    const text = await readFile(new URL(file, fixtures), 'utf8')
    const result = parse(text)
    // On a mismatch, the SDK's own account of it (the field and what it expected).
    expect(result.ok ? 'parsed' : result.error.pretty()).toBe('parsed')
  })
})
